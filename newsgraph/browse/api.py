"""JSON API at /api/ (SPEC §7), documented by the OpenAPI schema at
/api/openapi.json.

Thin on purpose: every endpoint calls the same selectors as the HTML pages,
so the API's search has the page's parameters and the page's ranking.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from django.conf import settings
from django.core.paginator import Page
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Field, NinjaAPI, Path, Status

from articles.models import Article, Source
from articles.selectors import attach_copy_groups
from entities import selectors as entity_selectors
from entities.models import Entity, EntityType
from newsgraph.browse import pages
from newsgraph.browse.about import AboutEntry, no_entities_note
from newsgraph.browse.api_schemas import (
    EntityOut,
    Invalid,
    Message,
    Moved,
    SearchOut,
    StoryDetailOut,
    SuggestOut,
)
from newsgraph.browse.filters import SearchFilters
from newsgraph.browse.search import search as search_stories
from newsgraph.browse.suggestions import entity_summary, suggestions
from newsgraph.infra.addresses import address

MAX_ID = 2**63 - 1  # the largest BigAutoField value: larger ids cannot exist
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

api = NinjaAPI(
    title="newsgraph API",
    version="1",
    description=(
        "Browse the news by the people, places and organisations in it. "
        "Search takes the same parameters as the search page and ranks the same way."
    ),
    urls_namespace="api",
    # The interactive docs need ninja's bundled Swagger UI, served as static
    # files only when "ninja" is an installed app; never from a CDN.
    docs_url="/docs/" if "ninja" in settings.INSTALLED_APPS else None,
)


# --- helpers ---------------------------------------------------------------------------


def _moved(slug: str, response: HttpResponse) -> Status:
    """Where an entity no longer at `slug` went (SPEC §11)."""
    address = entity_selectors.entity_address(slug)
    if address.entity is None or not (address.gone or address.moved):
        return Status(404, {"detail": "No such entity."})
    if address.gone:
        return Status(
            410,
            {
                "detail": "Editors removed this entity (not a real name).",
                "redirect": None,
                "merged_into": None,
            },
        )
    redirect = reverse("api:entity_detail", kwargs={"slug": address.entity.slug})
    response["Location"] = redirect
    return Status(
        301,
        {
            "detail": "Merged into another entity." if address.merged else "Renamed.",
            "redirect": redirect,
            "merged_into": _entity_ref(address.entity) if address.merged else None,
        },
    )


def _clean(text: str) -> str:
    """User text without control characters (PostgreSQL refuses NUL)."""
    return _CONTROL.sub(" ", text or "")


def _entity_ref(entity: Entity | AboutEntry) -> dict:
    """An Entity, or an about-list entry's entity (same attribute names)."""
    return {
        **entity_summary(entity),
        "slug": entity.slug,
        "api_url": address("api:entity_detail", entity.slug, kwarg="slug"),
    }


def _about(entry: AboutEntry) -> dict:
    return {
        "entity": _entity_ref(entry),
        "stars": entry.stars,
        "stars_label": entry.stars_label,
        "score": entry.score,
    }


def _story(article: Article) -> dict:
    about = [*getattr(article, "about_shown", []), *getattr(article, "about_more", [])]
    return {
        "id": article.pk,
        "title": article.title,
        "url": article.url,
        "page_url": article.get_absolute_url(),
        "api_url": address("api:story_detail", article.pk, kwarg="story_id"),
        "breadcrumb": article.breadcrumb,
        "source": article.source.name if article.source else None,
        **_dating(article),
        "snippet_html": str(getattr(article, "snippet", "") or ""),
        "about": [_about(m) for m in about],
        **_copy_group(article),
    }


def _copy_group(article: Article) -> dict:
    """`copy_of` and `copies` from the story's `copy_group` (attach_copy_groups)."""
    group = getattr(article, "copy_group", None)
    if group is None:
        return {"copy_of": None, "copies": []}
    return {
        "copy_of": group.representative.url if group.is_copy else None,
        "copies": [
            {
                "id": other.pk,
                "title": other.title,
                "url": other.url,
                "page_url": other.get_absolute_url(),
                "source": other.source.name if other.source else None,
                "published_at": other.published_at,
                "representative": other.copy_of_id is None,
            }
            for other in group.others
        ],
    }


def _dating(article: Article) -> dict:
    return {
        "published_at": article.published_at,
        "date_source": article.date_source,
        "language": article.language,
        "entities_note": no_entities_note(article),
    }


def _page_fields(page: Page) -> dict:
    return {
        "page": page.number,
        "num_pages": page.paginator.num_pages,
        "page_size": page.paginator.per_page,
        "total": page.paginator.count,
        "results": [_story(a) for a in page.object_list],
    }


PageNumber = Annotated[int, Field(ge=1, le=1_000_000, description="1-based page number.")]
AboutOrder = Annotated[
    Literal["name", "stars"], Field(description="Order of each story's about-list.")
]


# --- endpoints -------------------------------------------------------------------------


