"""Text search on PostgreSQL: the generated, GIN-indexed search_vector column
(articles/migrations/0003_postgres_search.py), `websearch` query syntax for
user input (never `raw`), ts_rank over a bounded candidate set, and
ts_headline only on the rows of the page shown. Acronyms and short words
(articles/textsearch/terms.py) go through a second, unstemmed 'simple'
vector's GIN index, acronyms then checked in capitals in the text.
"""

from __future__ import annotations

from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
    SearchVector,
    SearchVectorField,
)
from django.db import connection
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL

from articles import textsearch
from articles.models import Article
from articles.textsearch import MARK_CLOSE, MARK_OPEN, Condition
from articles.textsearch.candidates import cached_ranking, candidate_counts
from articles.textsearch.terms import Phrase, Terms
from newsgraph.infra.ranked_ids import RankedIds

# The stories' words as written, unstemmed and with no stop words: GIN-indexed
# by this very expression (articles/migrations/0010_postgres_simple_search.py),
# for the words the English vector stems or drops ("US", "who", "it").
SIMPLE_VECTOR = (
    "to_tsvector('simple'::regconfig, coalesce({a}.title, '') || ' ' || coalesce({a}.text, ''))"
)


ACRONYM_CANDIDATES = 2 * textsearch.TEXT_CANDIDATES


def _websearch(terms: Terms) -> str:
    """The terms as websearch syntax: all the words, or any of the phrases."""
    if terms.any_phrase:
        return " or ".join('"' + p.text.replace('"', " ") + '"' for p in terms.phrases)
    return " ".join(p.text for p in terms.phrases)


def _phrase_sql(phrase: Phrase) -> tuple[str, list]:
    """One phrase: through the English vector's index (stemmed, as SQLite's
    FTS5 phrase); with an exact word, through the simple vector's index, then
    (for an acronym) in capitals in the text itself."""
    if not phrase.exact:
        return "a.search_vector @@ phraseto_tsquery('english'::regconfig, %s)", [phrase.text]
    sql = f"{SIMPLE_VECTOR.format(a='a')} @@ phraseto_tsquery('simple'::regconfig, %s)"
    params: list = [phrase.text]
    acronyms = [w.text for w in phrase.words if w.acronym]
    if acronyms:
        # Checking a story reads its text (detoasted: ~0.1 ms), and a common
        # lower-case word ("who") is in most stories: only the newest
        # ACRONYM_CANDIDATES stories with the word in any case are checked.
        sql = (
            "a.id IN (SELECT b.id FROM articles_article b"
            f" WHERE {SIMPLE_VECTOR.format(a='b')} @@ phraseto_tsquery('simple'::regconfig, %s)"
            " ORDER BY b.id DESC LIMIT %s)"
        )
        params = [phrase.text, ACRONYM_CANDIDATES]
        # The capitals as a substring first (strpos: a byte search), so that
        # the regular expression only reads the stories that have them: a
        # common word ("who") is in most stories, "WHO" in few.
        for acronym in acronyms:
            sql += " AND (strpos(a.title, %s) > 0 OR strpos(a.text, %s) > 0)"
            params += [acronym, acronym]
        sql += " AND (a.title ~ %s OR a.text ~ %s)"
        pattern = phrase.pattern(boundary=r"\y")
        params += [pattern, pattern]
    return sql, params


def matching(terms: Terms) -> tuple[str, list]:
    """SQL on the story `a` (and params): it contains the terms."""
    if terms.any_phrase:  # an entity's names, each exactly as written
        parts = [_phrase_sql(p) for p in terms.phrases]
        return "(" + " OR ".join(f"({sql})" for sql, _ in parts) + ")", [
            param for _, params in parts for param in params
        ]
    stemmed = [p for p in terms.phrases if not p.exact]
    parts = [_phrase_sql(p) for p in terms.phrases if p.exact]
    if stemmed:
        parts.insert(
            0,
            (
                "a.search_vector @@ websearch_to_tsquery('english'::regconfig, %s)",
                [" ".join(p.text for p in stemmed)],
            ),
        )
    return " AND ".join(f"({sql})" for sql, _ in parts), [
        param for _, params in parts for param in params
    ]


