"""Bulk-load a large synthetic corpus, bypassing NER (issue #6, benchmarks 2-3).

Stories come from bench.synthetic; each gets the names written into it as
mentions (with real spans, counts, title/lead flags and spread) plus Zipf-drawn
extra entities up to ~30 per story, so 100,000 stories carry ~3 million
mentions. One "Iran"-like entity is written into 30 % of the stories. Rows go
in with executemany on SQLite and COPY on PostgreSQL, then `rescore_all()`
computes story counts, specificity and stars as in production. A big load on
SQLite drops the secondary indexes and the FTS triggers and rebuilds them
after (sqlite_bulk_load): 1,000,000 stories in 18 minutes instead of ~4 hours.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from bench.synthetic import SOURCES, ZipfPicker, entity_pool, stories

COMMON_NAME = "Iran"
COMMON_SHARE = 0.30
CHUNK = 2_000
# On SQLite a load of at least this many stories (and at least as many as the
# database holds) drops the secondary indexes and the FTS triggers for its
# duration: see sqlite_bulk_load.
BULK_STORIES = 10_000
BULK_TABLES = ("articles_article", "entities_mention")


@dataclass
class LoadReport:
    stories: int
    mentions: int
    entities: int
    load_seconds: float
    rescore_seconds: float


def _lead_sentence(rng: random.Random) -> str:
    return rng.choice(
        [
            f"Officials in {COMMON_NAME} were watching the talks closely.",
            f"Diplomats said {COMMON_NAME} had not been consulted.",
            f"The decision is likely to anger {COMMON_NAME}, analysts said.",
        ]
    )


def _mention_row(name_spans: list[list[int]], *, title: str, text: str) -> tuple:
    from entities.salience import mention_stats

    stats = mention_stats(name_spans, title=title, text=text)
    return stats["count"], stats["in_title"], stats["in_lead"], stats["spread"], stats["salience"]


def _spans(full: str, name: str, limit: int = 20) -> list[list[int]]:
    spans, start = [], full.find(name)
    while start >= 0 and len(spans) < limit:
        spans.append([start, start + len(name)])
        start = full.find(name, start + len(name))
    return spans


def _passing(story: int, entity: int) -> tuple:
    """A name mentioned once in passing (no span kept), somewhere in the
    story: the position of a first mention counts in its salience, and
    without one every such name would score alike."""
    from entities.salience import salience

    first = (story * 7919 + entity * 104729) % 100_003 / 100_003
    score = salience(count=1, in_title=False, in_lead=False, spread=0.0, first=first)
    return 1, False, False, 0.0, score


def generate(
    count: int, *, mentions_per_story: int = 30, seed: int = 11, start_index: int = 0
) -> Iterator[tuple[dict, list[tuple]]]:
    """(story record, [(entity rank, spans, count, in_title, in_lead, spread,
    salience), …]) for each story; rank -1 is the common entity."""
    pool = entity_pool()
    rank = {name: i for i, (name, _) in enumerate(pool)}
    rng = random.Random(seed * 7919 + start_index)
    picker = ZipfPicker(pool, rng)
    for index, record in enumerate(stories(count, seed=seed, start_index=start_index)):
        if rng.random() < COMMON_SHARE:
            record["text"] = _lead_sentence(rng) + " " + record["text"]
            record["names"] = [COMMON_NAME, *record["names"]]
        title, text = record["title"], record["text"]
        full = f"{title}\n\n{text}"
        mentions, seen = [], set()
        for name in record["names"]:
            spans = _spans(full, name)
            if not spans:
                continue
            entity = -1 if name == COMMON_NAME else rank[name]
            seen.add(entity)
            mentions.append((entity, spans, *_mention_row(spans, title=title, text=text)))
        target = max(len(mentions), rng.randint(mentions_per_story - 10, mentions_per_story + 10))
        while len(mentions) < target:
            entity = picker.index()
            if entity in seen:
                continue
            seen.add(entity)
            # Entities the story names once in passing (no span kept).
            mentions.append((entity, [], *_passing(start_index + index, entity)))
        yield record, mentions


def load(
    count: int, *, mentions_per_story: int = 30, seed: int = 11, rescore: bool = True
) -> LoadReport:
    """Add `count` stories (with their mentions) to a migrated database; the
    first call also creates the entity pool. Returns counts and timings."""
    from django.db import connection

    from entities.scoring import rescore_all

    started = time.perf_counter()
    now = datetime.now(UTC)
    entity_ids, sources = _entities_and_sources(now)
    article_id = _next_id("articles_article")
    start_index = article_id - 1
    bulk = connection.vendor == "sqlite" and count >= max(BULK_STORIES, start_index)
    with sqlite_bulk_load() if bulk else contextlib.nullcontext():
        total_mentions = _insert(
            count, entity_ids, sources, now, article_id, mentions_per_story, seed
        )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in ("articles_article", "entities_entity", "entities_mention"):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" (SELECT MAX(id) FROM {table}))"
                )
        if count > 10_000:
            cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    load_seconds = time.perf_counter() - started
    rescore_seconds = rescore_all().seconds if rescore else 0.0
    if connection.vendor == "postgresql" and count > 10_000:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return LoadReport(count, total_mentions, len(entity_ids), load_seconds, rescore_seconds)


def _insert(
    count: int,
    entity_ids: list[int],
    sources: list[int],
    now: datetime,
    article_id: int,
    mentions_per_story: int,
    seed: int,
) -> int:
    """Generate and insert `count` stories from id `article_id` on; returns
    the number of mentions."""
    start_index = article_id - 1
    total_mentions = 0
    batch_articles: list[tuple] = []
    batch_mentions: list[tuple] = []
    stream = generate(
        count, mentions_per_story=mentions_per_story, seed=seed, start_index=start_index
    )
    for n, (record, mentions) in enumerate(stream, start=start_index):
        batch_articles.append(
            (
                article_id,
                record["url"],
                record["url"],
                f"{n:064x}",
                record["title"],
                record["text"],
                sources[n % len(sources)],
                datetime.fromisoformat(record["published_at"]),
                now,
                "extracted",
                "",
                0,
                now,
                "given",
                "en",
                "",  # page_metadata: the synthetic stories come as text
            )
        )
        published = batch_articles[-1][7]
        for entity, spans, *stats in mentions:
            batch_mentions.append(
                (
                    article_id,
                    entity_ids[entity + 1],
                    json.dumps(spans),
                    "",
                    *stats,
                    1,
                    published,
                    "",
                )
            )
        total_mentions += len(mentions)
        article_id += 1
        if len(batch_articles) >= CHUNK:
            _flush(batch_articles, batch_mentions)
            batch_articles, batch_mentions = [], []
    _flush(batch_articles, batch_mentions)
    return total_mentions


@contextlib.contextmanager
def sqlite_bulk_load(tables: tuple[str, ...] = BULK_TABLES, *, cache_mb: int = 512):
    """SQLite: load rows into `tables` without upkeep of their secondary
    indexes and full-text index, then rebuild both.

    Each index on (entity_id, …) takes ~30 rows a story at random places: once
    the mentions outgrow the page cache every transaction rewrites pages all
    over them (the load fell from ~650 stories/s to ~400 by 60,000 stories and
    to ~70 past 100,000; without them it inserts a flat ~1,400 a second). The
    indexes and triggers are read from sqlite_master (as the migrations made
    them), dropped, and created again from the same SQL afterwards, also when
    the load fails; the FTS5 index is rebuilt from the stories. Unique
    constraints (SQLite's automatic indexes) stay: they are checked while
    loading. Also raises this connection's page cache and turns fsync off for
    the load (WAL stays on)."""
    from django.db import connection

    marks = ", ".join(["%s"] * len(tables))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger')"
            f" AND sql IS NOT NULL AND tbl_name IN ({marks}) ORDER BY rowid",
            list(tables),
        )
        schema = cursor.fetchall()
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
        fts = [
            name
            for name, sql in cursor.fetchall()
            if "USING fts5" in (sql or "") and any(f"content='{t}'" in sql for t in tables)
        ]
        cursor.execute("PRAGMA cache_size")
        cache_size = cursor.fetchone()[0]
        cursor.execute("PRAGMA synchronous")
        synchronous = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = {-1024 * cache_mb}")
        cursor.execute("PRAGMA synchronous = OFF")
        for kind, name, _ in schema:
            cursor.execute(f'DROP {kind.upper()} "{name}"')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for _, _, sql in schema:
                cursor.execute(sql)
            for name in fts:
                cursor.execute(f"INSERT INTO {name}({name}) VALUES ('rebuild')")
            cursor.execute(f"PRAGMA cache_size = {cache_size}")
            cursor.execute(f"PRAGMA synchronous = {synchronous}")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _entities_and_sources(now: datetime) -> tuple[list[int], list[int]]:
    """Ids of the entity pool (index 0: the common entity) and of the sources,
    created on first use."""
    from django.db import connection, transaction
    from django.utils.text import slugify

    from articles.models import Source
    from entities.models import Entity
    from entities.normalize import name_key, surname_key

    pool = [(COMMON_NAME, "GPE"), *entity_pool()]
    slugs: dict[str, None] = {}
    rows = []
    for name, label in pool:
        slug = slugify(name)[:200] or "entity"
        while slug in slugs:
            slug += "-x"
        slugs[slug] = None
        key = name_key(name)
        rows.append(
            (
                name,
                key,
                label,
                slug,
                False,
                0,
                0.0,
                now,
                surname_key(key, label),
                False,
                False,
                False,
            )
        )
    with transaction.atomic():
        sources = [Source.objects.get_or_create(name=name)[0].id for name in SOURCES]
        if not Entity.objects.exists():
            with connection.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO entities_entity (name, key, type, slug, blocked, story_count,"
                    " specificity, created_at, surname_key, name_locked, type_locked, unsettled)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    rows,
                )
    by_slug = dict(Entity.objects.values_list("slug", "id"))
    return [by_slug[slug] for slug in slugs], sources


ARTICLE_COLUMNS = (
    "id, url, canonical_url, content_hash, title, text, source_id, published_at, created_at,"
    " status, error, attempts, extracted_at, date_source, language, page_metadata"
)
MENTION_COLUMNS = (
    "article_id, entity_id, spans, surfaces, count, in_title, in_lead, spread, salience,"
    " stars, published_at, label"
)


def _next_id(table: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")
        return cursor.fetchone()[0]


def _flush(articles: list[tuple], mentions: list[tuple]) -> None:
    from django.db import connection, transaction

    if not articles:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _copy(cursor, "articles_article", ARTICLE_COLUMNS, articles)
            _copy(cursor, "entities_mention", MENTION_COLUMNS, mentions)
            return
        marks = lambda n: ", ".join(["%s"] * n)  # noqa: E731
        when = connection.ops.adapt_datetimefield_value
        cursor.executemany(
            f"INSERT INTO articles_article ({ARTICLE_COLUMNS}) VALUES ({marks(16)})",
            [(*a[:7], when(a[7]), when(a[8]), *a[9:12], when(a[12]), *a[13:]) for a in articles],
        )
        cursor.executemany(
            f"INSERT INTO entities_mention ({MENTION_COLUMNS}) VALUES ({marks(12)})",
            [(*m[:10], when(m[10]), *m[11:]) for m in mentions],
        )


def _copy(cursor, table: str, columns: str, rows: list[tuple]) -> None:
    """COPY … FROM STDIN in text format."""
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(_copy_value(v) for v in row) + "\n")
    buffer.seek(0)
    raw = cursor.cursor if hasattr(cursor, "cursor") else cursor
    raw.copy_expert(f"COPY {table} ({columns}) FROM STDIN", buffer)


def _copy_value(value) -> str:
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
