"""Full-text search over stories' titles and texts: the one seam where the
database vendors differ (SQLite FTS5 here, PostgreSQL full-text search in
production).

Text ranking looks at a bounded candidate set, the TEXT_CANDIDATES most
recently added stories that contain the words (SPEC §9: ranking cost grows
with the number of matches); a query with more matches says so (`more()`).
Callers above stories narrow a search with SQL conditions on the story id
(`Condition`), so this module never needs to know what they filter by.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection

from articles.textsearch.terms import MAX_QUERY_TOKENS, TOKEN, Terms
from newsgraph.infra.ranked_ids import RankedIds

__all__ = ["MAX_QUERY_TOKENS", "TOKEN", "Condition", "Terms", "ranked_story_ids"]

# Snippets come back with the matched words between these private-use marks;
# the page escapes the text and turns them into <mark>.
MARK_OPEN, MARK_CLOSE = "\ue000", "\ue001"
# Full-text relevance is computed over at most this many matching stories, the
# most recently added ones; with fewer matches the ranking is over all of them.
TEXT_CANDIDATES = 1000
SEARCH_COUNTS_CACHE_SECONDS = 5 * 60


@dataclass(frozen=True)
class Condition:
    """SQL over the story id, with its parameters.

    `where`: a condition on `a.id` (the stories table is aliased `a`).
    `exclude`: a subquery that returns a row for a story to leave out, with
    `{story_id}` where the story's id column goes.
    """

    sql: str
    params: list = field(default_factory=list)


def _backend():
    # The backends import this package (Condition, the marks): read when first used.
    if connection.vendor == "postgresql":
        from articles.textsearch import postgres

        return postgres
    from articles.textsearch import sqlite

    return sqlite


def ranked_story_ids(
    q: str,
    *,
    names: list[str] | None = None,
    where: Condition | None = None,
    exclude: Condition | None = None,
) -> RankedIds:
    """Stories whose title or text contains the words of `q` (or, given
    `names`, any one of those names as a phrase), best match first
    (relevance, then newest), each with a snippet of the matched words.
    Acronyms and short words are matched as typed (articles/textsearch/terms.py)."""
    terms = Terms.names(names) if names else Terms.typed(q)
    if not terms:
        return RankedIds.empty()
    return _backend().ranked_story_ids(terms, where=where, exclude=exclude)


def article_ids_containing(name: str) -> list[int]:
    """Stories whose text contains this name as a phrase (used when a rule
    changes and old stories must be looked at again)."""
    tokens = TOKEN.findall(name)
    if not tokens:
        return []
    # The name too: PostgreSQL's parser reads "Quispe-Iqbal" as one word
    # and its parts, so the words alone ("Quispe Iqbal") never match it.
    return _backend().phrase_ids(tokens, name=name)
