"""Mention.published_at: the story's date on each mention, so an entity's
ranked and newest-first story lists are index range scans (issue #6)."""

from django.db import migrations, models

FILL = {
    # Set-based: one statement for all rows (3 million at 100k stories).
    "postgresql": (
        "UPDATE entities_mention AS m SET published_at = a.published_at"
        " FROM articles_article AS a WHERE a.id = m.article_id"
    ),
    "sqlite": (
        "UPDATE entities_mention SET published_at = a.published_at"
        " FROM articles_article AS a WHERE a.id = entities_mention.article_id"
    ),
}


def fill(apps, schema_editor):
    connection = schema_editor.connection
    sql = FILL.get(connection.vendor)
    if sql is None:  # another backend: portable, slower
        Mention = apps.get_model("entities", "Mention")
        Article = apps.get_model("articles", "Article")
        Mention.objects.update(
            published_at=models.Subquery(
                Article.objects.filter(pk=models.OuterRef("article_id")).values("published_at")[:1]
            )
        )
        return
    with connection.cursor() as cursor:
        cursor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0004_feeds"),
        ("entities", "0003_mention_fewer_indexes"),
    ]

    operations = [
        # The old rank index goes first, so filling the column rewrites fewer
        # indexes; the new ones are built once, on the filled column.
        migrations.RemoveIndex(model_name="mention", name="mention_entity_rank_idx"),
        migrations.AddField(
            model_name="mention",
            name="published_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="mention",
            index=models.Index(
                models.F("entity"),
                models.F("stars").desc(),
                models.F("score").desc(),
                models.F("published_at").desc(),
                models.F("article_id").desc(),
                name="mention_entity_rank_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="mention",
            index=models.Index(
                models.F("entity"),
                models.F("published_at").desc(),
                models.F("article_id").desc(),
                name="mention_entity_date_idx",
            ),
        ),
    ]
