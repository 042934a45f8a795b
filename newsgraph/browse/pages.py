"""The story page and the entity page's list of stories (SPEC §2, §3)."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Prefetch

from articles.models import Article
from articles.selectors import attach_copy_groups
from entities.models import Entity, Mention
from newsgraph.browse.about import AboutEntry, arrange_about_list, hydrate
from newsgraph.browse.filters import SearchFilters
from newsgraph.browse.highlight import highlighted_story
from newsgraph.browse.ranking import entity_story_ids


def stories_with_about_list():
    """Stories with their source and visible mentions (with entities) as
    `about`, in two queries."""
    visible = (
        Mention.objects.visible().select_related("entity").order_by("entity__name", "entity_id")
    )
    return (
        Article.objects.with_has_copies()
        .select_related("source")
        .defer("page_metadata")  # kept for re-dating, never shown
        .prefetch_related(Prefetch("mentions", queryset=visible, to_attr="about"))
    )


def article_detail(*, article_id: int) -> Article:
    article = stories_with_about_list().get(pk=article_id)
    article.title_html, article.paragraphs = highlighted_story(article)
    article.about = [AboutEntry.of(m) for m in article.about]
    arrange_about_list(article, about_order="name")
    attach_copy_groups([article])
    return article


def entity_stories(
    *, entity: Entity, order: str = "stars", page: int | str = 1, about_order: str = "name"
) -> Page:
    ids = entity_story_ids(entity, SearchFilters(), order=order)
    result_page = Paginator(ids, settings.SEARCH_PAGE_SIZE).get_page(page)
    hydrate(result_page, entity=entity, about_order=about_order)
    return result_page
