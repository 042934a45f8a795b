"""PostgreSQL: a GIN index on the stories' words as written (the 'simple'
configuration: unstemmed, no stop words), for the words a search takes as
typed (acronyms, words of three letters or fewer: articles/textsearch/terms.py)
that the stemmed English vector merges ("us"/"use") or drops ("who", "it").
An expression index, not a stored column: the query repeats the expression
(articles/textsearch/postgres.py SIMPLE_VECTOR)."""

from django.db import migrations

FORWARD = [
    "CREATE INDEX IF NOT EXISTS article_simple_search_gin ON articles_article USING gin ("
    "to_tsvector('simple'::regconfig, coalesce(title, '') || ' ' || coalesce(text, '')))"
]
BACKWARD = ["DROP INDEX IF EXISTS article_simple_search_gin"]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("articles", "0009_copy_groups")]
    operations = [migrations.RunPython(forward, backward)]
