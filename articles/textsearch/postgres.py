"""Text search on PostgreSQL: the generated, GIN-indexed search_vector column
(articles/migrations/0003_postgres_search.py), `websearch` query syntax for
user input (never `raw`), ts_rank over a bounded candidate set, and
ts_headline only on the rows of the page shown.
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
from newsgraph.infra.ranked_ids import RankedIds


def ranked_story_ids(
    q: str, *, where: Condition | None = None, exclude: Condition | None = None
) -> RankedIds:
    # websearch syntax is safe for user input; never search_type="raw".
    query = SearchQuery(q, search_type="websearch", config="english")
    stored = RawSQL("articles_article.search_vector", [], output_field=SearchVectorField())
    # The candidates: the TEXT_CANDIDATES newest matches by story id (as on
    # SQLite); ts_rank only runs on them. Raw SQL so that the subquery reads
    # its own rows' vectors (the outer RawSQL column would correlate it).
    where_sql, params = (f" AND {where.sql}", list(where.params)) if where else ("", [])
    matches = (
        " FROM articles_article a"
        " WHERE a.search_vector @@ websearch_to_tsquery('english'::regconfig, %s)" + where_sql
    )
    candidates = RawSQL(
        "SELECT a.id" + matches + " ORDER BY a.id DESC LIMIT %s",
        [q, *params, textsearch.TEXT_CANDIDATES],
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

    key = ("postgresql", q, where and (where.sql, where.params))
    key += (exclude and (exclude.sql, exclude.params),)
    ranked = cached_ranking(key, lambda: list(qs.values_list("id", flat=True)))

    def window(offset: int, limit: int):
        # Headlines are costly: only for the rows of the page shown.
        ids = ranked()[offset : offset + limit]
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

    count, more = candidate_counts("a.id", matches, [q, *params], exclude)
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