@api.get(
    "/search/",
    response={200: SearchOut, 422: Invalid},
    summary="Search stories",
    tags=["search"],
)
def search(
    request: HttpRequest,
    q: Annotated[str, Field(max_length=200, description="A name or words.")] = "",
    date_from: date | None = None,
    date_to: date | None = None,
    source: Annotated[int | None, Field(ge=1, le=MAX_ID, description="Source id.")] = None,
    type: Annotated[
        EntityType | None,
        Field(
            description="Only entities of this type in the card and about-lists; not the stories."
        ),
    ] = None,  # the page calls it "type" too
    language: Annotated[
        str,
        Field(
            max_length=12,
            pattern=r"^([a-z]{2,3}(-[A-Za-z0-9]{1,8})?)?$",
            description='Only stories in this language (ISO 639-1 code, e.g. "en", "ru").',
        ),
    ] = "",
    about: AboutOrder = "name",
    page: PageNumber = 1,
):
    """The search page as JSON: an entity's stories ranked by its stars and
    score in each, then full-text relevance, then recency; words that name no
    entity are a full-text search. An empty query lists the latest stories
    and the entities trending this week."""
    if date_to is not None and date_to >= date.max:
        date_to = None  # "until the end of time": no upper bound (and no overflow)
    if date_from and date_to and date_from > date_to:
        return Status(422, {"detail": "date_from is after date_to."})
    source_obj = None
    if source is not None:
        source_obj = Source.objects.filter(pk=source).first()
        if source_obj is None:
            return Status(422, {"detail": f"No source with id {source}."})
    filters = SearchFilters(
        date_from=date_from,
        date_to=date_to,
        source=source_obj,
        entity_type=type.value if type else "",
        language=language,
    )
    results = search_stories(q=_clean(q), filters=filters, page=page, about_order=about)
    entity = results.entity
    return Status(
        200,
        {
            "query": results.query,
            "mode": results.mode,
            "entity": _entity_ref(entity) if entity else None,
            "aliases": entity.known_as if entity else [],
            "did_you_mean": [_entity_ref(e) for e in results.did_you_mean],
            "trending": [
                {**_entity_ref(e), "week": getattr(e, "week", 0)} for e in results.trending
            ],
            "error": results.error,
            "total_is_capped": results.more,
            **_page_fields(results.page),
        },
    )


@api.get(
    "/entities/{slug}/",
    response={200: EntityOut, 301: Moved, 404: Message, 410: Moved, 422: Invalid},
    summary="An entity and its stories",
    url_name="entity_detail",
    tags=["entities"],
)
def entity_detail(
    request: HttpRequest,
    response: HttpResponse,
    slug: Annotated[str, Path(max_length=220, pattern=r"^[-a-zA-Z0-9_]+$")],
    order: Literal["stars", "date"] = "stars",
    about: AboutOrder = "name",
    page: PageNumber = 1,
):
    """Name, type, aliases, first and last seen, stories per week, related
    entities (by lift) and the entity's stories, paged, by stars or date. An
    old address answers 301 with where the entity went (`redirect`, and
    `merged_into` for a merged one); a blocked entity's 410."""
    entity = Entity.objects.visible().prefetch_related("aliases").filter(slug=slug).first()
    if entity is None:
        return _moved(slug, response)
    span = entity_selectors.entity_span(entity)
    stories = pages.entity_stories(entity=entity, order=order, page=page, about_order=about)
    profile = entity_selectors.entity_profile(entity)
    return Status(
        200,
        {
            **_entity_ref(entity),
            "stories": span.stories,
            "aliases": entity.known_as,
            "first_seen": span.first_seen,
            "last_seen": span.last_seen,
            "feed_url": reverse("entities:feed", args=[entity.slug]),
            "weekly": [{"week": w.week, "stories": w.stories} for w in profile.weeks],
            "related": [
                {"entity": _entity_ref(r.entity), "together": r.together, "lift": r.lift}
                for r in profile.related
            ],
            "order": order,
            **_page_fields(stories),
        },
    )


@api.get(
    "/stories/{story_id}/",
    response={200: StoryDetailOut, 404: Message, 422: Invalid},
    summary="A story with its entities and their mention offsets",
    url_name="story_detail",
    tags=["stories"],
)
def story_detail(request: HttpRequest, story_id: Annotated[int, Path(ge=1, le=MAX_ID)]):
    try:
        article = pages.stories_with_about_list().get(pk=story_id)
    except Article.DoesNotExist:
        return Status(404, {"detail": "No such story."})
    attach_copy_groups([article])
    mentions = sorted(article.about, key=lambda m: (-m.stars, -m.score, m.entity.name))
    return Status(
        200,
        {
            "id": article.pk,
            "title": article.title,
            "text": article.text,
            "url": article.url,
            "page_url": article.get_absolute_url(),
            "breadcrumb": article.breadcrumb,
            "source": article.source.name if article.source else None,
            **_dating(article),
            "status": article.status,
            **_copy_group(article),
            "mentions": [
                {
                    **_about(AboutEntry.of(m)),
                    "count": m.count,
                    "spans": [list(s) for s in m.spans],
                }
                for m in mentions
            ],
        },
    )


@api.get(
    "/suggest/",
    response={200: SuggestOut, 422: Invalid},
    summary="Entity suggestions for a partly typed name",
    tags=["search"],
)
def suggest(
    request: HttpRequest,
    q: Annotated[str, Field(max_length=100)] = "",
    type: EntityType | None = None,
):
    """Entities with a name or alias having a word that starts like the text
    ("sud" finds Mohammed al-Sudani), most stories first; of `type` only."""
    kind = type.value if type else ""
    return {"results": suggestions(_clean(q), row=_entity_ref, entity_type=kind)}
