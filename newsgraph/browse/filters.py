"""The search filters: date range, source and language as conditions on
stories; the entity type narrows the entities shown (the card, about-lists,
suggestions), never the stories (SPEC §13)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from django.db.models import Q
from django.utils import timezone

from articles.models import Article, Source
from articles.textsearch import Condition


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
        return q

    @property
    def active(self) -> bool:
        """Any filter is set (the page shows the filters open)."""
        return self.narrows_stories or bool(self.entity_type)

    @property
    def narrows_stories(self) -> bool:
        return bool(self.date_from or self.date_to or self.source or self.language)

    def story_condition(self) -> Condition:
        """The filters as SQL on the story id, for text search; a copy group
        is found once, as its representative."""
        once = "a.copy_of_id IS NULL"
        if not self.narrows_stories:
            return Condition(once)
        sql, params = Article.objects.filter(self.article_q()).values("id").query.sql_with_params()
        return Condition(f"{once} AND a.id IN ({sql})", list(params))
