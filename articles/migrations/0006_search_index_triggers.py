"""SQLite: the full-text index's triggers again, and the index rebuilt.

Adding a column with a default to articles_article (0005) makes Django's
SQLite schema editor rebuild the table, which drops the triggers that keep
articles_article_fts in step (0002): stories stored since were not found by
text search. Any later migration that rebuilds the table must do this again.
"""

import importlib

from django.db import migrations


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        # The same statements: CREATE ... IF NOT EXISTS, then 'rebuild'.
        search_index = importlib.import_module("articles.migrations.0002_search_index")
        for statement in search_index.SQLITE_FORWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("articles", "0005_date_source_language")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
