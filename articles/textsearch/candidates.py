"""How many text matches a result list holds, from one bounded query; and
the ranked candidates themselves, kept between requests."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar

from django.db import connections, router

from articles import textsearch
from articles.models import Article
from articles.textsearch import SEARCH_COUNTS_CACHE_SECONDS, Condition
from newsgraph.infra import pagecache

T = TypeVar("T")


def candidate_counts(
    id_column: str, matches: str, params: list, exclude: Condition | None
) -> tuple[Callable[[], int], Callable[[], bool]]:
    """(count, more) for a text result list: how many of the TEXT_CANDIDATES
    newest matches are listed (not excluded), and whether there are matches
    beyond them. Reads at most TEXT_CANDIDATES + 1 matches, however many
    there are."""
    keep, keep_params = "1", []
    if exclude is not None:
        # A scalar subquery, probed per candidate through an index: as EXISTS,
        # PostgreSQL hashes all the excluded stories first (30,000 for an
        # entity like "Iran": +4 ms).
        keep = f"CASE WHEN ({exclude.sql.format(story_id='a.id')}) IS NULL THEN 1 ELSE 0 END"
        keep_params = list(exclude.params)
    sql = (
        "SELECT COUNT(*), SUM(c.keep), MIN(c.id), MIN(CASE WHEN c.keep = 1 THEN c.id END)"
        f" FROM (SELECT {id_column} AS id, {keep} AS keep"
        + matches
        + f" ORDER BY {id_column} DESC LIMIT %s) c"
    )
    sql_params = [*keep_params, *params, textsearch.TEXT_CANDIDATES + 1]

    def query() -> tuple[int, bool]:
        # Raw SQL is not routed: ask the router, as a queryset would (the
        # page may read from a replica).
        with connections[router.db_for_read(Article)].cursor() as cursor:
            cursor.execute(sql, sql_params)
            n, kept, lowest, lowest_kept = cursor.fetchone()
        more, kept = n > textsearch.TEXT_CANDIDATES, kept or 0
        if more and lowest_kept is not None and lowest_kept == lowest:
            kept -= 1  # the extra row read to see whether there are more
        return kept, more

    # Shared between requests (a popular query costs 10–15 ms on PostgreSQL
    # at 100,000 stories) until a story is added, edited, extracted or
    # curated (pagecache.CORPUS).
    counts = _kept("search-counts", (sql, sql_params), query)
    return (lambda: counts()[0]), (lambda: counts()[1])


def cached_ranking(key: tuple, rank: Callable[[], list[int]]) -> Callable[[], list[int]]:
    """The candidates' story ids in rank order (at most TEXT_CANDIDATES),
    shared between requests under the corpus version like the counts: the
    ranking reads every candidate (finding the newest 1,000 matches of a word
    in 6 % of 1M stories is ~75 ms on PostgreSQL), a page of it only 20 rows."""
    return _kept("search-ranking", key, rank)


def _kept(kind: str, key: tuple, compute: Callable[[], T]) -> Callable[[], T]:
    """compute(), once per request and kept between requests under the
    corpus version, filed under a digest of `key`."""
    memo: list[T] = []

    def kept() -> T:
        if not memo:
            digest = hashlib.sha256(repr(key).encode()).hexdigest()
            memo.append(
                pagecache.cached(
                    pagecache.CORPUS,
                    f"{kind}:{digest}",
                    compute,
                    timeout=SEARCH_COUNTS_CACHE_SECONDS,
                )
            )
        return memo[0]

    return kept
