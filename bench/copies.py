"""Copies of one story (issue #24): pair precision and recall of copy groups
on a gold set, next to the exact content hash; and what detection costs.

The gold (tests/data/copies/gold.jsonl, built by `--build` from the stories
written for the project in tests/data/copies/originals.json) holds wire
stories, their copies (another headline, a byline and dateline, trimmed last
paragraphs, a site's boilerplate, light rewording, an update with a new lead
and two new paragraphs, a site's copy of the update) and hard negatives:
stories cut from one template with other facts (results, market reports,
weather bulletins, police calls) and stories sharing a dateline. Any JSONL
with `id`, `group`, `text`, `published_at` (and `title`, `source`) can be
read instead (`--gold`), e.g. a held-out set built the same way.

The stories go through detection in date order as at ingest (candidates from
the LSH band keys of the earlier ones, checked on the text, joined to the
best match's group), once per threshold; a pair is predicted when both
stories end in one group. Then, with `--db`, the real ingest path
(`article_ingest` and its hook, in a throw-away database) at the configured
threshold, and the cost a story: fingerprinting, the band lookup, and the
lookup against --scale stories' band keys (query plan printed: an index
probe a band, no corpus scan).

    python -m bench.copies                       # curve + SQLite cost at 100k
    python -m bench.copies --db postgres --scale 100000,1000000
    python -m bench.copies --build               # rewrite gold.jsonl from originals.json
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path

from bench.common import database, parser

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "copies"
THRESHOLDS = (0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8, 0.9)
WIRE = "Meridian Wire"
PIPELINE_MS = 1000 / 14.5  # the full pipeline a story (docs/BENCHMARKS.md, bench.ingest)


# -- building the gold -------------------------------------------------------


def _reword(paragraphs: list[str], rewordings: list[list[str]], rng: random.Random) -> list[str]:
    """Light rewording: about half the applicable phrase swaps, each once a
    paragraph, as a copy editor would."""
    out = []
    for p in paragraphs:
        for old, new in rewordings:
            if old in p and rng.random() < 0.5:
                p = p.replace(old, new, 1)
        out.append(p)
    return out


def _with_site(paragraphs: list[str], site: dict, *, byline=True, boilerplate=True) -> list[str]:
    top = [site["top"]] if boilerplate and site["top"] else []
    by = [site["byline"]] if byline else []
    bottom = site["bottom"] if boilerplate else []
    return top + by + paragraphs + bottom


def _headline(title: str, rng: random.Random) -> str:
    words = title.split()
    cut = rng.randint(max(3, len(words) // 2), len(words))
    return rng.choice(["", "WATCH: ", "Update: ", "World news: "]) + " ".join(words[:cut])


def build(originals: dict, *, seed: int = 24) -> list[dict]:
    rng = random.Random(seed)
    sites, rewordings = originals["sites"], originals["rewordings"]
    base = datetime(2026, 3, 3, 6, 0, tzinfo=UTC)
    records: list[dict] = []

    def add(group, family, kind, title, paragraphs, source, when):
        records.append(
            {
                "id": f"{group}/{kind}",
                "group": group,
                "family": family,
                "kind": kind,
                "title": title,
                "text": "\n\n".join(paragraphs),
                "source": source,
                "published_at": when.isoformat(),
            }
        )

    for n, story in enumerate(originals["stories"]):
        when = base + timedelta(days=n)
        key, dateline = story["key"], story["dateline"]
        paras = [f"{dateline} {story['paragraphs'][0]}", *story["paragraphs"][1:]]
        family = dateline.split(",")[0]
        short = dateline.split(" (")[0] + " -"  # "KYIV, March 3 -"
        s = rng.sample(sites, 5)
        add(key, family, "original", story["title"], paras, WIRE, when)
        add(
            key,
            family,
            "headline-byline",
            _headline(story["title"], rng),
            _with_site(paras, s[0], boilerplate=False),
            s[0]["name"],
            when + timedelta(minutes=40),
        )
        add(
            key,
            family,
            "trimmed-boilerplate",
            story["title"],
            _with_site(paras[:-2], s[1], byline=False),
            s[1]["name"],
            when + timedelta(hours=1),
        )
        reworded = _reword(paras, rewordings, rng)
        reworded[0] = reworded[0].replace(dateline, short, 1)
        add(
            key,
            family,
            "reworded",
            _headline(story["title"], rng),
            reworded,
            s[2]["name"],
            when + timedelta(hours=2),
        )
        add(
            key,
            family,
            "everything",
            _headline(story["title"], rng),
            _with_site(_reword(paras[:-1], rewordings, rng), s[3]),
            s[3]["name"],
            when + timedelta(hours=3),
        )
        if update := story.get("update"):
            updated = [
                f"{dateline} {update['lead']}",
                *story["paragraphs"][1:3],
                *update["paragraphs"],
                *story["paragraphs"][3:],
            ]
            add(key, family, "update", update["title"], updated, WIRE, when + timedelta(hours=4))
            add(
                key,
                family,
                "update-copy",
                _headline(update["title"], rng),
                _with_site(updated[:-1], s[4]),
                s[4]["name"],
                when + timedelta(hours=5),
            )

    for template in originals["templates"]:
        for n, fact in enumerate(template["facts"]):
            group = f"{template['key']}-{n + 1}"
            when = base + timedelta(days=20 + n, hours=n)
            paras = [p.format(**fact) for p in template["paragraphs"]]
            title = template["title"].format(**fact)
            s = rng.sample(sites, 2)
            add(group, template["key"], "original", title, paras, WIRE, when)
            add(
                group,
                template["key"],
                "byline-boilerplate",
                _headline(title, rng),
                _with_site(paras, s[0]),
                s[0]["name"],
                when + timedelta(minutes=30),
            )
            add(
                group,
                template["key"],
                "trimmed-reworded",
                title,
                _reword(paras[:-1], rewordings, rng),
                s[1]["name"],
                when + timedelta(hours=1),
            )
    return records


def read_gold(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


# -- grouping as at ingest ---------------------------------------------------


def group_in_memory(
    records: list[dict], *, threshold: float, bands: int, rows: int, max_candidates: int
) -> tuple[dict[str, str], int]:
    """Story id -> representative id, by the ingest algorithm of
    articles/copies.py (band keys in a dict instead of the StoryBand table);
    and the number of candidates checked."""
    from articles.copies import could_be_copies, fingerprint, similarity

    order = sorted(records, key=lambda r: (r["published_at"], r["id"]))
    by_key: dict[int, list[str]] = defaultdict(list)
    prints, rep_of, when = {}, {}, {}
    checked = 0
    for r in order:
        fp = fingerprint(r["text"], bands=bands, rows=rows)
        shared: dict[str, int] = defaultdict(int)
        for key in fp.band_keys:
            for other in by_key[key]:
                shared[other] += 1
        cands = sorted(shared, key=lambda o: (-shared[o], o))[:max_candidates]
        best, best_score = None, -1.0
        groups = set()
        for other in cands:  # as best_match: one a group, most keys shared first
            if rep_of[other] in groups:
                continue
            if not could_be_copies(fp.signature, prints[other].signature, threshold=threshold):
                continue
            groups.add(rep_of[other])
            checked += 1
            score = similarity(fp, prints[other])
            if score >= threshold and score > best_score:
                best, best_score = other, score
        rep_of[r["id"]] = r["id"]
        when[r["id"]] = r["published_at"]
        if best is not None:
            rep = rep_of[best]
            if r["published_at"] < when[rep]:
                for story, its_rep in rep_of.items():
                    if its_rep == rep:
                        rep_of[story] = r["id"]
            else:
                rep_of[r["id"]] = rep
        prints[r["id"]] = fp
        for key in fp.band_keys:
            by_key[key].append(r["id"])
    return rep_of, checked


def pair_scores(records: list[dict], predicted: dict[str, str]) -> tuple[float, float, list]:
    truth = {r["id"]: r["group"] for r in records}
    tp = fp = fn = 0
    wrong = []
    for a, b in combinations(sorted(truth), 2):
        same, said = truth[a] == truth[b], predicted[a] == predicted[b]
        tp += same and said
        fp += said and not same
        fn += same and not said
        if said and not same:
            wrong.append((a, b))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, wrong


def content_hash_groups(records: list[dict]) -> dict[str, str]:
    """The baseline: stories with the same content hash (articles/services.py)."""
    first: dict[str, str] = {}
    out = {}
    for r in records:
        folded = " ".join(f"{r['title']}\n{r['text']}".casefold().split())
        digest = hashlib.sha256(folded.encode()).hexdigest()
        out[r["id"]] = first.setdefault(digest, r["id"])
    return out


# -- cost --------------------------------------------------------------------


def _fill_bands(count: int, bands: int) -> None:
    """`count` stories' worth of random band keys (the table as a corpus of
    that size leaves it), generated in SQL, without stories' text."""
    from django.db import connection

    from articles.models import Article, StoryBand

    table = StoryBand._meta.db_table
    anchor = Article.objects.order_by("id").first().pk
    rows = count * bands
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {table} (article_id, key) SELECT %s,"
                f" (random() * 9.2e18 - 4.6e18)::bigint FROM generate_series(1, %s)",
                [anchor, rows],
            )
            cursor.execute(f"ANALYZE {table}")
        else:
            cursor.execute(
                f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %s)"
                f" INSERT INTO {table} (article_id, key) SELECT %s, random() FROM n",
                [rows, anchor],
            )
            cursor.execute("ANALYZE")


