"""The SQLite full-text index stays in step with stories after every migration
(a migration that remakes the stories table drops its triggers)."""

import pytest
from django.db import connection

from articles.textsearch import article_ids_containing
from tests.factories import ArticleFactory


@pytest.mark.django_db
def test_stories_added_edited_and_deleted_reach_the_text_index():
    story = ArticleFactory(title="Kettles tested", text="Researchers tested kettles.")
    other = ArticleFactory(title="Toasters", text="Toasters were fine.")
    assert article_ids_containing("kettles") == [story.id]
    other.text = "Toasters and kettles were fine."
    other.save()
    assert sorted(article_ids_containing("kettles")) == sorted([story.id, other.id])
    story.delete()
    assert article_ids_containing("kettles") == [other.id]


@pytest.mark.django_db
def test_the_sqlite_triggers_exist():
    if connection.vendor != "sqlite":
        pytest.skip("the triggers are SQLite's; PostgreSQL indexes a generated column")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        triggers = {row[0] for row in cursor.fetchall()}
    assert {
        "articles_article_fts_ai",
        "articles_article_fts_ad",
        "articles_article_fts_au",
    } <= triggers
