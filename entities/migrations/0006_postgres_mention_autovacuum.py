"""PostgreSQL: vacuum the mentions table after thousands of changes, not after
20 % of it (600,000 rows at 100,000 stories).

The pages read mentions with index-only scans, which stay index-only only
while the visibility map is current: after 2,000 new stories and their
rescoring, the entity page's queries did 12,000 heap fetches and took 1.5×
as long, and the default thresholds would not vacuum for months.
"""

from django.db import migrations

SETTINGS = (
    "autovacuum_vacuum_scale_factor = 0.005, autovacuum_vacuum_insert_scale_factor = 0.005,"
    " autovacuum_analyze_scale_factor = 0.02"
)


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE entities_mention SET ({SETTINGS})")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        names = ", ".join(part.split("=")[0].strip() for part in SETTINGS.split(","))
        schema_editor.execute(f"ALTER TABLE entities_mention RESET ({names})")


class Migration(migrations.Migration):
    dependencies = [("entities", "0005_mention_score_on_read")]

    operations = [migrations.RunPython(forward, backward)]
