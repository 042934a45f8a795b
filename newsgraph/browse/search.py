"""The search page's results (SPEC §1): the latest stories, an entity's
stories followed by the other stories containing its name, or a plain text
search; with the entity card, "Did you mean" and trending entities.

Entity queries are answered from the mentions table (newsgraph/browse/ranking.py),
so their cost does not grow with the number of text matches; text queries go
through the stories' text search seam (articles/textsearch/).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db import DatabaseError

from articles.models import Article
from articles.textsearch import Condition, ranked_story_ids
from entities.models import Entity, EntityType, Mention
from entities.selectors import trending_entities
from newsgraph.browse.about import hydrate
from newsgraph.browse.filters import SearchFilters
from newsgraph.browse.query import clean_query, match_query
from newsgraph.browse.ranking import entity_story_ids
from newsgraph.browse.suggestions import nearest_entities
from newsgraph.infra.ranked_ids import COUNT_CAP, ChainedIds, RankedIds


@dataclass
class SearchResults:
    query: str
    mode: str  # "latest", "entity" or "text"
    page: Page
    entity: Entity | None = None
    # Several entities own the query's words: the ones it may mean, by stories.
    candidates: list[Entity] = field(default_factory=list)
    entity_type: str = ""
    did_you_mean: list[Entity] = field(default_factory=list)
    trending: list[Entity] = field(default_factory=list)
    error: str = ""
    # Entity mode: how many of the results are the entity's own stories (the
    # rest only contain the words).
    about_total: int | None = None
    # More stories contain the words than the TEXT_CANDIDATES that are ranked
    # (or, for the latest stories, than COUNT_CAP).
    more: bool = False

    @property
    def entity_type_label(self) -> str:
        return EntityType(self.entity_type).label if self.entity_type else ""

    @property
    def total(self) -> int:
        return self.page.paginator.count

    @property
    def text_only_total(self) -> int:
        return self.total - self.about_total if self.about_total is not None else 0

    @property
    def total_label(self) -> str:
        return f"{self.total:,}+" if self.more else str(self.total)

    @property
    def text_only_label(self) -> str:
        n = self.text_only_total
        return f"{n:,}+" if self.more else str(n)


def search(
    *,
    q: str,
    filters: SearchFilters | None = None,
    page: int | str = 1,
    about_order: str = "name",
) -> SearchResults:
    filters = filters or SearchFilters()
    q = clean_query(q)
    named = match_query(q, entity_type=filters.entity_type)
    entity = named.entity
    error = ""
    if not q:
        mode = "latest"
        ids = _latest_ids(filters)
    elif entity:
        # The stories about the entity, by its stars and score in each; then
        # the stories that only contain the words, by relevance and recency.
        mode = "entity"
        about_ids = entity_story_ids(entity, filters, order="stars")
        # A word of its name ("Sudani") is searched as typed too.
        also = [] if named.exact else [q]
        ids = ChainedIds(about_ids, _text_ids(q, filters, exclude_entity=entity, also=also))
    else:
        mode = "text"
        ids = _text_ids(q, filters)
    paginator = Paginator(ids, settings.SEARCH_PAGE_SIZE)
    try:
        result_page = paginator.get_page(page)
    except DatabaseError:
        # A query the search engine refuses is an empty result, not a 500.
        error = "That search could not be run; try simpler words."
        result_page = Paginator([], settings.SEARCH_PAGE_SIZE).get_page(1)
    hydrate(result_page, entity=entity, about_order=about_order, entity_type=filters.entity_type)
    results = SearchResults(
        query=q,
        mode=mode,
        page=result_page,
        entity=entity,
        candidates=named.candidates,
        entity_type=filters.entity_type,
        error=error,
    )
    if mode == "entity" and not error:
        results.about_total = about_ids.count()  # cached by the paginator's count
    if not error:
        results.more = ids.more()
    if mode == "latest" and not filters.narrows_stories:
        results.trending = [
            e
            for e in trending_entities()
            if e.type == filters.entity_type or not filters.entity_type
        ]
    # A near-miss name finds little: a query matching pages of stories was
    # understood, and comparing it with every entity name costs tens of ms.
    if q and not entity and not named.candidates and results.total < settings.SEARCH_PAGE_SIZE:
        results.did_you_mean = nearest_entities(q)
    return results


def _latest_ids(filters: SearchFilters) -> RankedIds:
    qs = (
        Article.objects.representatives()
        .filter(filters.article_q())
        .newest_first()
        .values_list("id", flat=True)
    )
    # Counting a million stories is ~200 ms on PostgreSQL: "500+ pages".
    return RankedIds.of_values(qs, cap=COUNT_CAP)


def _text_ids(
    q: str,
    filters: SearchFilters,
    *,
    exclude_entity: Entity | None = None,
    also: list[str] | None = None,
) -> RankedIds:
    """Stories whose title or text contains the words, best match first;
    or, given `exclude_entity`, any of its names as a phrase (acronyms in
    capitals) or of `also`, without the stories that mention it."""
    exclude, names = None, None
    if exclude_entity is not None:
        names = [*(also or []), *entity_names(exclude_entity)]
        exclude = Condition(
            f"SELECT 1 FROM {Mention._meta.db_table} m"
            " WHERE m.article_id = {story_id} AND m.entity_id = %s LIMIT 1",
            [exclude_entity.id],
        )
    return ranked_story_ids(q, names=names, where=filters.story_condition(), exclude=exclude)


def entity_names(entity: Entity) -> list[str]:
    """The names a story may call the entity by: its name and its active
    aliases (prefetched with it by match_query)."""
    aliases = [a.name for a in entity.aliases.all() if a.active]
    return [entity.name, *sorted(aliases, key=lambda n: (-len(n), n))]
