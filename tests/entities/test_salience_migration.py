"""Stored mentions get the refitted salience when the database is migrated."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from entities.salience import mention_stats

STORIES = ("articles", "0006_page_metadata_language_index")
BEFORE = [STORIES, ("entities", "0008_corpus_identity")]
AFTER = [STORIES, ("entities", "0009_mention_salience_refit")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_migrating_recomputes_the_salience_of_stored_mentions():
    title, text = (
        "Talks in Erbil",
        "Envoys met in Erbil on Monday.\n\nErbil has hosted Kurdish talks.",
    )
    spans = {
        "in the title and after": [[9, 14], [30, 35], [48, 53]],
        "late": [[48, 53]],
        "none": [],
    }
    try:
        apps = _migrate(BEFORE)
        Article = apps.get_model("articles", "Article")
        Entity = apps.get_model("entities", "Entity")
        Mention = apps.get_model("entities", "Mention")
        story = Article.objects.create(
            url="https://example.com/a",
            canonical_url="https://example.com/a",
            content_hash="a",
            title=title,
            text=text,
        )
        for n, name in enumerate(spans):
            entity = Entity.objects.create(name=name, key=name, slug=f"e{n}", type="GPE")
            stats = mention_stats(spans[name], title=title, text=text)
            stats["salience"] = 99.0
            Mention.objects.create(article=story, entity=entity, spans=spans[name], **stats)

        apps = _migrate(AFTER)

        stored = dict(
            apps.get_model("entities", "Mention").objects.values_list("entity__name", "salience")
        )
        for name, where in spans.items():
            expected = mention_stats(where, title=title, text=text)["salience"]
            assert stored[name] == pytest.approx(expected), name
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
