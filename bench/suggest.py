"""Benchmark: suggestions while typing (SPEC §13, issue #23) at a million
entities' worth of names.

Loads N entities (default 1,000,000) whose names are built from ~30,000
words in Latin script (the names of countries and languages in every locale
babel knows), drawn Zipf-wise so that some words recur in thousands of names
and most in few; a share of people with particles and hyphens ("al-", "von
der"), a share of entities with an alias; stories per entity Zipf-wise too.
Then requests `/suggest/?q=` for what readers type: a word of a name,
weighted by the entity's stories, cut to 2..all of its letters (the search
box asks from two). Prints p50/p95/p99 of the whole view, next to the same
queries through the previous look-up (name or alias key starting like the
query, or a space then the query inside the name).

    python -m bench.suggest --db postgres                      # 1M entities
    python -m bench.suggest --db postgres --entities 100000 --requests 300
"""

from __future__ import annotations

import bisect
import random
import re
import sys
import time

from bench.common import database, parser, percentile, table, verdict, versions

TARGET_P95_MS = {"postgresql": 20.0, "sqlite": None}
PARTICLES = ["al-", "el-", "von der ", "van ", "de la ", "bin ", "O'", "Mac", "di "]


def vocabulary() -> list[str]:
    from babel import Locale, localedata

    words: dict[str, None] = {}
    for ident in sorted(localedata.locale_identifiers()):
        try:
            locale = Locale.parse(ident)
        except (ValueError, TypeError):
            continue
        for name in [*locale.territories.values(), *locale.languages.values()]:
            for word in re.findall(r"[A-Za-zÀ-ÖØ-öø-ÿ]{3,}", name):
                words.setdefault(word[0].upper() + word[1:].lower())
    return list(words)


class Zipf:
    def __init__(self, n: int, s: float, rng: random.Random):
        self.rng, total, self.cum = rng, 0.0, []
        for rank in range(1, n + 1):
            total += 1 / rank**s
            self.cum.append(total)

    def __call__(self) -> int:
        return bisect.bisect(self.cum, self.rng.random() * self.cum[-1])


def names(count: int, seed: int = 5) -> list[tuple[str, str, int, str]]:
    """(name, type, stories, alias or "") for `count` distinct entities."""
    from entities.normalize import name_key, rule_key

    rng = random.Random(seed)
    words = vocabulary()
    rng.shuffle(words)
    word = Zipf(len(words), 0.9, rng)
    stories = Zipf(5000, 1.3, rng)
    seen: set[str] = set()
    out = []
    while len(out) < count:
        kind = rng.choice(["PERSON", "PERSON", "ORG", "GPE"])
        parts = [words[word()] for _ in range(rng.choice([2, 2, 3] if kind != "GPE" else [1, 2]))]
        if kind == "PERSON" and rng.random() < 0.25:
            parts[-1] = rng.choice(PARTICLES) + parts[-1]
        name = " ".join(parts)
        key = name_key(name)
        if key in seen:
            continue
        seen.add(key)
        alias = ""
        if kind == "ORG" and rng.random() < 0.3:
            alias = "".join(p[0] for p in parts).upper() + f" {len(out)}"
            if rule_key(alias) in seen:
                alias = ""
            seen.add(rule_key(alias))
        out.append((name, kind, stories() + 1, alias))
    return out


