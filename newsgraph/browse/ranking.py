"""Entity ranking: an entity's stories, most about it first (its stars, then
its salience in each) or newest first, read from the mentions table.

Mention.published_at (the story's date) lets both orders be read from an
index range (mention_entity_rank_idx, mention_entity_date_idx), so the cost
follows the page asked for, not the number of the entity's stories; so does
the count (at most COUNT_CAP rows, then the entity's rescored story count).
"""

from __future__ import annotations

from entities.models import Entity, Mention
from entities.selectors import once_a_group
from newsgraph.browse.filters import SearchFilters
from newsgraph.infra.ranked_ids import COUNT_CAP, RankedIds


def entity_story_ids(entity: Entity, filters: SearchFilters, *, order: str) -> RankedIds:
    qs = once_a_group(Mention.objects.filter(entity=entity))
    if filters.narrows_stories:
        qs = qs.filter(filters.article_q("article__"))
    qs = qs.newest_first() if order == "date" else qs.most_about_first()
    ids = qs.values_list("article_id", flat=True)
    if filters.narrows_stories:
        return RankedIds.of_values(ids)
    # An entity in 30 % of a million stories has 300,000: beyond COUNT_CAP
    # the total is the story count rescoring keeps (seconds behind at most).
    return RankedIds.of_values(ids, cap=COUNT_CAP, beyond_cap=lambda: entity.story_count)
