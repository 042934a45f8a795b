"""Entity-page queries: the entity's reach over time and its company (SPEC §2).

Everything is answered from the mentions table through its indexes on
(entity, salience, published_at, article) and (entity, published_at,
article) — Mention.published_at is the story's date, copied — so the cost
follows the entity's own stories, not the size of the corpus, and related
entities look at a bounded sample of them. Blocked entities never appear.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.cache import cache
from django.db import connection, connections, router
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
)
from django.db.models.functions import Coalesce, TruncWeek
from django.utils import timezone

from articles.languages import language_name
from articles.models import Article
from entities import scoring
from entities.models import Entity, EntitySlug, Mention
from newsgraph.infra import pagecache

logger = logging.getLogger(__name__)

# Related entities: a pair must share at least this many stories before its
# lift counts, so one accidental co-occurrence with a rare name does not
# outrank real companions. Relaxed to one shared story for entities that have
# fewer than RELATED_SMALL_ENTITY stories themselves.
RELATED_MIN_SUPPORT = 2
RELATED_SMALL_ENTITY = 3
# The co-occurrence count looks at this many of the entity's stories at most,
# those most about it (by stars, then score, then newest).
RELATED_SAMPLE = 500

# Trending: at least this many stories in the window.
TRENDING_MIN_SUPPORT = 2
# Trending depends on the corpus only (the window ends at the newest story),
# and the corpus version changes with it: an expiry only bounds a lost bump.
TRENDING_CACHE_SECONDS = 60 * 60

CHART_MAX_WEEKS = 104
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class EntitySpan:
    stories: int
    first_seen: datetime | None
    last_seen: datetime | None


@dataclass(frozen=True)
class WeekCount:
    week: date  # the Monday the week starts on
    stories: int

    @property
    def label(self) -> str:
        """ "3 Feb 2025", as the date filter's "j M Y" writes it, without its
        per-call localisation machinery (up to 104 rows a page)."""
        return f"{self.week.day} {MONTHS[self.week.month - 1]} {self.week.year}"


@dataclass(frozen=True)
class RelatedEntity:
    entity: Entity
    together: int  # stories mentioning both
    lift: float  # P(other | this) / P(other)


def scored_stories() -> int:
    """N as the last rescoring saw it, which the stored story counts and
    specificities agree with; counted when no pass has run."""

    try:
        state = cache.get(scoring.RESCORE_STATE_KEY) or {}
    except Exception:  # the cache backend's own error: a page does not need it
        logger.warning("cache unreachable; counting the stories", exc_info=True)
        state = {}
    if "scored_stories" in state:
        return state["scored_stories"]
    # A process that has not seen a pass (a web process without a shared
    # cache, or after a restart): the count is kept per corpus version, as
    # the pages' other corpus figures are (70-84 ms a page at 1M otherwise).
    return pagecache.cached(
        pagecache.CORPUS,
        "extracted-stories",
        lambda: Article.objects.extracted().representatives().count(),
        timeout=3600,
    )


# Copies of one story (issue #24) count once, as the rescoring counts them.
GROUPS = scoring.STORY_GROUPS


def once_a_group(mentions):
    """The mentions without those of a copy whose representative mentions
    the entity too: a group's story is counted and listed once, as its
    representative (a copy still counts when only it names the entity, e.g.
    an update's new paragraphs)."""
    in_representative = Mention.objects.filter(
        article_id=OuterRef("article__copy_of_id"), entity_id=OuterRef("entity_id")
    )
    return mentions.filter(Q(article__copy_of__isnull=True) | ~Exists(in_representative))


def entity_span(entity: Entity) -> EntitySpan:
    """Number of stories and the first and last story date, read live (the
    entity page reads the figures rescoring stores on the entity instead)."""
    row = Mention.objects.filter(entity=entity).aggregate(
        stories=Count(Coalesce("article__copy_of_id", "article_id"), distinct=True),
        first=Min("published_at"),
        last=Max("published_at"),
    )
    return EntitySpan(stories=row["stories"], first_seen=row["first"], last_seen=row["last"])


def _monday(value: date | datetime) -> date:
    day = value.date() if isinstance(value, datetime) else value
    return day - timedelta(days=day.weekday())


def weekly_counts(entity: Entity, *, max_weeks: int = CHART_MAX_WEEKS) -> list[WeekCount]:
    """Stories per ISO week (Monday start), with empty weeks filled in, from the
    first week with a story to the last; at most `max_weeks`, newest kept."""
    counts: dict[date, int] = {}
    for week, stories in _week_rows(entity, days=(max_weeks + 1) * 7):
        if week is None:
            continue
        monday = _monday(week)
        counts[monday] = counts.get(monday, 0) + stories
    if not counts:
        return []
    last = max(counts)
    first = max(min(counts), last - timedelta(weeks=max_weeks - 1))
    weeks = []
    week = first
    while week <= last:
        weeks.append(WeekCount(week=week, stories=counts.get(week, 0)))
        week += timedelta(weeks=1)
    return weeks


def _week_rows(entity: Entity, *, days: int):
    """(week, stories) rows of the entity's mentions in the `days` before its
    newest one: a range of the date index (mention_entity_date_idx) as long
    as the chart, not the whole history (300,000 mentions for an entity in
    30 % of a million stories)."""
    tz = timezone.get_current_timezone()
    mention = Mention._meta.db_table
    join = f" JOIN {Article._meta.db_table} a ON a.id = m.article_id"
    newest = f"(SELECT MAX(n.published_at) FROM {mention} n WHERE n.entity_id = %s)"
    if connection.vendor == "sqlite" and timezone.get_current_timezone_name() == "UTC":
        # Native date arithmetic instead of Django's Python trunc function
        # called once per row: the Monday on or before each (UTC) date.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT date(m.published_at, '-6 days', 'weekday 1') AS week, "
                f"{GROUPS} FROM {mention} m{join} WHERE m.entity_id = %s"
                f" AND m.published_at >= datetime({newest}, %s) GROUP BY week",
                [entity.id, entity.id, f"-{days} days"],
            )
            return [(date.fromisoformat(week), n) for week, n in cursor.fetchall() if week]
    if connection.vendor == "postgresql":
        # Dates straight from the database (no per-row conversion in Python);
        # from the replica the page reads from, if any.
        with connections[router.db_for_read(Mention)].cursor() as cursor:
            cursor.execute(
                "SELECT date_trunc('week', m.published_at AT TIME ZONE %s)::date, "
                f"{GROUPS} FROM {mention} m{join} WHERE m.entity_id = %s"
                f" AND m.published_at >= {newest} - make_interval(days => %s) GROUP BY 1",
                [timezone.get_current_timezone_name(), entity.id, entity.id, days],
            )
            return cursor.fetchall()
    newest_date = (
        Mention.objects.filter(entity=entity).order_by("-published_at").values("published_at")[:1]
    )
    return (
        Mention.objects.filter(entity=entity)
        .filter(
            published_at__gte=ExpressionWrapper(
                Subquery(newest_date) - timedelta(days=days), output_field=DateTimeField()
            )
        )
        .annotate(week=TruncWeek("published_at", tzinfo=tz))
        .values("week")
        .annotate(stories=Count(Coalesce("article__copy_of_id", "article_id"), distinct=True))
        .order_by("week")
        .values_list("week", "stories")
    )


