"""The salience formula and its features, specificity and the star bands:
pure functions of numbers and text, no database (the set-based SQL that
applies them to the corpus is entities/scoring.py).

    salience    = ln(1 + mentions) + 0.25·in_title + 0.75·in_lead + 0.25·spread
                  + 0.25·(1 − first)
    specificity = min(1, ln(1 + N / df) / ln(1 + 1 / 0.1))
                  N: extracted stories, df: stories with the entity
    score       = salience × specificity
    stars       = the most stars whose two floors the score reaches:
                  its own floor (STAR_FLOORS) and its share of the story's
                  top score (STAR_RATIOS)

`first` is where the first mention starts, as a share of the story (title,
then text): 0 in the title's first word, near 1 at the end.

Weights fitted on the salience gold set (bench.salience --fit, issue #13):
readers' one-sentence summaries name the entities a story mentions often and
early; how rare an entity is across the corpus does not predict it (an IDF
factor lowered the correlation with the summaries). So specificity only
discounts the entities in more than one story in ten (FULLY_SPECIFIC_SHARE),
down to 0.29 for an entity in every story, and is 1 for all the others. The
position of the first mention matters most among the many names a story
mentions once in passing.

Stars follow what the story does with the name (issue #23), not corpus-wide
shares: filling 30/35/20/15 % of all pairs lifted most of the thirty names
a story mentions in passing above ★, and readers name none of them. A pair
gets n stars when its score reaches both floors of band n:

* the absolute floor, the salience of a reference mention (of a fully
  specific entity): ★★ needs more than a single passing mention (twice, or
  once in the title or first paragraph); ★★★ being named in the first
  paragraph and again; ★★★★ being in the title and the first paragraph and
  named again — the name readers keep;
* the relative floor, a share of the story's top score: ★★★★ for the
  story's leading names (at least 3/4 of the top), ★★★ for at least half
  of it, ★★ for at least a third; so a side name stays low even in a story
  full of names.

Specificity tempers both (they compare scores): an entity in most stories
falls below the ★★★★ floor however loud it is. Monotone: a higher score in
the same story never has fewer stars (so neither does a more prominent nor
a rarer entity), and the stars are a pure function of the story's scores.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

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


# The absolute floors of ★★, ★★★ and ★★★★: the salience of a reference
# mention (see the module's docstring), computed by `salience` below.
STAR_REFERENCES = (
    {"count": 2, "in_title": False, "in_lead": False, "spread": 0.0},
    {"count": 2, "in_title": False, "in_lead": True, "spread": 0.0},
    {"count": 2, "in_title": True, "in_lead": True, "spread": 0.0},
)
# The relative floors of ★★, ★★★ and ★★★★: shares of the story's top score.
STAR_RATIOS = (1 / 3, 1 / 2, 3 / 4)


def stars(*, score: float, top: float) -> int:
    """The stars of a pair scoring `score` in a story whose highest score
    (over its visible entities) is `top`; scoring._update_stars computes the
    same in SQL."""
    result = 1
    for n, (floor, ratio) in enumerate(zip(STAR_FLOORS, STAR_RATIOS, strict=True), start=2):
        if score >= floor and score >= ratio * top:
            result = n
    return result


STAR_FLOORS = tuple(salience(**reference) for reference in STAR_REFERENCES)
