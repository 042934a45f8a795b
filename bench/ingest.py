"""Benchmark 1: ingestion throughput against the limit, raw spaCy (issue #6).

On N realistic synthetic stories (default 2,000, ~600 words, names from a
Zipf pool of 20,000 entities), in one run with one loaded model:

* raw: `nlp.pipe` over the texts NER reads (title + text), same model and
  batch size, nothing else;
* pipeline: the full path — `article_ingest` (parse, canonicalise, hash,
  store), `articles_extract` in batches of EXTRACTION_BATCH_SIZE (NER,
  normalise, resolve, upsert entities, replace mentions) and one
  `rescore_all()` at the end (production debounces it to a few per burst);

then the same pipeline in 1 and in 2 worker processes (each its own share of
the stories, one database), timed from a common start signal after each
worker has loaded the model.

    python -m bench.ingest --db sqlite
    python -m bench.ingest --db postgres --stories 2000
    python -m bench.ingest --stories 200 --no-workers        # quick
    python -m bench.ingest --language fr --no-workers        # French (issue #26)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from bench.common import database, parser, table, verdict, versions

TARGET_RATIO = 0.85
TARGET_SCALING = 1.7


LANGUAGE = "en"  # --language: whose stories the run reads


def _records(count: int, start: int = 0) -> list[dict]:
    if LANGUAGE == "fr":
        from bench.synthetic_fr import stories
    else:
        from bench.synthetic import stories

    return list(stories(count, start_index=start))


def run_pipeline(records: list[dict], *, rescore: bool = True) -> float:
    """Seconds for ingest + extract (+ one rescoring) of the records."""
    from django.conf import settings

    from articles.services import record_ingest
    from entities.extraction import articles_extract
    from entities.scoring import rescore_all

    started = time.perf_counter()
    ids = [record_ingest(record=r, enqueue=False).article.id for r in records]
    size = settings.EXTRACTION_BATCH_SIZE
    for i in range(0, len(ids), size):
        articles_extract(article_ids=ids[i : i + size], rescore=False)
    if rescore:
        rescore_all()
    return time.perf_counter() - started


def warm_up() -> None:
    """The model's first batches in a process run ~10 % slower (allocations,
    caches): read some other stories first, so that neither spaCy alone nor
    the pipeline, whichever runs first, pays for it. What a worker loads
    once at start-up (the language identifier, place data: a few seconds,
    the French city names most of it) is loaded here too, not timed as
    throughput."""
    from articles.languages import detect_language
    from entities.places import place_for

    run_raw(_records(64, start=90_000_000))
    detect_language("warm", "the model loads once per process")
    place_for("Nowhere", LANGUAGE, "GPE")


def run_raw(records: list[dict]) -> float:
    from django.conf import settings

    from entities import nlp

    texts = [f"{r['title']}\n\n{r['text']}" for r in records]
    model = nlp.get_nlp(LANGUAGE)
    started = time.perf_counter()
    for _ in model.pipe(texts, batch_size=settings.EXTRACTION_BATCH_SIZE):
        pass
    return time.perf_counter() - started


def run_detection(records: list[dict]) -> float:
    """Seconds of the language detection that ingest runs on each story (its
    date comes with the record here; pages' dates are in bench.pages_real)."""
    from articles.languages import detect_language

    detect_language("warm", "the model loads once per process")
    started = time.perf_counter()
    for r in records:
        detect_language(r["title"], r["text"])
    return time.perf_counter() - started


def worker(args) -> int:
    """One worker process: load the model, wait for the start signal, run its
    share of the pipeline, print the finish time."""
    import django

    django.setup()
    from entities import nlp

    records = _records(args.count, args.start)
    nlp.get_nlp(LANGUAGE)
    delay = args.start_at - time.time()
    if delay > 0:
        time.sleep(delay)
    run_pipeline(records, rescore=False)
    print(json.dumps({"finished": time.time()}))
    return 0


def run_workers(n: int, count: int, *, offset: int) -> float:
    """Wall time for n worker processes to run `count` stories between them."""
    start_at = time.time() + 25  # time to start Python, Django and spaCy
    share = count // n
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.ingest",
                "--worker",
                "--start",
                str(offset + i * share),
                "--count",
                str(share),
                "--start-at",
                str(start_at),
                "--language",
                LANGUAGE,
            ],
            stdout=subprocess.PIPE,
            env=os.environ.copy(),
        )
        for i in range(n)
    ]
    finished = []
    for proc in procs:
        out, _ = proc.communicate()
        if proc.returncode:
            raise RuntimeError(f"worker failed ({proc.returncode})")
        finished.append(json.loads(out.decode().strip().splitlines()[-1])["finished"])
    if min(finished) < start_at:
        raise RuntimeError("a worker was not ready at the start signal: raise the delay")
    return max(finished) - start_at


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__)
    p.add_argument("--stories", type=int, default=2_000)
    p.add_argument("--no-workers", action="store_true", help="skip the 1-vs-2 worker run")
    p.add_argument("--profile", action="store_true", help="pyinstrument the pipeline run")
    p.add_argument("--worker", action="store_true", help=argparse_hidden())
    p.add_argument("--start", type=int, default=0, help=argparse_hidden())
    p.add_argument("--count", type=int, default=0, help=argparse_hidden())
    p.add_argument("--start-at", type=float, default=0.0, help=argparse_hidden())
    p.add_argument(
        "--language", choices=["en", "fr"], default="en", help="synthetic English or French copy"
    )
    args = p.parse_args(argv)
    global LANGUAGE
    LANGUAGE = args.language
    if args.worker:
        return worker(args)

    with database(args.db, url=args.database_url):
        from django.core.management import call_command

        records = _records(args.stories)
        words = sum(len(r["text"].split()) for r in records)
        each = words / len(records)
        print(f"{len(records):,} stories, {each:.0f} words each; {versions(args.db)}")
        warm_up()
        raw = run_raw(records)
        if args.profile:
            from pyinstrument import Profiler

            with Profiler() as profiler:
                pipeline = run_pipeline(records)
            print(profiler.output_text(unicode=True, color=False))
        else:
            pipeline = run_pipeline(records)
        n = len(records)
        ratio = raw / pipeline
        detection = run_detection(records)
        print(f"raw nlp.pipe {n / raw:.1f} stories/s, pipeline {n / pipeline:.1f} stories/s")
        rows = [
            ("raw nlp.pipe, stories/s", f"{n / raw:.1f}", "", verdict(None)),
            ("pipeline (1 process), stories/s", f"{n / pipeline:.1f}", "", verdict(None)),
            (
                "pipeline / raw spaCy throughput",
                f"{ratio:.0%}",
                f"≥ {TARGET_RATIO:.0%}",
                verdict(ratio >= TARGET_RATIO),
            ),
            (
                "language detection, share of the pipeline",
                f"{detection / pipeline:.1%} ({1000 * detection / n:.2f} ms a story)",
                "≤ 5%",
                verdict(detection / pipeline <= 0.05),
            ),
        ]
        if not args.no_workers:
            call_command("flush", interactive=False, verbosity=0)
            one = run_workers(1, n, offset=0)
            call_command("flush", interactive=False, verbosity=0)
            two = run_workers(2, n, offset=0)
            scaling = one / two
            print(f"1 worker {n / one:.1f} stories/s, 2 workers {n / two:.1f} stories/s")
            rows += [
                ("1 worker process, stories/s", f"{n / one:.1f}", "", verdict(None)),
                ("2 worker processes, stories/s", f"{n / two:.1f}", "", verdict(None)),
                (
                    "2 workers / 1 worker",
                    f"{scaling:.2f}×",
                    f"≥ {TARGET_SCALING}×",
                    verdict(scaling >= TARGET_SCALING),
                ),
            ]
        print(table(rows, title=f"Ingestion of {n:,} stories, {args.db}"))
    return 0


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    sys.exit(main())
