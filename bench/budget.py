"""What the request budget costs a request (issue 25): the middleware's check
(newsgraph/infra/budget.py: find the kind, the client, count in the cache)
timed N times on a search request, against the local-memory cache and a real
Redis (the Debian redis-server on loopback), next to a plain baseline: one
cache.get of one key on the same backend, the least any shared count costs.

    python -m bench.budget                 # 20,000 checks each
    python -m bench.budget --checks 2000   # quick
"""

from __future__ import annotations

import argparse
import os
import time

from bench.common import percentile, table, verdict

TARGET_MS = 1.0


def _time(function, checks: int) -> list[float]:
    times = []
    for _ in range(checks):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return times


def measure(alias: str, checks: int) -> tuple[list[float], list[float]]:
    from django.core.cache import caches
    from django.test import RequestFactory, override_settings
    from django.urls import resolve

    from newsgraph.infra.budget import RequestBudgetMiddleware

    with override_settings(REQUEST_BUDGET_CACHE=alias):
        middleware = RequestBudgetMiddleware(lambda request: None)
    request = RequestFactory().get("/api/search/", {"q": "election"}, REMOTE_ADDR="203.0.113.5")
    request.resolver_match = resolve("/api/search/")
    cache = caches[alias]
    cache.set("baseline", 1)
    for _ in range(200):  # warm up: connections, the first window's key
        assert middleware.process_view(request, None, (), {}) is None
        cache.get("baseline")
    checks_ms = _time(lambda: middleware.process_view(request, None, (), {}), checks)
    baseline_ms = _time(lambda: cache.get("baseline"), checks)
    return checks_ms, baseline_ms


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--checks", type=int, default=20_000)
    args = p.parse_args(argv)

    from testkit.servers import redis_server

    with redis_server() as redis:
        os.environ.update(
            {
                "DJANGO_SETTINGS_MODULE": "newsgraph.settings.base",
                "DJANGO_DEBUG": "0",
                "CACHE_URL": "",
                "LOG_LEVEL": "WARNING",
                "REQUEST_BUDGET_SEARCH": "1000000000",  # counted, never refused
            }
        )
        import django
        from django.conf import settings

        django.setup()
        settings.CACHES["redis"] = {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"{redis.url}/0",
        }
        rows = []
        for alias, label in (("default", "local memory"), ("redis", "Redis (loopback)")):
            checks_ms, baseline_ms = measure(alias, args.checks)
            p50, p99 = percentile(checks_ms, 50), percentile(checks_ms, 99)
            base50, base99 = percentile(baseline_ms, 50), percentile(baseline_ms, 99)
            print(
                f"{label:18} budget check p50 {p50 * 1000:7.1f} µs  p99 {p99 * 1000:7.1f} µs   "
                f"baseline cache.get p50 {base50 * 1000:7.1f} p99 {base99 * 1000:7.1f} µs "
                f"({args.checks:,} each)",
                flush=True,
            )
            rows.append(
                (
                    f"budget check, {label}: p50 / p99 (baseline cache.get)",
                    f"{p50 * 1000:.0f} / {p99 * 1000:.0f} µs ({base50 * 1000:.0f} / "
                    f"{base99 * 1000:.0f} µs)",
                    f"p50 < {TARGET_MS:.0f} ms",
                    verdict(p50 < TARGET_MS),
                )
            )
    print(table(rows, title="Request budget cost per request"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