@dataclass(frozen=True)
class LanguageNames:
    language: str  # ISO 639-1
    name: str  # "French"
    names: list[str]  # most written first


@dataclass(frozen=True)
class EntityProfile:
    weeks: list[WeekCount]
    related: list[RelatedEntity]
    # Its names by language, when its stories are in more than one (issue
    # #26); a default, so that profiles cached before it still read.
    names: tuple[LanguageNames, ...] = ()


NAMES_SAMPLE = 500
NAMES_PER_LANGUAGE = 4


def names_by_language(entity: Entity) -> tuple[LanguageNames, ...]:
    """The spellings its newest NAMES_SAMPLE mentions use, per story language
    ("Allemagne" in French, "Germany" in English), or () for one language."""
    counts: dict[str, dict[str, int]] = {}
    rows = (
        Mention.objects.filter(entity=entity)
        .order_by("-published_at")
        .values_list("article__language", "surfaces")[:NAMES_SAMPLE]
    )
    for language, surfaces in rows:
        spelled = counts.setdefault(language or "", {})
        for surface in surfaces.split("\n"):
            if surface:
                spelled[surface] = spelled.get(surface, 0) + 1
    counts.pop("", None)  # language unknown: says nothing of a language
    if len(counts) < 2:
        return ()
    return tuple(
        LanguageNames(
            language,
            language_name(language),
            sorted(spelled, key=lambda s: (-spelled[s], s))[:NAMES_PER_LANGUAGE],
        )
        for language, spelled in sorted(counts.items(), key=lambda item: language_name(item[0]))
    )


