"""A full rescoring on SQLite lets other writers in (BENCHMARKS, "SQLite at
1,000,000 stories"): it reads the stories' top scores without the write lock and
writes the stars in short transactions."""

import sqlite3
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection

from entities import scoring
from entities.models import Entity, Mention
from entities.scoring import rescore_all
from tests.entities.test_scoring import Corpus

pytestmark = [
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's single writer"),
    pytest.mark.django_db(transaction=True),
]


@contextmanager
def on_a_file_copy(path: Path):
    """The test database (in memory, shared cache: table locks, no WAL)
    copied to a file that the default connection uses meanwhile, with the
    settings' pragmas (WAL) and busy timeout, as the embedded default runs."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM INTO %s", [str(path)])
    memory, name = connection.connection, connection.settings_dict["NAME"]
    connection.connection = None
    connection.settings_dict["NAME"] = str(path)
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"
        yield
    finally:
        connection.close()
        connection.settings_dict["NAME"] = name
        connection.connection = memory


def test_a_write_from_another_connection_gets_in_during_a_full_rescoring(tmp_path, monkeypatch):
    corpus = Corpus()
    stories = [corpus.story() for _ in range(20)]
    for i, story in enumerate(stories):
        for j in range(6):
            prom = {"count": 1 + (i * 5 + j * 3) % 7, "in_title": j == 0, "in_lead": i % 2 == 0}
            corpus.mention(story, corpus.entity(f"Entity {(i + j) % 9}"), spread=0.0, **prom)
    corpus.save()
    rescore_all()  # the stars of one pass in one range
    expected = dict(Mention.objects.values_list("id", "stars"))
    entity = Entity.objects.first()
    path = tmp_path / "newsgraph.sqlite3"
    writes = []

    def write(when: str) -> None:
        """An editor's save from another connection, as the admin makes it:
        it must not wait for the rest of the pass (a short busy timeout)."""
        other = sqlite3.connect(path, timeout=0.5, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute(
                f"UPDATE {Entity._meta.db_table} SET name = ? WHERE id = ?",
                [f"Saved {when}", entity.id],
            )
            other.execute("COMMIT")
            writes.append(when)
        finally:
            other.close()

    story_tops, star_chunks = scoring._create_story_tops, scoring._star_chunks

    def story_tops_with_a_write(cursor, **kwargs):
        write("during the stories' tops")
        return story_tops(cursor, **kwargs)

    def chunks_with_writes(first, last):
        for chunk in star_chunks(first, last):
            write(f"before stars {chunk}")
            yield chunk

    monkeypatch.setattr(scoring, "_create_story_tops", story_tops_with_a_write)
    monkeypatch.setattr(scoring, "_star_chunks", chunks_with_writes)
    monkeypatch.setattr(scoring, "STARS_CHUNK_MENTIONS", 10)
    monkeypatch.setattr(scoring, "STARS_CHUNK_BOUNDS", (10, 10))  # 120 mentions: 12 ranges
    monkeypatch.setattr(scoring, "STARS_CHUNK_PAUSE", 0)  # the writes come at the right time

    with on_a_file_copy(path):
        Mention.objects.update(stars=1)
        report = rescore_all()
        stars = dict(Mention.objects.values_list("id", "stars"))
        name = Entity.objects.get(id=entity.id).name

    assert len(writes) == 1 + 12, writes
    assert name == f"Saved {writes[-1]}"
    assert stars == expected  # the same stars as one range gave
    assert report.stars_changed == sum(n > 1 for n in expected.values())