def ranked_story_ids(
    terms: Terms, *, where: Condition | None = None, exclude: Condition | None = None
) -> RankedIds:
    # websearch syntax is safe for user input; never search_type="raw".
    query = SearchQuery(_websearch(terms), search_type="websearch", config="english")
    stored = RawSQL("articles_article.search_vector", [], output_field=SearchVectorField())
    # The candidates: the TEXT_CANDIDATES newest matches by story id (as on
    # SQLite); ts_rank only runs on them. Raw SQL so that the subquery reads
    # its own rows' vectors (the outer RawSQL column would correlate it).
    where_sql, params = (f" AND {where.sql}", list(where.params)) if where else ("", [])
    match_sql, match_params = matching(terms)
    matches = " FROM articles_article a WHERE " + match_sql + where_sql
    params = [*match_params, *params]
    candidates = RawSQL(
        "SELECT a.id" + matches + " ORDER BY a.id DESC LIMIT %s",
        [*params, textsearch.TEXT_CANDIDATES],
    )
    qs = (
        Article.objects.filter(id__in=candidates)
        .annotate(rank=SearchRank(stored, query))
        .order_by("-rank", "-published_at", "-id")
    )
    if exclude is not None:
        excluded = exclude.sql.format(story_id='"articles_article"."id"')
        qs = qs.filter(
            RawSQL(f"NOT EXISTS ({excluded})", exclude.params, output_field=BooleanField())
        )

    key = ("postgresql", terms.key(), where and (where.sql, where.params))
    key += (exclude and (exclude.sql, exclude.params),)
    ranked = cached_ranking(key, lambda: list(qs.values_list("id", flat=True)))
    # Words taken as typed are marked as typed (not "use" for "US").
    shown = SearchQuery(_websearch(terms), search_type="websearch", config="simple")
    marked, config = (shown, "simple") if terms.exact else (query, "english")

    def window(offset: int, limit: int):
        # Headlines are costly: only for the rows of the page shown.
        ids = ranked()[offset : offset + limit]
        headlines = dict(
            Article.objects.filter(id__in=ids)
            .annotate(
                headline=SearchHeadline(
                    "text",
                    marked,
                    config=config,
                    start_sel=MARK_OPEN,
                    stop_sel=MARK_CLOSE,
                    max_words=35,
                    min_words=15,
                )
            )
            .values_list("id", "headline")
        )
        return [
            (i, terms.unmark_lookalikes(headlines.get(i, ""), MARK_OPEN, MARK_CLOSE)) for i in ids
        ]

    count, more = candidate_counts("a.id", matches, params, exclude)
    return RankedIds(count, window, more)


def phrase_ids(tokens: list[str], *, name: str = "") -> list[int]:
    """Stories containing the words as a phrase, exactly as written (the
    'simple' configuration, no stemming). The stored, GIN-indexed English
    vector finds the candidates first: its phrase matches are a superset
    (same parser, same positions; stemming only merges words), so only they
    are read and checked, not every story's text (55 s at 100,000 stories)."""
    # The name as written, parsed as the stories were (hyphenated words).
    phrase = " ".join(name.split()) or " ".join(tokens)
    vector = SearchVector("title", "text", config="simple")
    query = SearchQuery(phrase, search_type="phrase", config="simple")
    stories = Article.objects.all()
    with connection.cursor() as cursor:
        cursor.execute("SELECT numnode(phraseto_tsquery('english'::regconfig, %s))", [phrase])
        only_stop_words = cursor.fetchone()[0] == 0
    if not only_stop_words:  # e.g. "The Who": no English terms to look up
        stories = stories.filter(
            RawSQL(
                "articles_article.search_vector @@ phraseto_tsquery('english'::regconfig, %s)",
                [phrase],
                output_field=BooleanField(),
            )
        )
    return list(stories.annotate(v=vector).filter(v=query).values_list("id", flat=True))
