"""The request budget against a real Redis cache (issue 25), as production
runs it: every web process shares the counts, a refusal carries Retry-After,
the counters expire with their window, and a Redis outage lets requests
through rather than failing them."""

from __future__ import annotations

import pytest
import redis
from django.core.cache import caches
from django.test import Client

from tests.integration.processes import redis_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_budget(redis_server, settings):
    if redis_server.process is None or redis_server.process.poll() is not None:
        redis_server.start()  # a previous test stopped it
    redis_client(redis_server).flushall()  # every database
    settings.CACHES = {
        **settings.CACHES,
        "budget": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"{redis_server.url}/3",
            "KEY_PREFIX": "newsgraph",
        },
    }
    settings.REQUEST_BUDGET_CACHE = "budget"
    settings.REQUEST_BUDGET_WINDOW = 60
    yield redis_server
    caches["budget"].close()


def test_processes_share_the_budget_in_redis(redis_budget, settings):
    settings.REQUEST_BUDGETS = {"search": 120}
    # Two clients stand for two web processes: separate middleware instances,
    # the same counts.
    first, second = Client(REMOTE_ADDR="203.0.113.70"), Client(REMOTE_ADDR="203.0.113.70")
    statuses = [
        (first if n % 2 else second).get("/api/search/", {"q": f"vote {n}"}).status_code
        for n in range(300)
    ]

    assert statuses[:120] == [200] * 120 and statuses[120:] == [429] * 180
    refused = second.get("/api/search/", {"q": "vote"})
    assert 1 <= int(refused["Retry-After"]) <= 60
    db = redis.Redis.from_url(f"{redis_budget.url}/3", socket_timeout=5)
    keys = db.keys("*budget:search:203.0.113.70:*")
    assert len(keys) == 1
    assert int(db.get(keys[0])) == 301
    ttl = db.ttl(keys[0])
    assert 0 < ttl <= 61  # the counter goes with its window


def test_a_redis_outage_lets_requests_through(redis_budget, settings):
    settings.REQUEST_BUDGETS = {"search": 1}
    client = Client(REMOTE_ADDR="203.0.113.71")
    assert client.get("/", {"q": "x"}).status_code == 200
    assert client.get("/", {"q": "x"}).status_code == 429
    redis_budget.stop()
    try:
        assert client.get("/", {"q": "x"}).status_code == 200
    finally:
        redis_budget.start()