PROFILE_CACHE_SECONDS = 15 * 60


def entity_profile(entity: Entity) -> EntityProfile:
    """The entity page's corpus figures: stories per week and related entities
    (half of the page's cost at 100,000 stories, docs/BENCHMARKS.md).

    Cached: they change when rescoring changes the entity's count, dates or
    specificity (all in the key), and curation bumps the version
    (entities.scoring.schedule_rescore). Other entities' counts in the lift
    may be up to PROFILE_CACHE_SECONDS old.
    """
    key = (
        f"{entity.id}:{entity.story_count}:{entity.specificity!r}"
        f":{entity.first_seen and entity.first_seen.isoformat()}"
        f":{entity.last_seen and entity.last_seen.isoformat()}"
    )
    return pagecache.cached(
        pagecache.ENTITY_PROFILES,
        key,
        lambda: EntityProfile(
            weeks=weekly_counts(entity),
            related=related_entities(entity),
            names=names_by_language(entity),
        ),
        timeout=PROFILE_CACHE_SECONDS,
    )


def related_entities(entity: Entity, *, limit: int = 12) -> list[RelatedEntity]:
    """Entities that co-occur with this one *distinctively*, ranked by lift.

        lift(B | A) = P(B | story about A) / P(B) = (together / n_A) / (df_B / N)

    A name that is in every story ("United States") has lift ≈ 1 with
    everything and sinks; a name that appears mostly alongside A rises. Pairs
    need RELATED_MIN_SUPPORT shared stories (1 for very small entities).
    """
    # N of the last rescoring, as the story counts (df) below are.
    total = scored_stories()
    sample = once_a_group(Mention.objects.filter(entity=entity)).most_about_first()[:RELATED_SAMPLE]
    n_a = sample.count()
    if not n_a or not total:
        return []
    min_support = RELATED_MIN_SUPPORT if n_a >= RELATED_SMALL_ENTITY else 1
    # The sample stays in the database (a 500-id list costs ~5 ms of Python
    # to pass), and the co-occurrences are counted before the join to the
    # entities (~1,300 groups instead of ~15,000 mention rows).
    sample_sql, sample_params = sample.values("article_id").query.sql_with_params()
    mention, entity_table = Mention._meta.db_table, Entity._meta.db_table
    with connections[router.db_for_read(Mention)].cursor() as cursor:
        cursor.execute(
            f"SELECT g.entity_id, g.together, e.story_count FROM"
            f" (SELECT m.entity_id, COUNT(*) AS together FROM {mention} m"
            f" WHERE m.article_id IN ({sample_sql}) AND m.entity_id <> %s"
            f" GROUP BY m.entity_id HAVING COUNT(*) >= %s) g"
            f" JOIN {entity_table} e ON e.id = g.entity_id WHERE NOT e.blocked",
            [*sample_params, entity.id, min_support],
        )
        rows = cursor.fetchall()
    scored = []
    for entity_id, together, story_count in rows:
        df_b = max(story_count or 0, together)
        lift = (together / n_a) / (df_b / max(total, df_b))
        scored.append((entity_id, together, lift))
    # Highest lift first; among equals the better supported, then by name below.
    scored.sort(key=lambda r: (-round(r[2], 9), -r[1]))
    top = scored[: limit * 2]
    found = Entity.objects.in_bulk([r[0] for r in top])
    related = [
        RelatedEntity(entity=found[eid], together=together, lift=lift)
        for eid, together, lift in top
        if eid in found
    ]
    related.sort(key=lambda r: (-round(r.lift, 9), -r.together, r.entity.name.casefold()))
    return related[:limit]


