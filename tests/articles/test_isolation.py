"""One bad record never stops a batch nor strands a story (issue #15).

The ingest command reports any failure against its record (file:line, entry,
URL) and goes on; only the store failing stops it, in one line. In the
embedded default every story it added is extracted before it returns, and
stories an earlier crash left pending are picked up when it starts.
"""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from articles.models import Article

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("ingest", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def good(n: int) -> bytes:
    record = {
        "url": f"https://news.example.org/world/2025/03/good-{n}/",
        "title": f"Harbour reopens in Gdansk, part {n}",
        "text": f"The harbour of Gdansk reopened on Monday, said Anna Nowak (report {n}).",
    }
    return json.dumps(record).encode() + b"\n"


LONE_SURROGATES = (
    b'{"url": "https://news.example.org/surrogate", "title": "Lone \\udc80 half",'
    b' "text": "bad \\ud800 char in a story about Gdansk."}\n'
)
DEEP_NESTING = b"[" * 100_000 + b"\n"


@pytest.mark.parametrize(
    ("bad", "summary"),
    [
        (LONE_SURROGATES, "ingest: 3 added, 0 duplicates, 0 failed"),
        (DEEP_NESTING, "ingest: 2 added, 0 duplicates, 1 failed"),
        (LONE_SURROGATES + DEEP_NESTING, "ingest: 3 added, 0 duplicates, 1 failed"),
    ],
    ids=["lone surrogate escapes", "a line of 100,000 [", "both"],
)
def test_the_inputs_of_issue_15_fail_only_their_own_lines(tmp_path, bad, summary):
    """A lone surrogate escape (valid JSON, common in scraped data) and a line
    of 100,000 '[' used to end the command with a traceback, leaving the
    stories read before them pending and the lines after them unread."""
    path = tmp_path / "hostile.jsonl"
    path.write_bytes(good(1) + bad + good(2))

    out, err = run(str(path))

    assert summary in out
    assert "Traceback" not in err
    if DEEP_NESTING in bad:
        deep_line = 2 + (LONE_SURROGATES in bad)
        assert f"{path}:{deep_line}: invalid JSON (nested too deeply)" in err
    if LONE_SURROGATES in bad:
        # Replaced, as undecodable bytes are; the story is kept.
        kept = Article.objects.get(url="https://news.example.org/surrogate")
        assert kept.title == "Lone \ufffd half"
        assert kept.text == "bad \ufffd char in a story about Gdansk."
    assert Article.objects.filter(title__startswith="Harbour reopens").count() == 2
    assert not Article.objects.pending().exists()