def load(count: int) -> float:
    from django.db import connection

    from entities.models import Alias, Entity
    from entities.normalize import name_key, rule_key

    started = time.perf_counter()
    rows = names(count)
    batch = 20_000
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        created = Entity.objects.bulk_create(
            [
                Entity(
                    name=name,
                    key=name_key(name),
                    type=kind,
                    slug=f"e-{start + i}",
                    story_count=stories,
                    unsettled=False,
                )
                for i, (name, kind, stories, _) in enumerate(chunk)
            ]
        )
        Alias.objects.bulk_create(
            [
                Alias(entity=entity, name=alias, key=rule_key(alias), origin="data")
                for entity, (_, _, _, alias) in zip(created, chunk, strict=True)
                if alias
            ]
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return time.perf_counter() - started


def typed_queries(n: int, seed: int = 9) -> list[str]:
    """What readers type: a word of a name they look for (popular names more
    often), from its first two letters to all of it."""
    from entities.models import Entity

    rng = random.Random(seed)
    pool = list(
        Entity.objects.order_by("-story_count").values_list("name", "story_count")[:200_000]
    )
    weights = [stories for _, stories in pool]
    queries = []
    for name, _ in rng.choices(pool, weights=weights, k=n):
        word = rng.choice(re.findall(r"[\w']+", name))
        queries.append(word[: rng.randint(2, max(2, len(word)))])
    return queries


def previous_lookup(q: str) -> list[int]:
    """The look-up before #23, for comparison."""
    from django.db.models import Q

    from entities.models import Entity
    from entities.normalize import name_key

    key = name_key(q)
    return list(
        Entity.objects.visible()
        .filter(
            Q(key__startswith=key)
            | Q(aliases__key__startswith=key, aliases__active=True)
            | Q(key__contains=f" {key}")
        )
        .filter(story_count__gt=0)
        .distinct()
        .order_by("-story_count", "name")
        .values_list("id", flat=True)[:8]
    )


def main(argv: list[str] | None = None) -> int:
    p = parser(__doc__)
    p.add_argument("--entities", type=int, default=1_000_000)
    p.add_argument("--requests", type=int, default=1000)
    p.add_argument("--no-baseline", action="store_true")
    p.add_argument("--baseline", type=int, default=50, help="queries timed the previous way")
    args = p.parse_args(argv)
    with database(args.db, url=args.database_url):
        from django.db import connection
        from django.test import Client

        from entities.models import Entity

        if not Entity.objects.exists():
            print(f"loaded {args.entities:,} entities in {load(args.entities):.0f}s")
        print(versions(args.db), f"· {Entity.objects.count():,} entities")
        client = Client()
        queries = typed_queries(args.requests)
        for q in queries[:20]:  # warm the connection and the caches
            client.get("/suggest/", {"q": q})
        times, empty = [], 0
        for q in queries:
            started = time.perf_counter()
            response = client.get("/suggest/", {"q": q})
            times.append((time.perf_counter() - started) * 1000)
            empty += not response.json()["results"]
        # The same look-ups without the view around them, and the view with
        # nothing to look up (its floor on this machine, at this load).
        from entities.namewords import suggested

        alone = []
        for q in queries:
            started = time.perf_counter()
            suggested(q, limit=8)
            alone.append((time.perf_counter() - started) * 1000)
        floor = []
        for _ in range(200):
            started = time.perf_counter()
            client.get("/suggest/", {"q": ""})
            floor.append((time.perf_counter() - started) * 1000)
        print(
            f"look-up alone  p50 {percentile(alone, 50):6.1f}  p95 {percentile(alone, 95):6.1f} ms;"
            f"  the view with no query  p50 {percentile(floor, 50):6.1f}"
            f"  p95 {percentile(floor, 95):6.1f} ms"
        )
        rows = [
            ("look-up alone p95 ms", f"{percentile(alone, 95):.1f}", "-", "n/a"),
            ("view, empty query p95 ms", f"{percentile(floor, 95):.1f}", "-", "n/a"),
        ]
        target = TARGET_P95_MS[connection.vendor]
        p95 = percentile(times, 95)
        print(
            f"/suggest/ (word starts)  p50 {percentile(times, 50):6.1f}"
            f"  p95 {p95:6.1f}  p99 {percentile(times, 99):6.1f} ms"
            f"  ({len(queries)} queries, {empty} with no suggestion)"
        )
        rows.append(
            (
                "/suggest/ p95 ms",
                f"{p95:.1f}",
                f"≤ {target}" if target else "-",
                verdict(p95 <= target if target else None),
            )
        )
        if not args.no_baseline:
            base = []
            for q in queries[: args.baseline]:
                started = time.perf_counter()
                previous_lookup(q)
                base.append((time.perf_counter() - started) * 1000)
            print(
                f"previous look-up (query only, {len(base)} queries)"
                f"  p50 {percentile(base, 50):6.1f}  p95 {percentile(base, 95):6.1f} ms"
            )
            rows.append(("previous look-up p95 ms", f"{percentile(base, 95):.1f}", "-", "n/a"))
        print(table(rows, title=f"suggestions at {Entity.objects.count():,} entities"))
        return 0 if target is None or p95 <= target else 1


if __name__ == "__main__":
    sys.exit(main())
