"""Does a full rescoring keep other writers out? (SQLite: one writer at a time.)

Runs `rescore_all()` on the database while another process saves an entity
as the admin does (`Entity.save()` in a transaction, rolled back so the data
stays as it was), first `--save-at` seconds into the pass, then every
`--every` seconds until the pass ends. Prints the pass's wall and CPU time,
its write transactions (how many, the longest, all together) and each
save's wait: a save waits at most the settings' busy timeout (20 s), then
fails with "database is locked".

    python -m bench.rescore_lock --database-url sqlite:////tmp/sq/newsgraph-1m.sqlite3
    python -m bench.rescore_lock --stories 300 --save-at 0      # quick, a new database
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import database, parser


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__)
    p.add_argument("--stories", type=int, default=300, help="loaded when the database is empty")
    p.add_argument("--save-at", type=float, default=8.0)
    p.add_argument("--every", type=float, default=1.0)
    p.add_argument("--writer", default="", help=argparse.SUPPRESS)  # the saving process
    args = p.parse_args(argv)
    if args.writer:
        return _writer(args)

    with database(args.db, url=args.database_url) as url:
        from django.db import connection

        from articles.models import Article
        from bench import corpus
        from entities.scoring import rescore_all

        if not Article.objects.exists():
            corpus.load(args.stories)
        holds = _time_write_transactions(connection)
        stop = Path(tempfile.mkdtemp(prefix="newsgraph-lock-")) / "stop"
        options = {
            "--db": args.db,
            "--writer": str(stop),
            "--database-url": url,
            "--save-at": str(args.save_at),
            "--every": str(args.every),
        }
        writer = subprocess.Popen(
            [sys.executable, "-m", "bench.rescore_lock", *(x for o in options.items() for x in o)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=os.environ,
        )
        assert writer.stdout.readline().strip() == "ready"
        started, cpu = time.perf_counter(), time.process_time()
        writer.stdin.write(f"{time.time()}\n")
        writer.stdin.flush()
        report = rescore_all()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        stop.touch()
        saves = [json.loads(line) for line in writer.stdout]
        writer.wait()
        stop.unlink()
        stop.parent.rmdir()

    print(
        f"Full rescoring of {report.pairs:,} pairs ({report.stories:,} stories,"
        f" {report.stars_changed:,} stars changed): {wall:.1f} s wall, {cpu:.1f} s CPU"
    )
    writes = [h for mode, h in holds if mode != "DEFERRED"]
    reads = [h for mode, h in holds if mode == "DEFERRED"]
    print(
        f"write transactions: {len(writes)}, longest {max(writes, default=0):.2f} s,"
        f" together {sum(writes):.1f} s; read snapshots (no write lock): {len(reads)},"
        f" longest {max(reads, default=0):.1f} s"
    )
    for save in saves:
        outcome = "saved" if save["ok"] else f"FAILED: {save['error']}"
        print(f"  save at {save['at']:5.1f} s: waited {save['waited']:.2f} s, {outcome}")
    failed = sum(not s["ok"] for s in saves)
    waits = [s["waited"] for s in saves]
    print(
        f"saves: {len(saves)}, failed {failed}, longest wait {max(waits, default=0):.2f} s"
        f" (pass ended at {wall:.1f} s)"
    )
    return 1 if failed else 0


def _time_write_transactions(connection) -> list[tuple[str, float]]:
    """(mode, seconds) of each transaction the connection begins and ends."""
    holds: list[tuple[str, float]] = []
    opened: list[tuple[str, float]] = []
    begin, commit, rollback = (
        connection._start_transaction_under_autocommit,
        connection._commit,
        connection._rollback,
    )

    def timed_begin():
        begin()
        opened.append((connection.transaction_mode or "DEFERRED", time.perf_counter()))

    def timed_end(end):
        def run():
            end()
            if opened:
                mode, at = opened.pop()
                holds.append((mode, time.perf_counter() - at))

        return run

    connection._start_transaction_under_autocommit = timed_begin
    connection._commit, connection._rollback = timed_end(commit), timed_end(rollback)
    return holds


class _RolledBack(Exception):
    pass


def _writer(args) -> int:
    """An editor's saves in another process: one line of JSON each."""
    stop = Path(args.writer)
    with database(args.db, url=args.database_url):
        from django.db import transaction

        from entities.models import Entity

        entity = Entity.objects.order_by("id").first()
        print("ready", flush=True)
        t0 = float(sys.stdin.readline())
        time.sleep(max(0.0, t0 + args.save_at - time.time()))
        while not stop.exists():
            at, started = time.time() - t0, time.perf_counter()
            try:
                with transaction.atomic():
                    entity.save()
                    raise _RolledBack
            except _RolledBack:
                ok, error = True, ""
            except Exception as e:  # "database is locked" after the busy timeout
                ok, error = False, f"{type(e).__name__}: {e}"
            waited = time.perf_counter() - started
            print(json.dumps({"at": at, "waited": waited, "ok": ok, "error": error}), flush=True)
            time.sleep(max(0.0, args.every - waited))
    return 0


if __name__ == "__main__":
    sys.exit(main())
