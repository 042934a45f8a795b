"""PostgreSQL full-text search: a stored, weighted tsvector kept up to date by
the database (title A, text B; the config is pinned because generated columns
need immutable expressions) and a GIN index. SQLite uses FTS5 (0002)."""

from django.db import migrations

FORWARD = [
    """ALTER TABLE articles_article ADD COLUMN IF NOT EXISTS search_vector tsvector
        GENERATED ALWAYS AS (
            setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') ||
            setweight(to_tsvector('english'::regconfig, coalesce(text, '')), 'B')
        ) STORED""",
    "CREATE INDEX IF NOT EXISTS article_search_gin ON articles_article USING gin (search_vector)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS article_search_gin",
    "ALTER TABLE articles_article DROP COLUMN IF EXISTS search_vector",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("articles", "0002_search_index")]
    operations = [migrations.RunPython(forward, backward)]
