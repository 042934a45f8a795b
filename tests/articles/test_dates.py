"""Where a story's date comes from is recorded (issue #12): a story without one
is dated when ingested, and says so."""

from articles.models import Article
from articles.services import article_ingest


def test_a_story_without_a_date_is_dated_at_ingest_and_marked(db):
    story = article_ingest(url="https://example.com/a", text="Undated text.", enqueue=False)
    assert story.article.date_source == Article.DateSource.INGESTED


def test_a_given_date_is_kept_and_marked_as_given(db):
    story = article_ingest(
        url="https://example.com/b",
        text="Dated text.",
        published_at="2025-02-01T08:00:00Z",
        enqueue=False,
    )
    assert story.article.published_at.isoformat() == "2025-02-01T08:00:00+00:00"
    assert story.article.date_source == Article.DateSource.GIVEN
