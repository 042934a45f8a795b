"""Salience with the weights fitted on the salience gold set (issue #13):

    salience = ln(1 + count) + 0.25·in_title + 0.75·in_lead + 0.25·spread

recomputed in one statement from each mention's stored figures (the weights
are written out here, as of this migration). Stars follow at the next full
rescoring (`manage.py rescore`, or the background task within
RESCORE_FULL_EVERY_SECONDS).
"""

from django.db import migrations
from django.db.models import Case, F, FloatField, Value, When
from django.db.models.functions import Ln


def refit(apps, schema_editor):
    Mention = apps.get_model("entities", "Mention")
    flag = lambda name, weight: Case(  # noqa: E731
        When(**{name: True}, then=Value(weight)), default=Value(0.0), output_field=FloatField()
    )
    Mention.objects.using(schema_editor.connection.alias).update(
        salience=Ln(Value(1.0) + F("count"))
        + flag("in_title", 0.25)
        + flag("in_lead", 0.75)
        + Value(0.25) * F("spread")
    )


def previous(apps, schema_editor):
    Mention = apps.get_model("entities", "Mention")
    flag = lambda name, weight: Case(  # noqa: E731
        When(**{name: True}, then=Value(weight)), default=Value(0.0), output_field=FloatField()
    )
    Mention.objects.using(schema_editor.connection.alias).update(
        salience=Ln(Value(1.0) + F("count"))
        + flag("in_title", 1.0)
        + flag("in_lead", 0.5)
        + Value(0.5) * F("spread")
    )


class Migration(migrations.Migration):
    dependencies = [("entities", "0007_mention_rank_by_salience_fillfactor")]
    operations = [migrations.RunPython(refit, previous)]