def _plan(keys) -> str:
    from django.db import connection

    from articles.copies import candidates
    from articles.models import StoryBand

    qs = StoryBand.objects.filter(key__in=keys)
    sql, params = qs.values("article_id").query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN " + sql, params)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        lines = [" ".join(str(c) for c in row) for row in cursor.fetchall()]
    candidates(keys)  # the real query runs too
    return "\n      ".join(lines)


def cost(records: list[dict], scales: list[int], synthetic: int) -> None:
    from django.conf import settings
    from django.db import transaction

    from articles.copies import best_match, candidates, fingerprint, store_bands
    from articles.models import Article
    from articles.services import record_ingest

    texts = [r["text"] for r in records]
    started = time.perf_counter()
    for text in texts:
        fingerprint(text)
    fp_ms = (time.perf_counter() - started) * 1000 / len(texts)

    # The real ingest path, hook included (the gold is grouped in the database).
    started = time.perf_counter()
    for r in records:
        record_ingest(record={**r, "url": f"https://example.com/{r['id']}"}, enqueue=False)
    ingest_ms = (time.perf_counter() - started) * 1000 / len(records)
    stored = Article.objects.count()
    grouped = Article.objects.filter(copy_of__isnull=False).count()
    print(
        f"\nThrough article_ingest (hook included): {stored} stories, {grouped} stored as "
        f"copies, {stored - grouped} groups; {ingest_ms:.2f} ms a story for the whole ingest"
    )
    print(
        f"  LSH: {settings.COPY_LSH_BANDS} bands x {settings.COPY_LSH_ROWS} rows; "
        f"threshold {settings.COPY_THRESHOLD}"
    )

    hook, ingest_ms, pipeline_ms = _hook_cost(synthetic)
    print(
        f"  on 2 x {synthetic} synthetic ~600-word stories: the hook (fingerprint + lookup +"
        f" check + join) {hook:.2f} ms a story, timed inside ingest ({ingest_ms:.1f} ms a story)"
        f" and the whole pipeline (ingest, NER, rescoring: {pipeline_ms:.1f} ms a story in this"
        f" run): {hook / pipeline_ms:.1%} of the pipeline"
        f" ({hook / PIPELINE_MS:.1%} of the {PIPELINE_MS:.0f} ms of docs/BENCHMARKS.md)"
    )

    prints = [fingerprint(t) for t in texts]
    article = Article.objects.order_by("id").first()
    t0 = time.perf_counter()
    with transaction.atomic():  # as at ingest: in the story's transaction
        for fp in prints:
            store_bands(article=article, keys=fp.band_keys)
    store_ms = (time.perf_counter() - t0) * 1000 / len(prints)
    store_bands(article=article, keys=prints[0].band_keys)
    print(
        f"\n{'stories':>10} {'fingerprint':>12} {'store keys':>11} {'probe':>8} {'check':>8} "
        f"{'total':>8}   (ms a story, median of 3 rounds over the gold)"
    )
    done = 0
    for scale in scales:
        _fill_bands(scale - done, settings.COPY_LSH_BANDS)
        done = scale
        probes, totals = [], []
        for _ in range(3):
            for fp in prints:
                t0 = time.perf_counter()
                candidates(fp.band_keys)
                t1 = time.perf_counter()
                best_match(fp)
                probes.append(t1 - t0)
                totals.append(time.perf_counter() - t1)
        probe, total = _median(probes) * 1000, _median(totals) * 1000
        print(
            f"{scale:>10,} {fp_ms:>12.2f} {store_ms:>11.2f} {probe:>8.2f} "
            f"{total - probe:>8.2f} {fp_ms + store_ms + total:>8.2f}"
        )
    print(f"  plan of the probe: {_plan(prints[0].band_keys)}")


