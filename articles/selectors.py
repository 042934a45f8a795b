"""Page queries: search, story lists, the story page.

This is the one module where the database vendors differ: SQLite answers text
queries through an FTS5 table, PostgreSQL through its full-text search. Entity
queries are answered from the mentions table (index on entity, salience,
published_at, article) on both, so their cost does not grow with the number of
text matches. Text ranking looks at a bounded candidate set, the
TEXT_CANDIDATES most recently added stories that contain the words (SPEC §9:
ranking cost grows with the number of matches); a query with more matches says
so with a "+" after its count.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from html import escape as html_escape

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db import DatabaseError, connection
from django.db.models import Case, Exists, JSONField, OuterRef, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from articles.models import Article, Source
from entities.models import Alias, Entity, Mention, StarsMixin
from entities.normalize import name_key, rule_key
from entities.selectors import trending_entities
from newsgraph import pagecache

MARK_OPEN, MARK_CLOSE = "\ue000", "\ue001"
_TOKEN = re.compile(r"\w+", re.UNICODE)
# NUL and other control characters: PostgreSQL refuses NUL in a string.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\ue000\ue001]")
MAX_QUERY_TOKENS = 12
SNIPPET_CHARS = 220
_SLUG = "slug-placeholder"
# Full-text relevance is computed over at most this many matching stories, the
# most recently added ones; with fewer matches the ranking is over all of them.
TEXT_CANDIDATES = 1000
SEARCH_COUNTS_CACHE_SECONDS = 5 * 60


@dataclass
class SearchFilters:
    date_from: date | None = None
    date_to: date | None = None
    source: Source | None = None
    entity_type: str = ""

    def article_q(self, prefix: str = "") -> Q:
        q = Q()
        if self.date_from:
            start = timezone.make_aware(datetime.combine(self.date_from, time.min))
            q &= Q(**{f"{prefix}published_at__gte": start})
        if self.date_to:
            # The end of that day, inclusive (no "+ 1 day": 9999-12-31 must not overflow).
            end = timezone.make_aware(datetime.combine(self.date_to, time.max))
            q &= Q(**{f"{prefix}published_at__lte": end})
        if self.source:
            q &= Q(**{f"{prefix}source": self.source})
        if self.entity_type:
            typed = Mention.objects.filter(
                article_id=OuterRef(f"{prefix}id" if prefix else "id"),
                entity__type=self.entity_type,
                entity__blocked=False,
            )
            q &= Q(Exists(typed))
        return q

    @property
    def active(self) -> bool:
        return bool(self.date_from or self.date_to or self.source or self.entity_type)


@dataclass
class SearchResults:
    query: str
    mode: str  # "latest", "entity" or "text"
    page: Page
    entity: Entity | None = None
    did_you_mean: list[Entity] = field(default_factory=list)
    trending: list[Entity] = field(default_factory=list)
    error: str = ""
    # Entity mode: how many of the results are the entity's own stories (the
    # rest only contain the words).
    about_total: int | None = None
    # More stories contain the words than the TEXT_CANDIDATES that are ranked.
    more: bool = False

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


class _RankedIds:
    """What Paginator needs (count and slicing) over ordered story ids, so
    stories are only loaded for the page shown."""

    def __init__(self, count, window, more=None):
        self._count, self._window, self._cached = count, window, None
        self._more, self._more_cached = more, None

    def more(self) -> bool:
        """Whether matches beyond the ranked candidate set exist."""
        if self._more is None:
            return False
        if self._more_cached is None:
            self._more_cached = bool(self._more())
        return self._more_cached

    def count(self) -> int:
        if self._cached is None:
            self._cached = self._count()
        return self._cached

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item: slice):
        return self._window(item.start or 0, (item.stop or 0) - (item.start or 0))


class _ChainedIds:
    """Two ranked lists one after the other: all of `first`, then `then`."""

    def __init__(self, first: _RankedIds, then: _RankedIds):
        self._first, self._then = first, then

    def count(self) -> int:
        return self._first.count() + self._then.count()

    def more(self) -> bool:
        return self._then.more()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item: slice):
        start, stop = item.start or 0, item.stop or 0
        head = self._first.count()
        rows = list(self._first[start:stop]) if start < head else []
        if stop > head:
            rows += list(self._then[max(0, start - head) : stop - head])
        return rows


# --- search -------------------------------------------------------------------


def clean_query(q: str, limit: int = 200) -> str:
    """User text as one line: no control characters, whitespace folded."""
    return " ".join(_CONTROL.sub(" ", q or "").split())[:limit]


def entity_for_query(q: str) -> Entity | None:
    """The entity a query names: canonical name or alias, case-insensitive."""
    if not q.strip():
        return None
    # Entity.objects.matching_name(q), as an id look-up through the key
    # indexes of both tables: its OR across a join to the aliases scans every
    # entity (7–30 ms on PostgreSQL at 20k entities).
    keys = sorted({name_key(q), rule_key(q)})
    marks = ", ".join(["%s"] * len(keys))
    ids = RawSQL(
        f"SELECT id FROM {Entity._meta.db_table} WHERE key IN ({marks})"
        f" UNION SELECT entity_id FROM {Alias._meta.db_table} WHERE key IN ({marks})",
        [*keys, *keys],
    )
    return (
        Entity.objects.visible()
        .filter(id__in=ids)
        .prefetch_related("aliases")
        .order_by("-story_count", "id")
        .first()
    )


def search(
    *,
    q: str,
    filters: SearchFilters | None = None,
    page: int | str = 1,
    about_order: str = "name",
) -> SearchResults:
    filters = filters or SearchFilters()
    q = clean_query(q)
    entity = entity_for_query(q)
    error = ""
    if not q:
        mode = "latest"
        ids = _latest_ids(filters)
    elif entity:
        # The stories about the entity, by its stars and score in each; then
        # the stories that only contain the words, by relevance and recency.
        mode = "entity"
        about_ids = _entity_ids(entity, filters, order="stars")
        ids = _ChainedIds(about_ids, _text_ids(q, filters, exclude_entity=entity))
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
    _hydrate(result_page, entity=entity, about_order=about_order)
    results = SearchResults(query=q, mode=mode, page=result_page, entity=entity, error=error)
    if mode == "entity" and not error:
        results.about_total = about_ids.count()  # cached by the paginator's count
    if mode in ("entity", "text") and not error:
        results.more = ids.more()
    if mode == "latest" and not filters.active:
        results.trending = trending_entities()
    # A near-miss name finds little: a query matching pages of stories was
    # understood, and comparing it with every entity name costs tens of ms.
    if q and not entity and results.total < settings.SEARCH_PAGE_SIZE:
        results.did_you_mean = nearest_entities(q)
    return results


def _latest_ids(filters: SearchFilters) -> _RankedIds:
    qs = Article.objects.filter(filters.article_q()).newest_first().values_list("id", flat=True)
    return _RankedIds(
        qs.count, lambda offset, limit: [(i, "") for i in qs[offset : offset + limit]]
    )


def _entity_ids(entity: Entity, filters: SearchFilters, *, order: str) -> _RankedIds:
    # Mention.published_at (the story's date) lets both orders be read from
    # an index range (mention_entity_rank_idx, mention_entity_date_idx).
    qs = Mention.objects.filter(entity=entity)
    if filters.active:
        qs = qs.filter(filters.article_q("article__"))
    qs = qs.newest_first() if order == "date" else qs.most_about_first()
    ids = qs.values_list("article_id", flat=True)
    return _RankedIds(
        ids.count, lambda offset, limit: [(i, "") for i in ids[offset : offset + limit]]
    )


def _fts_match(q: str) -> str:
    """User words as quoted FTS5 strings: never MATCH syntax (SPEC §9)."""
    tokens = _TOKEN.findall(q)[:MAX_QUERY_TOKENS]
    return " ".join('"' + t.replace('"', '""') + '"' for t in tokens)


def _filter_subquery(filters: SearchFilters) -> tuple[str, list]:
    if not filters.active:
        return "", []
    sql, params = Article.objects.filter(filters.article_q()).values("id").query.sql_with_params()
    return f" AND a.id IN ({sql})", list(params)


def _candidate_counts(id_column: str, matches: str, params: list, exclude_entity):
    """(count, more) for a text result list, from one bounded query: how many
    of the TEXT_CANDIDATES newest matches are listed (not about
    `exclude_entity`), and whether there are matches beyond them. Reads at
    most TEXT_CANDIDATES + 1 matches, however many there are."""
    keep, keep_params = "1", []
    if exclude_entity is not None:
        # A scalar subquery, probed per candidate through the (article,
        # entity) index: as EXISTS, PostgreSQL hashes all of the entity's
        # stories first (30,000 for "Iran": +4 ms).
        keep = (
            f"CASE WHEN (SELECT 1 FROM {Mention._meta.db_table} m"
            " WHERE m.article_id = a.id AND m.entity_id = %s LIMIT 1) IS NULL THEN 1 ELSE 0 END"
        )
        keep_params = [exclude_entity.id]
    sql = (
        "SELECT COUNT(*), SUM(c.keep), MIN(c.id), MIN(CASE WHEN c.keep = 1 THEN c.id END)"
        f" FROM (SELECT {id_column} AS id, {keep} AS keep"
        + matches
        + f" ORDER BY {id_column} DESC LIMIT %s) c"
    )
    sql_params = [*keep_params, *params, TEXT_CANDIDATES + 1]
    cached: list[tuple[int, bool]] = []

    def query() -> tuple[int, bool]:
        with connection.cursor() as cursor:
            cursor.execute(sql, sql_params)
            n, kept, lowest, lowest_kept = cursor.fetchone()
        more, kept = n > TEXT_CANDIDATES, kept or 0
        if more and lowest_kept is not None and lowest_kept == lowest:
            kept -= 1  # the extra row read to see whether there are more
        return kept, more

    def counts() -> tuple[int, bool]:
        if not cached:
            # Shared between requests (a popular query costs 10–15 ms on
            # PostgreSQL at 100,000 stories) until a story is added, edited,
            # extracted or curated (pagecache.CORPUS).
            digest = hashlib.sha256(repr((sql, sql_params)).encode()).hexdigest()
            cached.append(
                pagecache.cached(
                    pagecache.CORPUS,
                    f"search-counts:{digest}",
                    query,
                    timeout=SEARCH_COUNTS_CACHE_SECONDS,
                )
            )
        return cached[0]

    return (lambda: counts()[0]), (lambda: counts()[1])


def _text_ids(
    q: str, filters: SearchFilters, *, exclude_entity: Entity | None = None
) -> _RankedIds:
    """Stories whose title or text contains the words, best match first;
    without the stories that mention `exclude_entity`."""
    if connection.vendor == "postgresql":
        return _text_ids_postgres(q, filters, exclude_entity=exclude_entity)
    match = _fts_match(q)
    if not match:
        return _RankedIds(lambda: 0, lambda offset, limit: [])
    where, params = _filter_subquery(filters)
    matches = (
        " FROM articles_article_fts f JOIN articles_article a ON a.id = f.rowid"
        " WHERE articles_article_fts MATCH %s" + where
    )
    # The candidates: the TEXT_CANDIDATES newest matches by story id, which
    # FTS5 reads in rowid order without looking at the others.
    base = (
        matches + " AND f.rowid >= (SELECT MIN(rowid) FROM (SELECT f.rowid" + matches
    ) + " ORDER BY f.rowid DESC LIMIT %s))"
    base_params = [match, *params, match, *params, TEXT_CANDIDATES]
    if exclude_entity is not None:
        base += (
            f" AND NOT EXISTS (SELECT 1 FROM {Mention._meta.db_table} m"
            " WHERE m.article_id = a.id AND m.entity_id = %s)"
        )
        base_params.append(exclude_entity.id)

    count, more = _candidate_counts("f.rowid", matches, [match, *params], exclude_entity)

    def window(offset: int, limit: int):
        sql = (
            "SELECT a.id, snippet(articles_article_fts, 1, %s, %s, '…', 32)"
            + base
            + " ORDER BY bm25(articles_article_fts, 10.0, 1.0), a.published_at DESC, a.id DESC"
            " LIMIT %s OFFSET %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [MARK_OPEN, MARK_CLOSE, *base_params, limit, offset])
            return cursor.fetchall()

    return _RankedIds(count, window, more)


def _text_ids_postgres(
    q: str, filters: SearchFilters, *, exclude_entity: Entity | None = None
) -> _RankedIds:
    from django.contrib.postgres.search import (
        SearchHeadline,
        SearchQuery,
        SearchRank,
        SearchVectorField,
    )

    # websearch syntax is safe for user input; never search_type="raw".
    query = SearchQuery(q, search_type="websearch", config="english")
    stored = RawSQL("articles_article.search_vector", [], output_field=SearchVectorField())
    # The candidates: the TEXT_CANDIDATES newest matches by story id (as on
    # SQLite); ts_rank only runs on them. Raw SQL so that the subquery reads
    # its own rows' vectors (the outer RawSQL column would correlate it).
    where, params = _filter_subquery(filters)
    matches = (
        " FROM articles_article a"
        " WHERE a.search_vector @@ websearch_to_tsquery('english'::regconfig, %s)" + where
    )
    candidates = RawSQL(
        "SELECT a.id" + matches + " ORDER BY a.id DESC LIMIT %s", [q, *params, TEXT_CANDIDATES]
    )
    qs = (
        Article.objects.filter(id__in=candidates)
        .annotate(rank=SearchRank(stored, query))
        .order_by("-rank", "-published_at", "-id")
    )
    if exclude_entity is not None:
        qs = qs.exclude(
            Exists(Mention.objects.filter(article_id=OuterRef("id"), entity=exclude_entity))
        )

    def window(offset: int, limit: int):
        # Headlines are costly: only for the rows of the page shown.
        ids = list(qs.values_list("id", flat=True)[offset : offset + limit])
        headlines = dict(
            Article.objects.filter(id__in=ids)
            .annotate(
                headline=SearchHeadline(
                    "text",
                    query,
                    config="english",
                    start_sel=MARK_OPEN,
                    stop_sel=MARK_CLOSE,
                    max_words=35,
                    min_words=15,
                )
            )
            .values_list("id", "headline")
        )
        return [(i, headlines.get(i, "")) for i in ids]

    count, more = _candidate_counts("a.id", matches, [q, *params], exclude_entity)
    return _RankedIds(count, window, more)


def _marked_to_html(snippet: str) -> SafeString:
    html = escape(snippet).replace(MARK_OPEN, "<mark>").replace(MARK_CLOSE, "</mark>")
    return mark_safe(html)  # escaped above; only our own <mark> tags remain


def _span_snippet(article: Article, spans: list[list[int]]) -> SafeString:
    """A window of the text around the entity's first mention in the body."""
    body_start = len(article.title) + 2
    body = [(s - body_start, e - body_start) for s, e in spans if s >= body_start]
    text = article.text
    if not body:
        return _marked_to_html(_truncate(article.lead()))
    first = body[0][0]
    start = max(0, first - SNIPPET_CHARS // 3)
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < first else start
    end = min(len(text), start + SNIPPET_CHARS)
    if end < len(text):
        space = text.rfind(" ", first, end)
        end = space if space > first else end
    pieces, cursor = [], start
    for s, e in body:
        if s < cursor or e > end:
            continue
        pieces += [text[cursor:s], MARK_OPEN, text[s:e], MARK_CLOSE]
        cursor = e
    pieces.append(text[cursor:end])
    snippet = "".join(pieces).replace("\n\n", " ")
    return _marked_to_html(("…" if start else "") + snippet + ("…" if end < len(text) else ""))


def _truncate(text: str, limit: int = SNIPPET_CHARS) -> str:
    if len(text) <= limit:
        return text
    return text[: text.rfind(" ", 0, limit) if " " in text[:limit] else limit] + "…"


@dataclass(slots=True, eq=False)
class AboutEntry(StarsMixin):
    """One entity of a story's about-list, from plain column values: a result
    page shows ~600 of them, and as Mention and Entity model instances they
    cost ~10 ms of each page (docs/BENCHMARKS.md)."""

    entity_id: int
    name: str
    slug: str
    type: str
    story_count: int
    stars: int
    score: float
    spans: list | None = None  # only for the entity a page is about
    link_html: str = ""

    @classmethod
    def of(cls, mention: Mention) -> AboutEntry:
        entity = mention.entity
        return cls(
            entity_id=mention.entity_id,
            name=entity.name,
            slug=entity.slug,
            type=entity.type,
            story_count=entity.story_count,
            stars=mention.stars,
            score=mention.score,
            spans=mention.spans,
        )


def about_entries(article_ids: list[int], *, spans_of: Entity | None) -> dict[int, list]:
    """Each story's visible entities; with the spans of `spans_of` only (the
    entity a page is about, for its snippets). Two index look-ups, mentions
    then their entities: as one join PostgreSQL misjudges the ~600 rows and
    hashes the whole entity table (8 ms at 20,000 entities)."""
    spans = (
        Case(When(entity_id=spans_of.id, then="spans"), output_field=JSONField())
        if spans_of is not None
        else Value(None, output_field=JSONField())
    )
    rows = list(
        Mention.objects.filter(article_id__in=article_ids)
        .annotate(entity_spans=spans)
        .values_list("article_id", "entity_id", "stars", "salience", "entity_spans")
    )
    entities = {
        row[0]: row
        for row in Entity.objects.visible()
        .filter(id__in={row[1] for row in rows})
        .values_list("id", "name", "slug", "type", "story_count", "specificity")
    }
    entries: dict[int, list] = {i: [] for i in article_ids}
    for article_id, entity_id, stars, salience, entity_spans in rows:
        entity = entities.get(entity_id)
        if entity is not None:
            *fields, specificity = entity
            entries[article_id].append(
                AboutEntry(*fields, stars, salience * specificity, entity_spans)
            )
    return entries


def _hydrate(page: Page, *, entity: Entity | None, about_order: str) -> None:
    """Replace the page's (id, snippet) rows by stories with their about-lists."""
    rows = list(page.object_list)
    ids = [r[0] for r in rows]
    articles = Article.objects.filter(id__in=ids).select_related("source").in_bulk()
    entries = about_entries(ids, spans_of=entity) if articles else {}
    stories = []
    for article_id, snippet in rows:
        article = articles.get(article_id)
        if article is None:
            continue
        article.about = entries[article_id]
        if snippet:
            article.snippet = _marked_to_html(snippet)
        elif entity is not None:
            spans = next((m.spans for m in article.about if m.entity_id == entity.id), None)
            article.snippet = _span_snippet(article, spans or [])
        else:
            article.snippet = _marked_to_html(_truncate(article.lead()))
        arrange_about_list(article, about_order=about_order, highlight=entity)
        stories.append(article)
    page.object_list = stories


def arrange_about_list(
    article: Article, *, about_order: str, highlight: Entity | None = None
) -> None:
    """About-list shown once per story: all of it, or the top ones by stars and
    the rest behind "show all". `article.about` holds AboutEntry items."""
    entries = article.about
    # Entity links from one reverse() per story rather than one per entry.
    head, _, tail = reverse("entities:detail", args=[_SLUG]).rpartition(_SLUG)
    for m in entries:
        url = f"{head}{m.slug}{tail}"
        label = m.stars_label
        # One ready-made value per entry for the template (~600 per page), in
        # place of format_html (16 ms a page); each piece of data is escaped.
        m.link_html = mark_safe(
            f'<a href="{html_escape(url)}">{html_escape(m.name)}</a> <span class="stars'
            f' stars-{m.stars:d}" role="img" aria-label="{label}" title="{label}">'
            f"{m.stars_display}</span>\n"
        )

    def stars_first(m):
        return (-m.stars, -m.score, m.name.casefold())

    def by_name(m):
        return (m.name.casefold(), m.entity_id)

    limit = settings.ABOUT_LIST_LIMIT
    by_stars = sorted(entries, key=stars_first)
    shown, more = (by_stars[:limit], by_stars[limit:]) if len(entries) > limit else (entries, [])
    key = stars_first if about_order == "stars" else by_name
    article.about_shown = sorted(shown, key=key)
    article.about_more = sorted(more, key=key)
    article.highlight_entity_id = highlight_id = highlight.id if highlight else None
    # The list items as one value per list: a template loop over ~600 entries
    # costs more than the rest of the page (docs/BENCHMARKS.md).
    article.about_shown_html = mark_safe(
        "".join(
            f'<li class="current">{m.link_html}</li>'
            if m.entity_id == highlight_id
            else f"<li>{m.link_html}</li>"
            for m in article.about_shown
        )
    )
    article.about_more_html = mark_safe(
        "".join(f"<li>{m.link_html}</li>" for m in article.about_more)
    )


# --- discovery ------------------------------------------------------------------


def nearest_entities(q: str, *, limit: int = 5) -> list[Entity]:
    """Entity names close to a query ("Tehram" → Tehran), best first."""
    key = name_key(clean_query(q))
    if not key or len(key) > 80:
        return []
    visible = Entity.objects.visible().filter(story_count__gt=0)
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import TrigramSimilarity, TrigramWordSimilarity
        from django.db.models.functions import Greatest

        # Both lookups use the GIN index; the annotations only rank their hits.
        # Word similarity finds a misspelt surname in a full name ("Nimma").
        return list(
            visible.filter(Q(key__trigram_similar=key) | Q(key__trigram_word_similar=key))
            .annotate(
                similarity=Greatest(
                    TrigramSimilarity("key", key), TrigramWordSimilarity(key, "key")
                )
            )
            .order_by("-similarity", "-story_count", "id")[:limit]
        )
    pool = list(visible.order_by("-story_count", "id").values_list("id", "key")[:20000])
    keys = {k: i for i, k in reversed(pool)}
    close = difflib.get_close_matches(key, list(keys), n=limit, cutoff=0.72)
    by_word: dict[str, str] = {}
    if len(key) >= 4 and " " not in key:
        for k in reversed(keys):  # the most-read entity keeps a shared word
            for word in _TOKEN.findall(k):
                if len(word) >= 4:
                    by_word[word] = k
    words = difflib.get_close_matches(key, list(by_word), n=limit, cutoff=0.8)
    containing = [k for k in keys if len(key) >= 3 and key in k]
    chosen: list[int] = []
    for k in [*close, *(by_word[w] for w in words), *containing]:
        if keys[k] not in chosen:
            chosen.append(keys[k])
    chosen = chosen[:limit]
    found = Entity.objects.in_bulk(chosen)
    return [found[i] for i in chosen if i in found]


def suggest_entities(q: str, *, limit: int = 8) -> QuerySet[Entity]:
    key = name_key(clean_query(q))
    if not key:
        return Entity.objects.none()
    return (
        Entity.objects.visible()
        .filter(
            Q(key__startswith=key) | Q(aliases__key__startswith=key) | Q(key__contains=f" {key}")
        )
        .filter(story_count__gt=0)
        .distinct()
        .order_by("-story_count", "name")[:limit]
    )


# --- entity and story pages ---------------------------------------------------------


def entity_stories(
    *, entity: Entity, order: str = "stars", page: int | str = 1, about_order: str = "name"
) -> Page:
    ids = _entity_ids(entity, SearchFilters(), order=order)
    result_page = Paginator(ids, settings.SEARCH_PAGE_SIZE).get_page(page)
    _hydrate(result_page, entity=entity, about_order=about_order)
    return result_page


def article_ids_containing(name: str) -> list[int]:
    """Stories whose text contains this name as a phrase (used when a rule
    changes and old stories must be looked at again)."""
    tokens = _TOKEN.findall(name)
    if not tokens:
        return []
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchVector

        vector = SearchVector("title", "text", config="simple")
        query = SearchQuery(" ".join(tokens), search_type="phrase", config="simple")
        return list(Article.objects.annotate(v=vector).filter(v=query).values_list("id", flat=True))
    phrase = '"' + " ".join(tokens).replace('"', '""') + '"'
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rowid FROM articles_article_fts WHERE articles_article_fts MATCH %s", [phrase]
        )
        return [row[0] for row in cursor.fetchall()]


