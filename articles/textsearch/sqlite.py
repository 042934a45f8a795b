"""Text search on SQLite: the FTS5 table articles_article_fts (external
content, kept in sync by triggers: articles/migrations/0002_search_index.py).

User words are always quoted FTS5 strings, never MATCH syntax (SPEC §9).
The index stems (porter) and folds case, so a phrase with an acronym or a
short word is also checked against the story's title and text by a regular
expression (Django's REGEXP function), on the stories the index found.
"""

from __future__ import annotations

from django.db import connection

from articles import textsearch
from articles.textsearch import MARK_CLOSE, MARK_OPEN, Condition
from articles.textsearch.candidates import cached_ranking, candidate_counts
from articles.textsearch.terms import Phrase, Terms
from newsgraph.infra.ranked_ids import RankedIds

FTS = "articles_article_fts"


def _quoted(phrase: Phrase) -> str:
    """A phrase as one quoted FTS5 string: never MATCH syntax (SPEC §9)."""
    return '"' + " ".join(w.text for w in phrase.words).replace('"', '""') + '"'


def fts_match(terms: Terms) -> str:
    """The index's part of the search: all the words, or any of the phrases."""
    return (" OR " if terms.any_phrase else " ").join(_quoted(p) for p in terms.phrases)


def as_typed(terms: Terms) -> tuple[str, list]:
    """SQL on the story `a` (and params) keeping, of the index's matches,
    those with the exact words as typed ("" when the index's match is it)."""
    if not terms.exact:
        return "", []
    text = "(coalesce(a.title, '') || ' ' || coalesce(a.text, ''))"
    parts, params = [], []
    for phrase in terms.phrases:
        if phrase.exact:
            # An acronym's capitals as a substring first (instr, in C), so
            # that the pattern (a Python function) reads few stories.
            check = [f"instr({text}, %s) > 0" for w in phrase.words if w.acronym]
            params += [w.text for w in phrase.words if w.acronym]
            parts.append(" AND ".join([*check, f"{text} REGEXP %s"]))
            params.append(phrase.pattern())
        elif terms.any_phrase:  # this name's phrase, found by the index alone
            parts.append(f"a.id IN (SELECT rowid FROM {FTS} WHERE {FTS} MATCH %s)")
            params.append(_quoted(phrase))
    joiner = " OR " if terms.any_phrase else " AND "
    return " AND (" + joiner.join(parts) + ")", params


def ranked_story_ids(
    terms: Terms, *, where: Condition | None = None, exclude: Condition | None = None
) -> RankedIds:
    match = fts_match(terms)
    where_sql, params = (f" AND {where.sql}", list(where.params)) if where else ("", [])
    typed_sql, typed_params = as_typed(terms)
    where_sql, params = typed_sql + where_sql, [*typed_params, *params]
    matches = (
        " FROM articles_article_fts f JOIN articles_article a ON a.id = f.rowid"
        " WHERE articles_article_fts MATCH %s" + where_sql
    )
    # The candidates: the TEXT_CANDIDATES newest matches by story id, which
    # FTS5 reads in rowid order without looking at the others.
    base = (
        matches + " AND f.rowid >= (SELECT MIN(rowid) FROM (SELECT f.rowid" + matches
    ) + " ORDER BY f.rowid DESC LIMIT %s))"
    base_params = [match, *params, match, *params, textsearch.TEXT_CANDIDATES]
    if exclude is not None:
        base += f" AND NOT EXISTS ({exclude.sql.format(story_id='a.id')})"
        base_params += exclude.params

    count, more = candidate_counts("f.rowid", matches, [match, *params], exclude)

    def rank() -> list[int]:
        sql = (
            "SELECT a.id"
            + base
            + " ORDER BY bm25(articles_article_fts, 10.0, 1.0), a.published_at DESC, a.id DESC"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, base_params)
            return [story_id for (story_id,) in cursor.fetchall()]

    ranked = cached_ranking(("sqlite", base, base_params), rank)

    def window(offset: int, limit: int):
        ids = ranked()[offset : offset + limit]
        if not ids:
            return []
        # Snippets only for the rows of the page shown.
        sql = (
            "SELECT f.rowid, snippet(articles_article_fts, 1, %s, %s, '…', 32)"
            " FROM articles_article_fts f WHERE articles_article_fts MATCH %s"
            f" AND f.rowid IN ({', '.join(['%s'] * len(ids))})"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [MARK_OPEN, MARK_CLOSE, match, *ids])
            snippets = dict(cursor.fetchall())
        return [
            (story_id, terms.unmark_lookalikes(snippets.get(story_id, ""), MARK_OPEN, MARK_CLOSE))
            for story_id in ids
        ]

    return RankedIds(count, window, more)


def phrase_ids(tokens: list[str], *, name: str = "") -> list[int]:
    """Stories containing the words as a phrase (the index's, stemmed)."""
    # FTS5's unicode61 tokenizer splits "Quispe-Iqbal" as the words do.
    phrase = '"' + " ".join(tokens).replace('"', '""') + '"'
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rowid FROM articles_article_fts WHERE articles_article_fts MATCH %s", [phrase]
        )
        return [row[0] for row in cursor.fetchall()]
