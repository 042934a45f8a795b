"""Reading the database and the pages while real workers change them."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from articles.models import Article
from entities.models import Mention
from tests.integration.processes import Worker, wait_for

_STORY = re.compile(r'<article class="story">(.*?)</article>', re.S)
_TITLE = re.compile(r'class="story-title"><a [^>]*>(.*?)</a>', re.S)
_ABOUT_ITEM = re.compile(
    r'<li(?: class="current")?><a href="[^"]*">([^<]*)</a>\s*'
    r'<span class="stars stars-(\d)"[^>]*>(★+)</span>\s*</li>'
)

EXTRACT = r"entities\.extract_articles"
EXTRACT_DONE = EXTRACT + r"\[[^\]]+\] succeeded"
RESCORE_DONE = r"entities\.tasks\.rescore\[[^\]]+\] succeeded"


def about_lists(page: str) -> dict[str, list[tuple[str, int]]]:
    """{story title: [(entity name, stars), …]} from a search results page,
    checking that each entry's ★ string matches its star count."""
    stories = {}
    for block in _STORY.findall(page):
        title = html.unescape(_TITLE.search(block).group(1).strip())
        items = []
        for name, stars, shown in _ABOUT_ITEM.findall(block):
            assert len(shown) == int(stars), (name, stars, shown)
            items.append((html.unescape(name), int(stars)))
        stories[title] = items
    return stories


def worker_tails(workers: Sequence[Worker]) -> str:
    return "\n".join(w.tail() for w in workers)


def wait_extracted(
    ids: Sequence[int], workers: Sequence[Worker], *, timeout: float = 60
) -> list[Article]:
    """Wait until every story is extracted; a failed one fails the test at once."""
    ids = list(ids)

    def done() -> bool:
        rows = list(Article.objects.filter(id__in=ids).values_list("id", "status", "error"))
        failed = [row for row in rows if row[1] == Article.Status.FAILED]
        assert not failed, f"extraction failed: {failed}\n{worker_tails(workers)}"
        return len(rows) == len(ids) and all(s == Article.Status.EXTRACTED for _, s, _ in rows)

    wait_for(
        done,
        timeout=timeout,
        what=f"{len(ids)} stories to be extracted",
        on_timeout=lambda: worker_tails(workers),
    )
    return list(Article.objects.filter(id__in=ids).order_by("id"))


def mention_snapshot(article_id: int) -> set[tuple[str, int, tuple[tuple[int, int], ...]]]:
    return {
        (name, count, tuple(tuple(span) for span in spans))
        for name, count, spans in Mention.objects.filter(article_id=article_id).values_list(
            "entity__name", "count", "spans"
        )
    }


def assert_mentions_consistent(article_id: int) -> int:
    """One row per entity, `count` = number of spans, no span claimed twice."""
    rows = list(Mention.objects.filter(article_id=article_id).values_list("entity_id", "spans"))
    assert rows, "the story has no mentions"
    entity_ids = [entity_id for entity_id, _ in rows]
    assert len(entity_ids) == len(set(entity_ids)), "duplicate mentions of one entity"
    spans = [tuple(span) for _, entity_spans in rows for span in entity_spans]
    assert len(spans) == len(set(spans)), "one span belongs to two mentions"
    for count, entity_spans in Mention.objects.filter(article_id=article_id).values_list(
        "count", "spans"
    ):
        assert count == len(entity_spans)
    return len(rows)


def log_lines_after(worker: Worker, pattern: str, *, after: int = 0) -> list[str]:
    """Lines matching `pattern` among the log's lines from number `after` on."""
    regex = re.compile(pattern)
    return [line for line in worker.log().splitlines()[after:] if regex.search(line)]


def wait_rescored_after(worker: Worker, task: str, *, after: int = 0) -> None:
    """Wait for a rescoring that finished after the last `task` line logged
    from line `after` on; a rescoring that raised fails the test at once."""

    def rescored() -> bool:
        lines = worker.log().splitlines()[after:]
        failed = [line for line in lines if re.search(r"rescore\[[^\]]+\] raised", line)]
        assert not failed, "rescoring failed in the worker:\n" + "\n".join(failed)
        ran = [i for i, line in enumerate(lines) if re.search(task + r"\[[^\]]+\] succeeded", line)]
        done = [i for i, line in enumerate(lines) if re.search(RESCORE_DONE, line)]
        return bool(ran and done and done[-1] > ran[-1])

    wait_for(rescored, what=f"a rescoring after {task}", on_timeout=worker.tail)
