"""spaCy in a long-running worker: the StringStore does not grow with the corpus."""

from articles.models import Article
from articles.services import article_ingest
from entities import nlp
from entities.extraction import articles_extract
from entities.models import Entity


def _story(n: int) -> int:
    # Invented words, new to the model's vocabulary in every story.
    words = " ".join(f"Qzx{n}vel{i}" for i in range(20))
    return article_ingest(
        url=f"https://news.example.org/world/{n}/",
        title=f"Talks in Brenvoll{n}",
        text=f"Mayor Idris Kallvenor{n} met envoys in Brenvoll{n} on Monday. {words}.",
        enqueue=False,
    ).article.id


def test_extraction_frees_the_strings_each_batch_adds(db):
    articles_extract(article_ids=[_story(0)])  # model loaded, first strings settled
    strings = nlp.get_nlp().vocab.strings
    before = len(strings)

    for batch in range(3):
        articles_extract(article_ids=[_story(10 * batch + k) for k in range(1, 5)])

    assert len(strings) == before
    assert "Qzx11vel3" not in strings
    # The names themselves were kept where they belong: in the database.
    names = set(Entity.objects.values_list("name", flat=True))
    assert {"Idris Kallvenor11", "Idris Kallvenor24"} <= names
    assert set(Article.objects.values_list("status", flat=True)) == {"extracted"}
