"""Atom feed of an entity's newest stories: `/entities/<slug>/feed/` (SPEC §2)."""

from __future__ import annotations

from django.contrib.syndication.views import Feed
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.feedgenerator import Atom1Feed

from articles.models import Article
from entities.models import Entity

FEED_ITEMS = 30


class EntityStoriesFeed(Feed):
    """Feed and entry ids default to absolute IRIs: the feed's own link and a
    tag: URI built from each story's link and date (RFC 4151)."""

    feed_type = Atom1Feed

    def get_object(self, request: HttpRequest, slug: str) -> Entity:
        return get_object_or_404(Entity.objects.visible(), slug=slug)

    def title(self, entity: Entity) -> str:
        return f"{entity.name} · newsgraph"

    def subtitle(self, entity: Entity) -> str:
        return f"The newest stories about {entity.name} ({entity.get_type_display()})."

    def link(self, entity: Entity) -> str:
        return entity.get_absolute_url()

    def author_name(self) -> str:
        return "newsgraph"

    def items(self, entity: Entity):
        return (
            Article.objects.filter(mentions__entity=entity)
            .select_related("source")
            .order_by("-published_at", "-id")[:FEED_ITEMS]
        )

    def item_title(self, article: Article) -> str:
        return article.title

    def item_description(self, article: Article) -> str:
        # Plain text; the syndication framework escapes it into the feed.
        lead = article.lead()
        return lead if len(lead) <= 500 else lead[:500].rsplit(" ", 1)[0] + "…"

    def item_link(self, article: Article) -> str:
        return article.get_absolute_url()

    def item_pubdate(self, article: Article):
        return article.published_at

    def item_updateddate(self, article: Article):
        return article.published_at

    def item_author_name(self, article: Article) -> str | None:
        return article.source.name if article.source else None
