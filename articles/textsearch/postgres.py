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
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL

from articles import textsearch
from articles.models import Article
from articles.textsearch import MARK_CLOSE, MARK_OPEN, Condition
from articles.textsearch.candidates import candidate_counts
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

    count, more = candidate_counts("a.id", matches, [q, *params], exclude)
    return RankedIds(count, window, more)


def phrase_ids(tokens: list[str]) -> list[int]:
    vector = SearchVector("title", "text", config="simple")
    query = SearchQuery(" ".join(tokens), search_type="phrase", config="simple")
    return list(Article.objects.annotate(v=vector).filter(v=query).values_list("id", flat=True))
