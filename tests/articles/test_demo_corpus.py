"""The demo corpus that `make run` loads (articles/demo/stories.jsonl): well
formed, and rich enough to show what the product does once extracted."""

from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.db.models import Count

from articles.models import Article
from articles.services import articles_enqueue_extraction, record_ingest
from articles.text import iter_jsonl
from entities.models import Entity, Mention

DEMO = Path(settings.BASE_DIR) / "articles" / "demo" / "stories.jsonl"
FIELDS = ("url", "title", "text", "published_at", "source")


def _records() -> list[dict]:
    with DEMO.open("rb") as handle:
        parsed = list(iter_jsonl(handle))
    errors = [(number, error) for number, _, error in parsed if error]
    assert not errors, errors
    return [record for _, record, _ in parsed]


def test_demo_corpus_is_well_formed():
    records = _records()
    assert len(records) >= 60
    for record in records:
        missing = [name for name in FIELDS if not record.get(name)]
        assert not missing, (record.get("url"), missing)
        assert all(isinstance(record[name], str) for name in FIELDS)
        assert datetime.fromisoformat(record["published_at"]).tzinfo is not None
        assert 2 <= len(record["text"].split("\n\n")) <= 5, record["url"]
    urls = Counter(record["url"] for record in records)
    assert [url for url, n in urls.items() if n > 1] == []
    assert len({record["text"] for record in records}) == len(records)
    assert len({record["source"] for record in records}) >= 4


@pytest.mark.django_db
def test_demo_corpus_extracts_recurring_entities(django_capture_on_commit_callbacks):
    records = _records()
    ids = []
    for record in records:
        result = record_ingest(record=record, enqueue=False)
        assert result.created, record["url"]
        ids.append(result.article.id)
    # As `manage.py ingest` does: extraction in batches, here run in-process
    # by the eager Celery of the test settings once the "commit" happens.
    with django_capture_on_commit_callbacks(execute=True):
        articles_enqueue_extraction(article_ids=ids)

    assert Article.objects.count() == len(records)
    assert not Article.objects.exclude(status=Article.Status.EXTRACTED).exists()

    sudani = Entity.objects.get(name="Mohammed al-Sudani")
    assert sudani.type == "PERSON"
    assert any("Sudani" in mention.surfaces.split("\n") for mention in sudani.mentions.all())
    assert not Entity.objects.filter(name="Sudani").exists()

    pmf = Entity.objects.get(name="Popular Mobilization Forces")
    assert any("PMF" in mention.surfaces.split("\n") for mention in pmf.mentions.all())
    assert not Entity.objects.filter(name="PMF").exists()

    counts = Entity.objects.annotate(stories=Count("mentions__article", distinct=True))
    assert counts.filter(stories__gte=10).exists()
    assert Entity.objects.filter(story_count__gte=10).exists()  # rescoring ran

    stars = set(Mention.objects.values_list("stars", flat=True))
    assert stars == {1, 2, 3, 4}
