"""Reads about stories that pages need beyond search: the languages stored
(for the search page's language filter)."""

from __future__ import annotations

from articles.languages import language_name
from articles.models import Article
from newsgraph.infra import pagecache


def stored_languages() -> list[tuple[str, str]]:
    """(code, name) of every language some story is in, by name; cached per
    corpus version (ingestion bumps it)."""

    def compute() -> list[str]:
        return list(
            Article.objects.exclude(language="")
            .order_by()
            .values_list("language", flat=True)
            .distinct()
        )

    codes = pagecache.cached(pagecache.CORPUS, "languages", compute, timeout=3600)
    return sorted(((code, language_name(code)) for code in codes), key=lambda c: c[1])
