"""SQLite: put the FTS5 sync triggers back and rebuild the index.

Adding a column with a default (0005) makes Django rebuild articles_article
on SQLite (new table, copy, drop, rename), which drops the triggers of
0002: stories added afterwards were missing from text search. Any later
migration that rebuilds the table must do the same.
"""

import importlib

from django.db import migrations

search_index = importlib.import_module("articles.migrations.0002_search_index")


class Migration(migrations.Migration):
    dependencies = [("articles", "0005_date_source_language")]
    operations = [migrations.RunPython(search_index.forward, migrations.RunPython.noop)]
