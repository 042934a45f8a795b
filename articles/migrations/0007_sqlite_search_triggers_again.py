"""SQLite: put back the full-text triggers and rebuild the index.

Adding or altering a column of articles_article on SQLite makes Django copy the
table and drop the old one, and the FTS5 triggers of 0002 go with it: after
0005 new and edited stories stopped reaching text search. Any later migration
that changes articles_article must end the same way.
"""

from django.db import migrations

from articles.migrations import _search_triggers


class Migration(migrations.Migration):
    dependencies = [("articles", "0006_page_metadata_language_index")]
    operations = [
        migrations.RunPython(_search_triggers.restore_on_sqlite, migrations.RunPython.noop)
    ]
