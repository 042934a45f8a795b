"""PostgreSQL: GIN indexes on the words of entity and alias keys (the
'simple' text-search configuration: every word, each part of a hyphenated
word), for suggestions and name look-ups by any word of a name; and the
most-read entities' keys in story order, and the active aliases' keys with
their entity, both readable from the index alone (entities/namewords.py)."""

from django.db import migrations

INDEXES = {
    "entity_key_words": "entities_entity",
    "alias_key_words": "entities_alias",
}


COVERING = {
    "entity_popular_names": "entities_entity (story_count DESC, id) INCLUDE (key, type)"
    " WHERE NOT blocked AND story_count > 0",
    "alias_key_names": "entities_alias (key varchar_pattern_ops) INCLUDE (entity_id)"
    " WHERE active",
}


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, table in INDEXES.items():
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON {table}"
                " USING gin (to_tsvector('simple'::regconfig, key))"
            )
        for name, definition in COVERING.items():
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in [*INDEXES, *COVERING]:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("entities", "0012_rule_confidence")]
    operations = [migrations.RunPython(forward, backward)]
