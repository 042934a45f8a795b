"""The SQLite FTS5 triggers, re-created by any migration that rebuilds
articles_article (see 0007)."""

import importlib

_search_index = importlib.import_module("articles.migrations.0002_search_index")


def restore_on_sqlite(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in _search_index.SQLITE_FORWARD:
            schema_editor.execute(statement)
