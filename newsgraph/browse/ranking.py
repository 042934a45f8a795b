"""Entity ranking: an entity's stories, most about it first (its stars, then
its salience in each) or newest first, read from the mentions table.

Mention.published_at (the story's date) lets both orders be read from an
index range (mention_entity_rank_idx, mention_entity_date_idx), so the cost
follows the page asked for, not the number of the entity's stories.
"""

from __future__ import annotations

from entities.models import Entity, Mention
from newsgraph.browse.filters import SearchFilters
from newsgraph.infra.ranked_ids import RankedIds


def entity_story_ids(entity: Entity, filters: SearchFilters, *, order: str) -> RankedIds:
    qs = Mention.objects.filter(entity=entity)
    if filters.active:
        qs = qs.filter(filters.article_q("article__"))
    qs = qs.newest_first() if order == "date" else qs.most_about_first()
    return RankedIds.of_values(qs.values_list("article_id", flat=True))