def trending_entities(*, limit: int = 10, days: int = 7) -> list[Entity]:
    """Entities most distinctive in the last `days` against the long-run baseline.

    For an entity with `w` of the window's `N_w` stories and `b` of the `N_b`
    stories before it, its rate in the window is compared with its earlier
    rate (add-one smoothed, so a brand-new name has a finite ratio):

        ratio = (w / N_w) / ((b + 1) / (N_b + 1))
        trend = w · ln(ratio)

    so a steady name ("United States" every week) scores about 0 however
    often it appears, and a name that newly dominates the news scores high.
    The window ends at the newest story, so an old corpus still has a "week".
    With no stories before the window there is no baseline yet: the window is
    then ranked on its own, `w · ln(1 + N_w / w)` (frequent, but damped for
    names in every story).
    Each entity carries `.week` (its stories in the window) and `.trend`.

    The window is counted live (an index range of this week's stories); the
    baseline comes from the story counts rescoring keeps (`b` = the entity's
    stories − `w`), not from a scan of every earlier mention (600 ms at
    3 million mentions). Cached per corpus version (pagecache.CORPUS).
    """
    return pagecache.cached(
        pagecache.CORPUS,
        f"trending:{limit}:{days}",
        lambda: _trending_entities(limit=limit, days=days),
        timeout=TRENDING_CACHE_SECONDS,
    )


def _trending_entities(*, limit: int, days: int) -> list[Entity]:
    newest = Article.objects.extracted().aggregate(newest=Max("published_at"))["newest"]
    if newest is None:
        return []
    since = newest - timedelta(days=days)
    window = Article.objects.extracted().filter(published_at__gt=since)
    # The window's stories first, then their mentions through the (article,
    # entity) index: as a join, SQLite walked all 3 million mentions (240 ms).
    in_window = Mention.objects.filter(article_id__in=window.values("id"))
    n_window = window.count()
    n_before = max(scored_stories() - n_window, 0)
    window_counts = {
        entity_id: (n, story_count)
        for entity_id, n, story_count in in_window.filter(entity__blocked=False)
        .values("entity_id", "entity__story_count")
        .annotate(n=Count("id"))
        .filter(n__gte=TRENDING_MIN_SUPPORT)
        .values_list("entity_id", "n", "entity__story_count")
    }
    if not window_counts or not n_window:
        return []
    scored = []
    for entity_id, (week, story_count) in window_counts.items():
        if n_before:
            before = max(story_count - week, 0)
            ratio = (week / n_window) / ((before + 1) / (n_before + 1))
        else:
            ratio = 1 + n_window / week
        trend = week * math.log(ratio)
        if trend > 0:
            scored.append((trend, week, entity_id))
    scored.sort(key=lambda r: (-r[0], -r[1]))
    found = Entity.objects.in_bulk([r[2] for r in scored[: limit * 2]])
    entities = []
    for trend, week, entity_id in scored:
        entity = found.get(entity_id)
        if entity is None:
            continue
        entity.week, entity.trend = week, trend
        entities.append(entity)
    entities.sort(key=lambda e: (-round(e.trend, 9), -e.week, e.name.casefold()))
    return entities[:limit]


# --- addresses that never break (SPEC §11) ---------------------------------------------------


@dataclass(frozen=True)
class EntityAddress:
    """Where an entity address leads: the entity shown there, or the entity
    it moved to (a rename: `moved`; a merge: `merged`), or a blocked one
    (`gone`). `entity` is None for an address never used."""

    entity: Entity | None
    moved: bool = False
    merged: bool = False
    gone: bool = False


def entity_address(slug: str) -> EntityAddress:
    """One query for a current address; one more for an old one."""
    entity = Entity.objects.filter(slug=slug).first()
    if entity is not None:
        return EntityAddress(entity=entity, gone=entity.blocked)
    old = EntitySlug.objects.filter(slug=slug).select_related("entity").first()
    if old is None:
        return EntityAddress(entity=None)
    return EntityAddress(
        entity=old.entity, moved=True, merged=bool(old.merged_from), gone=old.entity.blocked
    )