def _hook_cost(count: int) -> tuple[float, float, float]:
    """ms a story spent in the copies hook (the fingerprint and
    `story_grouped`, timed inside the real ingest), the whole ingest, and
    the whole pipeline (ingest, spaCy extraction, one rescoring: bench.ingest's
    run_pipeline, its hook included) on synthetic ~600-word stories."""
    from unittest import mock

    from articles import services
    from bench.ingest import run_pipeline, warm_up
    from bench.synthetic import stories

    spent = [0.0]

    def timed(function):
        def run(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - t0

        return run

    records = list(stories(count * 2, start_index=50_000))
    with (
        mock.patch.object(services, "fingerprint", timed(services.fingerprint)),
        mock.patch.object(services, "story_grouped", timed(services.story_grouped)),
    ):
        t0 = time.perf_counter()
        for record in records[:count]:
            services.record_ingest(record=record, enqueue=False)
        ingest = time.perf_counter() - t0
        hook = spent[0]
        warm_up()
        spent[0] = 0.0
        pipeline = run_pipeline(records[count:])
        hook_in_pipeline = spent[0]
    per = 1000 / count
    return (hook + hook_in_pipeline) * per / 2, ingest * per, pipeline * per


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__)
    p.add_argument("--gold", type=Path, default=DATA / "gold.jsonl")
    p.add_argument("--build", action="store_true", help="rewrite the gold from originals.json")
    p.add_argument("--scale", default="100000", help="comma-separated corpus sizes for the lookup")
    p.add_argument("--no-cost", action="store_true")
    p.add_argument("--synthetic", type=int, default=200, help="stories timed with/without the hook")
    p.add_argument("--show-errors", action="store_true")
    args = p.parse_args(argv)

    if args.build:
        records = build(json.loads((DATA / "originals.json").read_text(encoding="utf-8")))
        with (DATA / "gold.jsonl").open("w", encoding="utf-8") as handle:
            for r in records:
                handle.write(json.dumps(r, ensure_ascii=False) + "\n")
        print(f"wrote {len(records)} stories to {DATA / 'gold.jsonl'}")
        return 0

    records = read_gold(args.gold)
    with database(args.db, url=args.database_url):
        from django.conf import settings

        groups = len({r["group"] for r in records})
        pairs = sum(n * (n - 1) // 2 for n in _sizes(records))
        print(
            f"Gold: {args.gold.name}: {len(records)} stories in {groups} groups, "
            f"{pairs} copy pairs of {len(records) * (len(records) - 1) // 2}"
        )
        bp, br, _ = pair_scores(records, content_hash_groups(records))
        print(f"\n{'threshold':>10} {'precision':>10} {'recall':>8} {'wrong pairs':>12}")
        print(f"{'baseline':>10} {bp:>10.3f} {br:>8.3f} {'':>12}  (exact content hash)")
        for threshold in THRESHOLDS:
            predicted, _ = group_in_memory(
                records,
                threshold=threshold,
                bands=settings.COPY_LSH_BANDS,
                rows=settings.COPY_LSH_ROWS,
                max_candidates=settings.COPY_MAX_CANDIDATES,
            )
            precision, recall, wrong = pair_scores(records, predicted)
            mark = "  <- COPY_THRESHOLD" if threshold == settings.COPY_THRESHOLD else ""
            print(f"{threshold:>10.2f} {precision:>10.3f} {recall:>8.3f} {len(wrong):>12}{mark}")
            if args.show_errors:
                _errors(records, predicted, wrong)
        if not args.no_cost:
            cost(records, [int(s) for s in args.scale.split(",") if s], args.synthetic)
    return 0


def _sizes(records):
    sizes = defaultdict(int)
    for r in records:
        sizes[r["group"]] += 1
    return sizes.values()


def _errors(records, predicted, wrong):
    for a, b in wrong[:10]:
        print(f"      grouped apart from the gold: {a} ~ {b}")
    by_group = defaultdict(set)
    for r in records:
        by_group[r["group"]].add(predicted[r["id"]])
    for group, reps in by_group.items():
        if len(reps) > 1:
            members = [r["id"] for r in records if r["group"] == group]
            print(f"      split: {group}: " + ", ".join(f"{m}->{predicted[m]}" for m in members))


if __name__ == "__main__":
    raise SystemExit(main())
