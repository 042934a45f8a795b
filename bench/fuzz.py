"""Long fuzz runs of every entry point with hostile input (issue #15), outside CI.

The strategies and invariants of testkit/fuzzing.py (which `make test` runs a
few hundred derandomised examples of), run for as long as asked, with a fresh
seed: a failure is recorded and the run goes on, so the table shows every
entry point's examples tried and failures found, then one smallest example
of each distinct failure (by exception and the line of ours it came from).
Each failure found becomes a fixed bug with a regression test.

    python -m bench.fuzz --examples 100000
    python -m bench.fuzz --examples 2000 --only jsonl html --seed 7
"""

from __future__ import annotations

import logging
import os
import random
import re
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import database, parser, versions


@dataclass
class Tally:
    examples: int = 0
    failures: int = 0
    seconds: float = 0.0
    events: Counter = field(default_factory=Counter)  # outcomes (testkit.fuzzing.event)
    # signature -> (count, shortest example repr, message)
    distinct: dict[str, list] = field(default_factory=dict)

    def record(self, error: BaseException, example: object) -> None:
        self.failures += 1
        signature = _signature(error)
        shown = repr(example)
        entry = self.distinct.setdefault(signature, [0, shown, _message(error)])
        entry[0] += 1
        if len(shown) < len(entry[1]):
            entry[1], entry[2] = shown, _message(error)


def _signature(error: BaseException) -> str:
    """The exception type and the deepest frame in our code (not a library's)."""
    ours = [
        f"{Path(frame.filename).name}:{frame.lineno}"
        for frame in traceback.extract_tb(error.__traceback__)
        if "site-packages" not in frame.filename and "/lib/python" not in frame.filename
    ]
    return f"{type(error).__name__} at {ours[-1] if ours else '?'}"


def _message(error: BaseException) -> str:
    return " ".join(str(error).split())[:300]


def run_entry_point(name: str, examples: int, seed: int, env) -> Tally:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    from testkit import fuzzing

    entry = fuzzing.ENTRY_POINTS[name]
    tally = Tally()
    fuzzing.EVENTS = tally.events

    @hypothesis_seed(seed)
    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(entry.strategy)
    def run(example):
        tally.examples += 1
        try:
            entry.check(env, example)
        except KeyboardInterrupt:
            raise
        except BaseException as error:  # every failure is counted
            tally.record(error, example)

    started = time.perf_counter()
    run()
    tally.seconds = time.perf_counter() - started
    return tally


def _environment(workdir: Path) -> tuple[object, Callable[[], None]]:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from pytest_httpserver import HTTPServer

    from testkit import fuzzing

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the local server's request log
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    editor = get_user_model().objects.create_superuser("fuzz", "fuzz@example.org", "pw")
    admin_client = Client()
    admin_client.force_login(editor)
    env = fuzzing.Env(
        tmp=workdir,
        server_url=server.url_for("").rstrip("/"),
        client=Client(),
        admin_client=admin_client,
    )
    server.expect_request(re.compile(".*")).respond_with_handler(fuzzing.local_handler(env))
    env.baseline = fuzzing.baseline_stories()
    fuzzing.hostile_corpus(env)
    env.baseline = fuzzing.snapshot()  # the corpus too: no example may change it
    return env, server.stop


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, tuple("-" * w for w in widths), *rows]:
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    return "\n".join(lines)


def main() -> None:
    names = ["jsonl", "html", "feed", "url", "admin-add", "pages"]
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--examples", type=int, default=100_000, help="per entry point")
    p.add_argument("--only", nargs="+", choices=names, default=names)
    p.add_argument("--seed", type=int, default=None, help="default: a random one, printed")
    p.add_argument("--stats", action="store_true", help="also the commonest outcomes")
    args = p.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    os.environ["FETCH_ALLOW_LOOPBACK"] = "1"  # the local server; nothing else is reachable

    with database(args.db, url=args.database_url):
        from testkit import fuzzing

        workdir = Path(tempfile.mkdtemp(prefix="newsgraph-fuzz-"))
        with fuzzing.NetworkGuard().installed():
            env, stop = _environment(workdir)
            tallies = {}
            try:
                for name in args.only:
                    tallies[name] = run_entry_point(name, args.examples, seed, env)
                    print(
                        f"{name}: {tallies[name].examples:,} examples, "
                        f"{tallies[name].failures:,} failures",
                        flush=True,
                    )
            finally:
                stop()
        about = versions(args.db)

    print(f"\n### Fuzzing, up to {args.examples:,} examples per entry point (seed {seed})\n")
    print(about + "\n")
    rows = [
        (name, f"{t.examples:,}", f"{t.failures:,}", str(len(t.distinct)), f"{t.seconds:,.0f} s")
        for name, t in tallies.items()
    ]
    print(_table(("entry point", "examples tried", "failures", "distinct", "time"), rows))
    if args.stats:
        for name, tally in tallies.items():
            print(f"\n{name}: commonest outcomes of {tally.examples:,} examples")
            for outcome, count in tally.events.most_common(25):
                print(f"  {count:>7,}  {outcome}")
    for name, tally in tallies.items():
        for signature, (count, example, message) in tally.distinct.items():
            print(f"\n{name}: {signature} ×{count}: {message}\n  smallest example: {example[:600]}")


if __name__ == "__main__":
    main()
