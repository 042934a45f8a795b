"""Reads about stories that pages need beyond search: the languages stored
(for the search page's language filter), and the copy groups of the stories
a page shows (SPEC §12)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connections, router
from django.db.models import Q
from django.db.models.functions import Length

from articles.languages import language_name
from articles.models import Article
from newsgraph.infra import pagecache


def stored_languages() -> list[tuple[str, str]]:
    """(code, name) of every language some story is in, by name; cached per
    corpus version (ingestion bumps it)."""

    def compute() -> list[str]:
        # One index probe a language (a loose index scan): DISTINCT read the
        # whole language index, 1M entries at 1M stories (120 ms -> 0.2 ms).
        table = Article._meta.db_table
        with connections[router.db_for_read(Article)].cursor() as cursor:
            cursor.execute(
                f"WITH RECURSIVE found(code) AS ("
                f" SELECT MIN(language) FROM {table} WHERE language > ''"
                f" UNION ALL SELECT (SELECT MIN(language) FROM {table} WHERE language > code)"
                f" FROM found WHERE code IS NOT NULL)"
                f" SELECT code FROM found WHERE code IS NOT NULL"
            )
            return [code for (code,) in cursor.fetchall()]

    codes = pagecache.cached(pagecache.CORPUS, "languages", compute, timeout=3600)
    return sorted(((code, language_name(code)) for code in codes), key=lambda c: c[1])


# -- copy groups (articles/copies.py) ------------------------------------------

ALSO_SHOWN = 3


@dataclass
class CopyGroup:
    """A story's copy group as a page shows it: its representative and every
    other member, earliest first (with their source, and `chars`, the text's
    length)."""

    representative: Article
    members: list[Article]
    story_id: int

    @property
    def others(self) -> list[Article]:
        return [m for m in self.members if m.pk != self.story_id]

    @property
    def also_shown(self) -> list[Article]:
        return self.others[:ALSO_SHOWN]

    @property
    def also_more(self) -> int:
        return max(0, len(self.others) - ALSO_SHOWN)

    @property
    def is_copy(self) -> bool:
        return self.representative.pk != self.story_id


def attach_copy_groups(stories: Sequence[Article]) -> None:
    """Set `copy_group` (a CopyGroup, None for a story without copies) on
    each story, with one query for all of them, and none when the stories
    were read `with_has_copies()` and none has copies or is one."""
    group_ids = {
        s.copy_of_id or s.pk for s in stories if s.copy_of_id or getattr(s, "has_copies", True)
    }
    members: dict[int, list[Article]] = {}
    if group_ids:
        rows = (
            Article.objects.filter(Q(pk__in=group_ids) | Q(copy_of_id__in=group_ids))
            .select_related("source")
            .only("id", "url", "title", "published_at", "copy_of_id", "source__name")
            .annotate(chars=Length("text"))
            .order_by("published_at", "id")
        )
        for row in rows:
            members.setdefault(row.copy_of_id or row.pk, []).append(row)
    for story in stories:
        group = members.get(story.copy_of_id or story.pk, [])
        if len(group) < 2:
            story.copy_group = None
            continue
        rep = next(m for m in group if m.copy_of_id is None)
        story.copy_group = CopyGroup(representative=rep, members=group, story_id=story.pk)


def copy_of_urls(stories: Sequence[Article]) -> dict[int, str]:
    """Each copy's representative's URL, by story id, in one query (for
    exports and the API: `copy_of`)."""
    rep_ids = {s.copy_of_id for s in stories if s.copy_of_id}
    urls = dict(Article.objects.filter(pk__in=rep_ids).values_list("id", "url")) if rep_ids else {}
    return {s.pk: urls[s.copy_of_id] for s in stories if s.copy_of_id in urls}
