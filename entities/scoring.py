"""Rescoring (SPEC §6): the set-based SQL that gives every (story, entity)
pair its stars and every entity its story count and specificity, with the
formula of entities/salience.py; `rescore_due` picks a full or a recent pass
(entities/rescore_requests.py asks for one). Over 400 lines on purpose: each
set-based statement has its PostgreSQL and its SQLite form side by side
(one transaction there, short ones here), so a change to one is made
against the other.

Stars follow what the story does with the name (entities.salience.stars):
a pair's score must reach a floor of its own and a share of its story's top
score, so they are set per story, not by corpus-wide shares (issue #23);
equal scores in one story get equal stars. Salience is computed once per
mention at extraction; everything else is recomputed here with a handful of
set-based statements (see docs/BENCHMARKS.md for their cost at 100,000
stories).

Scores are not stored: N is in every entity's specificity, so one new story
changes every score, and a stored score meant rewriting all 3 million
mentions on each pass. Mention.score computes it on read; a pass writes the
stars that move, a few per cent of the mentions. The debounced background
task runs `rescore_due`: after a batch of new stories it gives just those
stories' pairs their stars, with their entities' counts and specificity
brought up to date; a full pass (every pair's stars checked against the
specificity of that moment) runs when an editor's curation
asks for one, the corpus has grown by RESCORE_FULL_GROWTH since the last
full pass, or RESCORE_FULL_EVERY_SECONDS have passed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Case, F, FloatField, Max, Min, Sum, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Least, Ln
from django.utils import timezone

from articles.models import Article
from entities.models import Entity, Mention
from entities.salience import (
    FULLY_SPECIFIC_SHARE,
    SPECIFICITY_SCALE,
    STAR_FLOORS,
    STAR_RATIOS,
)

logger = logging.getLogger(__name__)

# What the last pass left for the next incremental one: corpus size, dates.
RESCORE_STATE_KEY = "newsgraph:rescore-state"
RESCORE_FULL_NEEDED_KEY = "newsgraph:rescore-full-needed"


@dataclass
class RescoreReport:
    stories: int
    entities: int
    pairs: int
    seconds: float
    full: bool = True  # False: only the pairs of newly extracted stories
    stars_changed: int = 0  # mentions whose stars this pass rewrote


def rescore_all() -> RescoreReport:
    """Recompute story counts, specificity and stars, in a handful of
    set-based statements: one GROUP BY over the mentions for the entities'
    counts and dates, one update of the entities, one GROUP BY for each
    story's top score, and one update writing the stars that change (on
    SQLite, one per range of mention ids: _rescore_all_sqlite)."""

    started, started_at = time.perf_counter(), timezone.now()
    if connection.vendor == "sqlite":
        stories, entities, pairs, stars_changed = _rescore_all_sqlite()
    else:
        # PostgreSQL locks only the rows it rewrites: one transaction.
        with transaction.atomic():
            stories = Article.objects.extracted().representatives().count()
            _update_entity_stats()
            _update_specificity(stories)
            # = Mention.objects.visible().count(), from the counts just written.
            pairs = Entity.objects.visible().aggregate(n=Sum("story_count"))["n"] or 0
            with connection.cursor() as cursor:
                _create_story_tops(cursor)
                stars_changed = _update_stars()
                cursor.execute(f"DROP TABLE {_TOPS}")
            entities = Entity.objects.filter(story_count__gt=0).count()
    seconds = time.perf_counter() - started
    report = RescoreReport(stories, entities, pairs, seconds, stars_changed=stars_changed)
    cache.set(
        RESCORE_STATE_KEY,
        {
            "stories": stories,
            "scored_stories": stories,
            "full_at": started_at,
            "since": started_at,
        },
        timeout=None,
    )
    logger.info(
        "rescored %d stories, %d entities, %d pairs (%d stars changed) in %.2fs",
        stories,
        entities,
        pairs,
        stars_changed,
        report.seconds,
    )
    return report


# SQLite has one writer at a time: a full pass in one write transaction kept
# every other write (an extraction batch, an editor's save) waiting for the
# whole pass, 55 s at 1,000,000 stories, and they gave up after the 20 s
# busy timeout. So there the pass reads (the counts, the stories' tops) in
# deferred transactions, which take no write lock and which WAL lets run
# beside writers, and writes in short transactions: the entities' counts and
# specificity in one, the stars in ranges of mention ids sized to take about
# STARS_CHUNK_SECONDS each, so that a waiting writer gets in between two.
STARS_CHUNK_SECONDS = 0.5
STARS_CHUNK_MENTIONS = 500_000  # the first range; then halved or doubled
STARS_CHUNK_BOUNDS = (10_000, 4_000_000)
# SQLite queues no one: a writer waiting on the lock retries at most 100 ms
# apart (its busy handler), so a pass beginning the next range right after a
# commit would take the lock back every time. This pause between two ranges
# is long enough for a waiting writer to wake up and get in.
STARS_CHUNK_PAUSE = 0.1


def _rescore_all_sqlite() -> tuple[int, int, int, int]:
    """rescore_all on SQLite, with the same statements and results, but no
    write transaction longer than one star range (BENCHMARKS, "SQLite at
    1,000,000 stories").

    Between its transactions other writes come in. Stories extracted from
    the pass's start on are left to the next background pass, as on
    PostgreSQL (it counts and stars the stories extracted since the start;
    one extracted before the counts' GROUP BY is counted twice until the
    next full pass, the same < 1 % as a batch added to a count). Mentions
    written after the stories' tops were read have ids above the last range,
    so the next background pass stars them; the tops, from one snapshot, do
    not move half-way through the stars.

    The pass stays idempotent. If it stops half-way (an error, a killed
    worker), every committed range has the new stars and the rest keeps the
    stars of the last full pass: each pair still has 1–4 stars from one pass
    or the other, which the next full pass puts right; an error
    asks for that pass at once."""

    try:
        with _read_snapshot(), connection.cursor() as cursor:
            stories = Article.objects.extracted().representatives().count()
            _count_entity_stats(cursor)  # into a temporary table: no write lock
        with transaction.atomic(), connection.cursor() as cursor:
            _write_entity_stats(cursor)
            _update_specificity(stories)
        with _read_snapshot():
            # = Mention.objects.visible().count(), from the counts just written.
            pairs = Entity.objects.visible().aggregate(n=Sum("story_count"))["n"] or 0
            with connection.cursor() as cursor:
                _create_story_tops(cursor)  # a temporary table: no write lock
            ids = Mention.objects.aggregate(first=Min("id"), last=Max("id"))
        stars_changed = 0
        for low, high in _star_chunks(ids["first"], ids["last"]):
            with transaction.atomic():
                stars_changed += _update_stars(ids=(low, high))
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {_TOPS}")
        entities = Entity.objects.filter(story_count__gt=0).count()
    except BaseException:
        cache.set(RESCORE_FULL_NEEDED_KEY, 1, timeout=None)
        raise
    return stories, entities, pairs, stars_changed


@contextmanager
def _read_snapshot() -> Iterator[None]:
    """SQLite: a deferred transaction, one snapshot of the database for the
    statements in it (a count and the sort that uses it agree) that takes
    no write lock (the settings begin transactions IMMEDIATE). Inside a
    caller's transaction, a savepoint of it."""
    connection.ensure_connection()
    mode = connection.transaction_mode
    connection.transaction_mode = "DEFERRED"
    try:
        with transaction.atomic():
            connection.transaction_mode = mode
            yield
    finally:
        connection.transaction_mode = mode


def _star_chunks(first: int | None, last: int | None) -> Iterator[tuple[int, int]]:
    """Ranges (low, high] of mention ids covering first..last, a pause
    between two, each sized from how long the one before took to write (first-pass stars after a
    bulk load rewrite nearly every mention, ~10 µs each at 1M; an ordinary
    pass checks them at ~0.7 µs and writes a few per cent)."""
    if first is None:
        return
    size, low = STARS_CHUNK_MENTIONS, first - 1
    smallest, largest = STARS_CHUNK_BOUNDS
    while low < last:
        high = min(low + size, last)
        started = time.perf_counter()
        yield low, high
        took = time.perf_counter() - started
        if took > 2 * STARS_CHUNK_SECONDS:
            size = max(smallest, size // 2)
        elif took < STARS_CHUNK_SECONDS / 2:
            size = min(largest, size * 2)
        low = high
        if low < last:
            time.sleep(STARS_CHUNK_PAUSE)  # a waiting writer's turn


_STATS = "entities_rescore_stats"
_RECENT = "entities_rescore_recent"
# Below this many stories an entity's count is recounted exactly after a batch
# (one story visibly moves its specificity); above, the batch's pairs are
# added to it (a story counted twice at a pass boundary, or re-extracted,
# is < 1 % of it until the next full pass recounts everything).
EXACT_COUNT_BELOW = 100


def _update_entity_stats() -> None:
    """story_count, first_seen, last_seen of every entity from one GROUP BY
    of the mentions (an entity left with no mention — blocked, merged away —
    counts 0). Mention.published_at is the story's date: no join to the
    stories, so the (entity, date) index alone answers it."""
    with connection.cursor() as cursor:
        _count_entity_stats(cursor)
        _write_entity_stats(cursor)


# Copies of one story (issue #24, articles/copies.py) count once: an entity's
# story count is the number of copy groups among its stories, each group
# known by its representative's id.
STORY_GROUPS = "COUNT(DISTINCT COALESCE(a.copy_of_id, a.id))"


def _with_groups(mention: str) -> str:
    """The join that gives each mention `m` its story `a`."""
    return f" JOIN {Article._meta.db_table} a ON a.id = {mention}.article_id"


def _count_entity_stats(cursor) -> None:
    """The GROUP BY of _update_entity_stats, into the _STATS table."""

    _create_stats_table(cursor)
    cursor.execute(
        f"INSERT INTO {_STATS} (entity_id, n, first_seen, last_seen)"
        f" SELECT m.entity_id, {STORY_GROUPS}, MIN(m.published_at), MAX(m.published_at)"
        f" FROM {Mention._meta.db_table} m{_with_groups('m')} GROUP BY m.entity_id"
    )


def _write_entity_stats(cursor) -> None:
    """The entities' counts and dates from the _STATS table, then dropped."""

    entity = Entity._meta.db_table
    if connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {_STATS}")
        cursor.execute(
            f"UPDATE {entity} e SET story_count = COALESCE(s.n, 0),"
            f" first_seen = s.first_seen, last_seen = s.last_seen"
            f" FROM {entity} e2 LEFT JOIN {_STATS} s ON s.entity_id = e2.id"
            f" WHERE e2.id = e.id AND (e.story_count <> COALESCE(s.n, 0)"
            f" OR e.first_seen IS DISTINCT FROM s.first_seen"
            f" OR e.last_seen IS DISTINCT FROM s.last_seen)"
        )
    else:
        row = f"(SELECT {{}} FROM {_STATS} s WHERE s.entity_id = {entity}.id)"
        cursor.execute(
            f"UPDATE {entity} SET story_count = COALESCE({row.format('n')}, 0),"
            f" first_seen = {row.format('first_seen')}, last_seen = {row.format('last_seen')}"
        )
    cursor.execute(f"DROP TABLE {_STATS}")


def _create_stats_table(cursor) -> None:
    timestamp = "timestamp with time zone" if connection.vendor == "postgresql" else "datetime"
    cursor.execute(f"DROP TABLE IF EXISTS {_STATS}")
    cursor.execute(
        f"CREATE TEMPORARY TABLE {_STATS} (entity_id bigint PRIMARY KEY, n integer NOT NULL,"
        f" first_seen {timestamp}, last_seen {timestamp})"
    )


def _add_recent_to_entity_stats(cursor) -> None:
    """Bring the counts and dates of the entities in the recent stories (the
    _RECENT table) up to date at a cost set by those stories, not the corpus:
    the batch's pairs are added to each entity's count (its dates widened),
    then the entities with fewer than EXACT_COUNT_BELOW stories are counted
    exactly from the (entity, date) index. Leaves the entities in _STATS."""

    mention, entity = Mention._meta.db_table, Entity._meta.db_table
    _create_stats_table(cursor)
    cursor.execute(
        f"INSERT INTO {_STATS} (entity_id, n, first_seen, last_seen)"
        f" SELECT m.entity_id, {STORY_GROUPS}, MIN(m.published_at), MAX(m.published_at)"
        f" FROM {_RECENT} r JOIN {mention} m ON m.article_id = r.id{_with_groups('m')}"
        f" GROUP BY m.entity_id"
    )
    if connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {_STATS}")
        cursor.execute(
            f"UPDATE {entity} e SET story_count = e.story_count + s.n,"
            f" first_seen = LEAST(e.first_seen, s.first_seen),"  # LEAST skips NULLs
            f" last_seen = GREATEST(e.last_seen, s.last_seen)"
            f" FROM {_STATS} s WHERE s.entity_id = e.id"
        )
    else:
        row = f"(SELECT {{}} FROM {_STATS} s WHERE s.entity_id = {entity}.id)"
        first, last = row.format("first_seen"), row.format("last_seen")
        cursor.execute(
            f"UPDATE {entity} SET story_count = story_count + {row.format('n')},"
            f" first_seen = MIN(COALESCE(first_seen, {first}), {first}),"
            f" last_seen = MAX(COALESCE(last_seen, {last}), {last})"
            f" WHERE id IN (SELECT entity_id FROM {_STATS})"
        )
    exact = f"(SELECT {{}} FROM {mention} m{_with_groups('m')} WHERE m.entity_id = {entity}.id)"
    cursor.execute(
        f"UPDATE {entity} SET story_count = {exact.format(STORY_GROUPS)},"
        f" first_seen = {exact.format('MIN(m.published_at)')},"
        f" last_seen = {exact.format('MAX(m.published_at)')}"
        f" WHERE id IN (SELECT entity_id FROM {_STATS}) AND story_count < %s",
        [EXACT_COUNT_BELOW],
    )


def _update_specificity(stories: int, *, entities=None) -> None:

    entities = Entity.objects.all() if entities is None else entities
    # LN is native on PostgreSQL and registered by Django on SQLite. Only the
    # rows whose value moves are written (none when N and the counts did not
    # change), so such a pass leaves no dead rows behind.
    # Exactly 1 up to the share, compared in counts: at the boundary the
    # logarithms' ratio can be 1 − 1 ulp on one database and 1 on another.
    specificity = Case(
        When(story_count__lte=stories * FULLY_SPECIFIC_SHARE, then=Value(1.0)),
        default=Least(
            Value(1.0),
            Ln(1.0 + Value(float(stories)) / F("story_count")) / Value(SPECIFICITY_SCALE),
        ),
        output_field=FloatField(),
    )
    entities.filter(story_count__gt=0).exclude(specificity=specificity).update(
        specificity=specificity
    )
    entities.filter(story_count=0).exclude(specificity=0.0).update(specificity=0.0)


_TOPS = "entities_rescore_tops"


def _create_story_tops(cursor, *, recent_only: bool = False) -> None:
    """Each story's top score (salience × the specificity just updated, over
    its visible entities) into the _TOPS table, from one GROUP BY of the
    mentions (with `recent_only`, of the stories in the _RECENT table): the
    relative floors of the stars are shares of it."""

    mention, entity = Mention._meta.db_table, Entity._meta.db_table
    cursor.execute(f"DROP TABLE IF EXISTS {_TOPS}")
    cursor.execute(
        f"CREATE TEMPORARY TABLE {_TOPS}"
        f" (article_id bigint PRIMARY KEY, top_score double precision)"
    )
    recent = f" AND m.article_id IN (SELECT id FROM {_RECENT})" if recent_only else ""
    cursor.execute(
        f"INSERT INTO {_TOPS} (article_id, top_score)"
        f" SELECT m.article_id, MAX(m.salience * e.specificity)"
        f" FROM {mention} m JOIN {entity} e ON e.id = m.entity_id WHERE NOT e.blocked{recent}"
        f" GROUP BY m.article_id"
    )
    if connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {_TOPS}")


def _update_stars(*, recent_only: bool = False, ids: tuple[int, int] | None = None) -> int:
    """The stars of score = salience × specificity against the floors of
    entities.salience.stars (its own and a share of its story's top score, in
    the _TOPS table), in one pass that only writes the mentions whose stars
    change (with `recent_only`, only the mentions of the stories in the
    _RECENT table; with `ids`, the SQLite pass's ranges, those with low < id
    <= high). Scores are not stored: with N in every one of them, storing
    them rewrote all 3 million mentions on each pass (46 s at 100,000
    stories, docs/BENCHMARKS.md). A mention of a story with no visible
    entity (every one blocked) is left as it is: no page shows it."""

    mention, entity = Mention._meta.db_table, Entity._meta.db_table
    new = f"({mention}.salience * e.specificity)"
    bands = " ".join(f"WHEN {new} >= %s AND {new} >= %s * t.top_score THEN {n}" for n in (4, 3, 2))
    stars = f"CASE {bands} ELSE 1 END"
    floors = [value for n in (2, 1, 0) for value in (STAR_FLOORS[n], STAR_RATIOS[n])]
    # The placeholders: the floors in SET, again in the WHERE, then `only`'s.
    params, only = floors * 2, ""
    if recent_only:
        only += f" AND {mention}.article_id IN (SELECT id FROM {_RECENT})"
    if ids is not None:  # a range of the rowid: SQLite reads just that range
        only += f" AND {mention}.id > %s AND {mention}.id <= %s"
        params += list(ids)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {mention} SET stars = {stars} FROM {entity} e, {_TOPS} t"
                f" WHERE e.id = {mention}.entity_id AND t.article_id = {mention}.article_id"
                f" AND {mention}.stars <> {stars}{only}",
                params,
            )
            return cursor.rowcount
        else:
            # SQLite: walk the mentions in table order and look each entity
            # and story top up by primary key (its UPDATE … FROM walks them
            # entity by entity, hopping around a table larger than the page
            # cache). One lookup a mention, the stars computed inside it: the
            # CASE over a scalar subquery looked the entity up once per WHEN
            # (34 → 20 s for 30 million unchanged mentions). A mention
            # without its entity or story top keeps its stars.
            looked_up = (
                f"(SELECT {stars} FROM {entity} e, {_TOPS} t"
                f" WHERE e.id = {mention}.entity_id AND t.article_id = {mention}.article_id)"
            )
            cursor.execute(
                f"UPDATE {mention} SET stars = COALESCE({looked_up}, {mention}.stars)"
                f" WHERE {mention}.stars <> COALESCE({looked_up}, {mention}.stars){only}",
                params,
            )
            return cursor.rowcount


def rescore_recent(*, extracted_since: datetime, stories: int | None = None) -> RescoreReport:
    """Star the pairs of the stories extracted since then: their entities'
    counts, dates and specificity brought up to date (_add_recent_to_entity_stats),
    and stars against their stories' tops. Older pairs keep their stars until the
    next full pass. Its cost follows the new stories, not the corpus: the
    stories come from the extracted_at index, their mentions from the
    (article, entity) index (docs/BENCHMARKS.md, growth curve)."""

    started, started_at = time.perf_counter(), timezone.now()
    with transaction.atomic():
        if stories is None:
            stories = Article.objects.extracted().representatives().count()
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {_RECENT}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {_RECENT} AS SELECT id FROM"
                f" {Article._meta.db_table} WHERE extracted_at >= %s",
                [extracted_since],
            )
            # Both planners need the new stories' count: without it SQLite
            # walked all the mentions (an index in entity order, for the
            # GROUP BY) probing each in the new stories (1M stories: 2.6 s).
            cursor.execute(f"ANALYZE {_RECENT}")
            _add_recent_to_entity_stats(cursor)
            touched = Entity.objects.filter(id__in=RawSQL(f"SELECT entity_id FROM {_STATS}", []))
            _update_specificity(stories, entities=touched)
            entities = touched.count()
            _create_story_tops(cursor, recent_only=True)
            stars_changed = _update_stars(recent_only=True)
            pairs = Mention.objects.filter(
                article_id__in=RawSQL(f"SELECT id FROM {_RECENT}", [])
            ).count()
            cursor.execute(f"DROP TABLE {_TOPS}")
            cursor.execute(f"DROP TABLE {_STATS}")
            cursor.execute(f"DROP TABLE {_RECENT}")
    state = cache.get(RESCORE_STATE_KEY) or {}
    cache.set(
        RESCORE_STATE_KEY, {**state, "since": started_at, "scored_stories": stories}, timeout=None
    )
    report = RescoreReport(stories, entities, pairs, 0.0, full=False, stars_changed=stars_changed)
    report.seconds = time.perf_counter() - started
    logger.info("rescored %d new pairs in %.2fs", pairs, report.seconds)
    return report


def rescore_due() -> RescoreReport:
    """What the debounced background task runs: a full pass when one is due,
    otherwise only the stories extracted since the last pass."""

    state = cache.get(RESCORE_STATE_KEY)
    if state is None or cache.get(RESCORE_FULL_NEEDED_KEY):
        reason = "no earlier pass" if state is None else "curation"
    else:
        stories = Article.objects.extracted().representatives().count()
        age = (timezone.now() - state["full_at"]).total_seconds()
        if stories < state["stories"]:
            reason = "the corpus shrank"
        elif stories > state["stories"] * (1 + settings.RESCORE_FULL_GROWTH):
            reason = f"the corpus grew from {state['stories']} to {stories} stories"
        elif age > settings.RESCORE_FULL_EVERY_SECONDS:
            reason = f"the last full pass is {age:.0f}s old"
        else:
            return rescore_recent(extracted_since=state["since"], stories=stories)
    cache.delete(RESCORE_FULL_NEEDED_KEY)
    logger.info("full rescoring: %s", reason)
    return rescore_all()
