"""The benchmarks still run (at a toy scale: the figures belong to
docs/BENCHMARKS.md, not to the suite)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("module", "args", "title"),
    [
        ("bench.pages", ["--stories", "300", "--requests", "2"], "Pages at 300 stories"),
        ("bench.rescore", ["--stories", "300", "--new-stories", "20"], "Rescoring at 320"),
        (
            "bench.growth",
            ["--stories", "300", "--requests", "2", "--new-stories", "10"],
            "sqlite-300.json",
        ),
        (
            "bench.identity_cost",
            ["--stories", "300", "--new-stories", "10"],
            "Identity across stories at 300 stories",
        ),
        ("bench.pages_real", ["tests/data/pages"], "Saved pages: 20 in tests/data/pages"),
        (
            "bench.suggest",
            ["--entities", "300", "--requests", "20", "--baseline", "5"],
            "suggestions at 300 entities",
        ),
        ("bench.rescore_lock", ["--stories", "300", "--save-at", "0"], "failed 0"),
        ("bench.settle", ["--load", "300", "--stories", "50", "--passes", "1"], "(baseline)"),
        ("bench.copies", ["--no-cost"], "<- COPY_THRESHOLD"),
    ],
)
def test_benchmark_runs_on_a_small_corpus(module, args, title, tmp_path):
    if module == "bench.growth":
        args = [*args, "--results", str(tmp_path)]  # not docs/growth
    run = subprocess.run(
        [sys.executable, "-m", module, "--db", "sqlite", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert title in run.stdout


def _schema() -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master"
            " WHERE name NOT LIKE 'sqlite_stat%' ORDER BY type, name"
        )
        return cursor.fetchall()


@pytest.mark.django_db(transaction=True)
def test_a_bulk_load_on_sqlite_leaves_the_schema_as_the_migrations_made_it(monkeypatch):
    """bench.corpus drops the secondary indexes and the FTS triggers for a big
    SQLite load: they come back as they were, and the text index is complete."""
    from django.db import connection

    from articles.models import Article
    from articles.textsearch import article_ids_containing
    from bench import corpus
    from tests.factories import ArticleFactory

    if connection.vendor != "sqlite":
        pytest.skip("the bulk load's index and trigger dance is SQLite's")
    before = _schema()
    monkeypatch.setattr(corpus, "BULK_STORIES", 50)
    dropped = []
    real = corpus._insert

    def insert(*args):
        dropped.append(len(_schema()))
        return real(*args)

    monkeypatch.setattr(corpus, "_insert", insert)
    corpus.load(80, rescore=False)
    assert dropped and dropped[0] < len(before)  # the bulk path was taken
    assert _schema() == before
    common = set(
        Article.objects.filter(text__contains=corpus.COMMON_NAME).values_list("id", flat=True)
    )
    assert common and set(article_ids_containing(corpus.COMMON_NAME)) == common
    story = ArticleFactory(  # url and hash apart from the synthetic stories'
        url="https://kettles.example.org/tested/",
        title="Kettles tested",
        text="Researchers tested kettles.",
        content_hash="k" * 64,
    )
    assert article_ids_containing("kettles") == [story.id]  # the triggers are back
