"""Salience with the weights fitted on the salience gold set (issue #13):

    salience = ln(1 + count) + 0.25·in_title + 0.75·in_lead + 0.25·spread
               + 0.25·(1 − first)

`first`: where the first mention starts (the smallest span start), as a
share of the story NER reads (title + two characters + text); 1 without
spans. Recomputed in one statement from each mention's stored figures and
spans, the weights written out as of this migration. Stars follow at the
next full rescoring (`manage.py rescore`, or the background task within
RESCORE_FULL_EVERY_SECONDS).
"""

from django.db import migrations
from django.db.models import Case, F, FloatField, Value, When
from django.db.models.functions import Ln

SQLITE = """
UPDATE entities_mention SET salience = LN(1.0 + count) + 0.25 * in_title + 0.75 * in_lead
    + 0.25 * spread + 0.25 * (1.0 - COALESCE(
        (SELECT MIN(json_extract(j.value, '$[0]')) FROM json_each(entities_mention.spans) j)
        * 1.0 / (SELECT LENGTH(a.title) + 2 + LENGTH(a.text) FROM articles_article a
                 WHERE a.id = entities_mention.article_id),
        1.0))
"""
POSTGRES = """
UPDATE entities_mention m SET salience = LN(1.0 + m.count) + 0.25 * m.in_title::int
    + 0.75 * m.in_lead::int + 0.25 * m.spread + 0.25 * (1.0 - COALESCE(
        (SELECT MIN((e ->> 0)::float8) FROM jsonb_array_elements(m.spans) e)
        / (char_length(a.title) + 2 + char_length(a.text)),
        1.0))
FROM articles_article a WHERE a.id = m.article_id
"""


def refit(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    schema_editor.execute(POSTGRES if vendor == "postgresql" else SQLITE)


def previous(apps, schema_editor):
    """The formula before: ln(1 + count) + 1.0·in_title + 0.5·in_lead + 0.5·spread."""
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
    dependencies = [("entities", "0008_corpus_identity")]
    operations = [migrations.RunPython(refit, previous)]
