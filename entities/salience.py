"""The salience formula and its features, specificity and the star bands:
pure functions of numbers and text, no database (the set-based SQL that
applies them to the corpus is entities/scoring.py).

    salience    = ln(1 + mentions) + 0.25·in_title + 0.75·in_lead + 0.25·spread
                  + 0.25·(1 − first)
    specificity = min(1, ln(1 + N / df) / ln(1 + 1 / 0.1))
                  N: extracted stories, df: stories with the entity
    score       = salience × specificity

`first` is where the first mention starts, as a share of the story (title,
then text): 0 in the title's first word, near 1 at the end.

Weights fitted on the salience gold set (bench.salience --fit, issue #13):
readers' one-sentence summaries name the entities a story mentions often and
early; how rare an entity is across the corpus does not predict it (an IDF
factor lowered the correlation with the summaries). So specificity only
discounts the entities in more than one story in ten (FULLY_SPECIFIC_SHARE),
down to 0.29 for an entity in every story, and is 1 for all the others. The
position of the first mention matters most among the many names a story
mentions once in passing: without it they all score alike, and such a tie
cannot be split between star bands.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

STAR_SHARES = (0.30, 0.35, 0.20, 0.15)
# Salience weights (bench.salience --fit): mentions after resolution count
# most, then the first paragraph; the title, the spread and an early first
# mention add little once those are known, but the first mention's position
# tells apart the names mentioned once in passing.
TITLE_WEIGHT, LEAD_WEIGHT, SPREAD_WEIGHT, EARLY_WEIGHT = 0.25, 0.75, 0.25, 0.25
# An entity in at most this share of the stories is fully specific
# (specificity 1); above it, specificity falls with ln(1 + N / df).
FULLY_SPECIFIC_SHARE = 0.1
SPECIFICITY_SCALE = math.log1p(1 / FULLY_SPECIFIC_SHARE)


def mention_stats(
    spans: Sequence[Sequence[int]], *, title: str, text: str
) -> dict[str, float | int | bool]:
    """The salience features of one entity's mentions in a story (`spans`:
    offsets into "title\n\ntext", as extraction stores them) and the
    salience they give."""
    body_start = len(title) + 2
    lead_end = body_start + len(text.strip().split("\n\n", 1)[0])
    starts = [start for start, _ in spans]
    body = [s for s in starts if s >= body_start]
    spread = (max(body) - min(body)) / len(text) if len(body) > 1 and text else 0.0
    stats = {
        "count": len(starts),
        "in_title": any(s < len(title) for s in starts),
        "in_lead": any(body_start <= s < lead_end for s in starts),
        "spread": round(min(spread, 1.0), 4),
    }
    stats["salience"] = salience(
        count=stats["count"],
        in_title=stats["in_title"],
        in_lead=stats["in_lead"],
        spread=stats["spread"],
        first=min(starts) / (body_start + len(text)) if starts else 1.0,
    )
    return stats


def salience(
    *, count: int, in_title: bool, in_lead: bool, spread: float, first: float = 1.0
) -> float:
    """How much a story is about an entity. `first`: where its first mention
    starts, as a share of the story (0: the title's first word; 1, the
    default, counts nothing for position)."""
    return (
        math.log1p(count)
        + TITLE_WEIGHT * in_title
        + LEAD_WEIGHT * in_lead
        + SPREAD_WEIGHT * max(0.0, min(spread, 1.0))
        + EARLY_WEIGHT * (1.0 - max(0.0, min(first, 1.0)))
    )


def specificity(*, stories: int, stories_with_entity: int) -> float:
    """1 for an entity in at most FULLY_SPECIFIC_SHARE of the stories, less
    for commoner ones; _update_specificity computes the same in SQL."""
    if not stories_with_entity:
        return 0.0
    if stories_with_entity <= stories * FULLY_SPECIFIC_SHARE:
        return 1.0
    return min(1.0, math.log1p(stories / stories_with_entity) / SPECIFICITY_SCALE)


def star_cutoffs(sorted_scores_count: int) -> list[int]:
    """Positions (0-based, ascending order) of the last pair of each of the
    first three star bands."""
    cutoffs, cumulative = [], 0.0
    for share in STAR_SHARES[:-1]:
        cumulative += share
        cutoffs.append(max(0, math.ceil(cumulative * sorted_scores_count) - 1))
    return cutoffs
