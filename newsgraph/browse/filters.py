"""The search filters (date range, source, language, entity type) as conditions on stories."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from articles.models import Article, Source
from articles.textsearch import Condition
from entities.models import Mention


@dataclass
class SearchFilters:
    date_from: date | None = None
    date_to: date | None = None
    source: Source | None = None
    entity_type: str = ""
    language: str = ""

    def article_q(self, prefix: str = "") -> Q:
        q = Q()
        if self.date_from:
            start = timezone.make_aware(datetime.combine(self.date_from, time.min))
            q &= Q(**{f"{prefix}published_at__gte": start})
        if self.date_to:
            # The end of that day, inclusive (no "+ 1 day": 9999-12-31 must not overflow).
            end = timezone.make_aware(datetime.combine(self.date_to, time.max))
            q &= Q(**{f"{prefix}published_at__lte": end})
        if self.source:
            q &= Q(**{f"{prefix}source": self.source})
        if self.language:
            q &= Q(**{f"{prefix}language": self.language})
        if self.entity_type:
            typed = Mention.objects.filter(
                article_id=OuterRef(f"{prefix}id" if prefix else "id"),
                entity__type=self.entity_type,
                entity__blocked=False,
            )
            q &= Q(Exists(typed))
        return q

    @property
    def active(self) -> bool:
        return bool(
            self.date_from or self.date_to or self.source or self.entity_type or self.language
        )

    def story_condition(self) -> Condition:
        """The filters as SQL on the story id, for text search; a copy group
        is found once, as its representative."""
        once = "a.copy_of_id IS NULL"
        if not self.active:
            return Condition(once)
        sql, params = Article.objects.filter(self.article_q()).values("id").query.sql_with_params()
        return Condition(f"{once} AND a.id IN ({sql})", list(params))