def article_detail(*, article_id: int) -> Article:
    article = Article.objects.with_about_list().get(pk=article_id)
    article.title_html, article.paragraphs = highlighted_story(article)
    article.about = [AboutEntry.of(m) for m in article.about]
    arrange_about_list(article, about_order="name")
    return article


# --- story page: every mention highlighted -------------------------------------------


def _linked(text: str, offset: int, marks: list[tuple[int, int, Entity]]) -> str:
    """`text` (which starts at `offset` in the story string) as escaped HTML,
    the marked ranges linked to their entities."""
    pieces, cursor = [], 0
    for start, end, entity in marks:
        start, end = start - offset, end - offset
        pieces.append(escape(text[cursor:start]))
        pieces.append(
            f'<a class="mention mention-{escape(entity.type.lower())}" '
            f'href="{escape(entity.get_absolute_url())}" title="{escape(entity.name)}">'
            f"{escape(text[start:end])}</a>"
        )
        cursor = end
    pieces.append(escape(text[cursor:]))
    return "".join(pieces)


def highlighted_story(article: Article) -> tuple[SafeString, list[SafeString]]:
    """The title and the text paragraphs with every visible mention linked.

    Spans index `title + "\\n\\n" + text`. Spans outside the string, across the
    title/text boundary or across a paragraph break are ignored; of
    overlapping spans the earliest (then the longest) wins. Every piece of
    story text is escaped before it is joined with our own <a> tags.
    """
    title, text = article.title, article.text
    full_length = len(title) + 2 + len(text)
    body_start = len(title) + 2
    candidates = []
    for mention in getattr(article, "about", []):
        for span in mention.spans or []:
            try:
                start, end = int(span[0]), int(span[1])
            except (TypeError, ValueError, IndexError):
                continue
            if not 0 <= start < end <= full_length:
                continue
            if start < body_start and end > len(title):
                continue  # across the title/text boundary
            if start >= body_start and "\n\n" in text[start - body_start : end - body_start]:
                continue
            candidates.append((start, -end, mention.entity_id, mention.entity))
    candidates.sort(key=lambda c: (c[0], c[1], c[2]))
    marks, cursor = [], 0
    for start, neg_end, _, entity in candidates:
        if start < cursor:
            continue  # overlaps the previous mark
        marks.append((start, -neg_end, entity))
        cursor = -neg_end
    title_marks = [m for m in marks if m[1] <= len(title)]
    body_marks = [m for m in marks if m[0] >= body_start]
    title_html = mark_safe(_linked(title, 0, title_marks))  # escaped in _linked
    body_html = _linked(text, body_start, body_marks)
    return title_html, [mark_safe(p) for p in body_html.split("\n\n")]  # escaped in _linked
