"""Stored mentions get the refitted salience when the database is migrated."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from entities.scoring import salience

STORIES = ("articles", "0006_restore_sqlite_search_triggers")
BEFORE = [STORIES, ("entities", "0007_mention_rank_by_salience_fillfactor")]
AFTER = [STORIES, ("entities", "0008_mention_salience_refit")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_migrating_recomputes_the_salience_of_stored_mentions():
    try:
        apps = _migrate(BEFORE)
        Article = apps.get_model("articles", "Article")
        Entity = apps.get_model("entities", "Entity")
        Mention = apps.get_model("entities", "Mention")
        story = Article.objects.create(
            url="https://example.com/a", canonical_url="https://example.com/a", content_hash="a"
        )
        entity = Entity.objects.create(name="Erbil", key="erbil", slug="erbil", type="GPE")
        figures = {"count": 3, "in_title": False, "in_lead": True, "spread": 0.4}
        Mention.objects.create(article=story, entity=entity, salience=99.0, **figures)

        apps = _migrate(AFTER)

        stored = apps.get_model("entities", "Mention").objects.get().salience
        assert stored == pytest.approx(salience(**figures))
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
