"""PostgreSQL: trigram index on entity keys for suggestions and "did you mean"."""

from django.db import migrations


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS entity_key_trgm ON entities_entity "
            "USING gin (key gin_trgm_ops)"
        )
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS entity_key_prefix ON entities_entity "
            "(key varchar_pattern_ops)"
        )
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS alias_key_prefix ON entities_alias "
            "(key varchar_pattern_ops)"
        )


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS entity_key_trgm")
        schema_editor.execute("DROP INDEX IF EXISTS entity_key_prefix")
        schema_editor.execute("DROP INDEX IF EXISTS alias_key_prefix")


class Migration(migrations.Migration):
    dependencies = [("entities", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
