"""manage.py export [--output FILE]: one JSON object per story."""

import json

from django.core.management.base import BaseCommand, CommandError
from django.db.models import F, OuterRef, Prefetch, Subquery

from articles.models import Article
from entities.models import Alias, Mention


class Command(BaseCommand):
    help = "Export stories with their entities and stars as JSON lines."

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", default="-", help="File to write (default: stdout).")

    def handle(self, *args, output, **options):
        mentions = (
            Mention.objects.visible()
            .select_related("entity")
            .prefetch_related(Prefetch("entity__aliases", queryset=Alias.objects.order_by("name")))
            .annotate(rank_score=F("salience") * F("entity__specificity"))
            .order_by("-stars", "-rank_score", "entity__name")
        )
        representatives = Article.objects.filter(pk=OuterRef("copy_of_id")).values("url")[:1]
        articles = (
            Article.objects.select_related("source")
            .annotate(copy_of_url=Subquery(representatives))
            .prefetch_related(Prefetch("mentions", queryset=mentions, to_attr="about"))
            .order_by("id")
        )
        try:
            handle = (
                self.stdout if output == "-" else open(output, "w", encoding="utf-8")  # noqa: SIM115
            )
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc.strerror}") from None
        count = 0
        try:
            for article in articles.iterator(chunk_size=500):
                # ending="" : OutputWrapper would otherwise add its own newline.
                line = json.dumps(self._record(article), ensure_ascii=False) + "\n"
                if handle is self.stdout:
                    handle.write(line, ending="")
                else:
                    handle.write(line)
                count += 1
        finally:
            if handle is not self.stdout:
                handle.close()
        self.stderr.write(
            f"export: {count} stories written to {'stdout' if output == '-' else output}"
        )

    @staticmethod
    def _record(article: Article) -> dict:
        return {
            "id": article.id,
            "url": article.url,
            "title": article.title,
            "published_at": article.published_at.isoformat() if article.published_at else None,
            "source": article.source.name if article.source else None,
            # The URL of the story this one is a copy of, null when none.
            "copy_of": article.copy_of_url,
            "language": article.language or None,  # ISO 639-1, as detected or set by editors
            "entities": [
                {
                    "name": m.entity.name,
                    "type": m.entity.type,
                    "stars": m.stars,
                    "score": round(m.score, 4),
                    "mentions": m.count,
                    "aliases": [a.name for a in m.entity.aliases.all()],
                }
                for m in article.about
            ],
        }
