"""The request budget per client (issue 25): text searches, suggestions,
story and entity pages and the API are answered 429 with Retry-After once a
client has spent its budget; a reader browsing never meets it; settings
change the limits and say which proxy header to trust."""

from __future__ import annotations

import pytest
from django.test import Client

from newsgraph.infra import budget
from newsgraph.settings import base as production_defaults

pytestmark = pytest.mark.django_db


@pytest.fixture
def defaults(settings):
    """The budgets a deployment gets (the test settings turn them off)."""
    settings.REQUEST_BUDGETS = dict(production_defaults.REQUEST_BUDGETS)
    settings.REQUEST_BUDGET_WINDOW = production_defaults.REQUEST_BUDGET_WINDOW
    return settings


def client_at(address: str, **headers) -> Client:
    return Client(REMOTE_ADDR=address, **headers)


def test_300_rapid_api_searches_get_429_with_retry_after(defaults):
    client = client_at("203.0.113.7")
    statuses, refused = [], None
    for number in range(300):
        response = client.get("/api/search/", {"q": f"election {number}"})
        statuses.append(response.status_code)
        if response.status_code == 429 and refused is None:
            refused = response

    limit = production_defaults.REQUEST_BUDGETS["search"]
    assert statuses[:limit] == [200] * limit
    assert statuses[limit:] == [429] * (300 - limit)
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json()["detail"].startswith(f"Too many requests: {limit} search requests")
    # Another address is not affected.
    assert client_at("198.51.100.9").get("/api/search/", {"q": "election"}).status_code == 200


def test_the_search_page_is_refused_as_text_with_retry_after(settings, caplog):
    settings.REQUEST_BUDGETS = {"search": 3}
    client = client_at("203.0.113.8")
    assert [client.get("/", {"q": "Iran"}).status_code for _ in range(3)] == [200] * 3

    with caplog.at_level("WARNING", logger="newsgraph.infra.budget"):
        response = client.get("/", {"q": "Iran"})
        client.get("/", {"q": "Iran"})

    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/plain")
    assert int(response["Retry-After"]) >= 1
    assert "Try again in" in response.content.decode()
    # Logged once a window, not once a refused request.
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [
        "request budget: search over 3 per 60s from 203.0.113.8"
    ]
    # The front page (no text search) is a page, not a search.
    assert client.get("/").status_code == 200


def test_a_reader_browsing_never_meets_the_budget(defaults):
    from tests.factories import ArticleFactory, EntityFactory, MentionFactory

    entity = EntityFactory(name="Iran", type="GPE")
    stories = [ArticleFactory() for _ in range(5)]
    for story in stories:
        MentionFactory(article=story, entity=entity)
    client = client_at("192.0.2.44")
    statuses = []
    # A busy minute: 30 searches and pages of results, typing (a suggestion
    # per keystroke), every entity and story page, the feed, the API.
    for number in range(30):
        statuses.append(client.get("/", {"q": "Iran", "page": number % 3 + 1}).status_code)
        for typed in ("Ir", "Ira", "Iran"):
            statuses.append(client.get("/suggest/", {"q": typed}).status_code)
        statuses.append(client.get(f"/entities/{entity.slug}/").status_code)
        statuses.append(client.get(f"/articles/{stories[number % 5].pk}/").status_code)
        statuses.append(client.get("/api/search/", {"q": "Iran"}).status_code)
        statuses.append(client.get(f"/api/entities/{entity.slug}/").status_code)
    statuses.append(client.get(f"/entities/{entity.slug}/feed/").status_code)

    assert 429 not in statuses
    assert set(statuses) <= {200, 404}


def test_each_kind_has_its_own_budget(settings):
    settings.REQUEST_BUDGETS = {"search": 2, "suggest": 2, "pages": 2, "api": 2}
    client = client_at("203.0.113.9")
    for _ in range(2):
        client.get("/", {"q": "x"})
    assert client.get("/", {"q": "x"}).status_code == 429
    assert client.get("/api/search/", {"q": "x"}).status_code == 429  # the same kind
    assert client.get("/suggest/", {"q": "x"}).status_code == 200
    assert client.get("/api/openapi.json").status_code == 200  # "api"
    assert client.get("/api/openapi.json").status_code == 200
    assert client.get("/api/openapi.json").status_code == 429
    assert client.get("/health/").status_code == 200  # no budget
    assert client.get("/admin/login/").status_code == 200


def test_the_window_ending_restores_the_budget(settings, monkeypatch):
    settings.REQUEST_BUDGETS = {"search": 1}
    settings.REQUEST_BUDGET_WINDOW = 60
    now = [1_800_000_010.0]  # 10 s into a window
    monkeypatch.setattr(budget.time, "time", lambda: now[0])
    client = client_at("203.0.113.10")

    assert client.get("/", {"q": "x"}).status_code == 200
    refused = client.get("/", {"q": "x"})
    assert refused.status_code == 429 and refused["Retry-After"] == "50"
    now[0] += 50
    assert client.get("/", {"q": "x"}).status_code == 200


def test_an_ipv6_client_is_counted_by_its_64(settings):
    settings.REQUEST_BUDGETS = {"search": 2}
    assert client_at("2001:db8:1:2::1").get("/", {"q": "x"}).status_code == 200
    assert client_at("2001:db8:1:2::ffff").get("/", {"q": "x"}).status_code == 200
    assert client_at("2001:db8:1:2:abcd::9").get("/", {"q": "x"}).status_code == 429
    assert client_at("2001:db8:1:3::1").get("/", {"q": "x"}).status_code == 200


def test_a_forwarded_header_is_ignored_unless_trusted(settings):
    settings.REQUEST_BUDGETS = {"search": 1}
    # Not trusted: a client cannot escape its budget by naming itself.
    client_at("10.0.0.5", HTTP_X_FORWARDED_FOR="1.1.1.1").get("/", {"q": "x"})
    spoofed = client_at("10.0.0.5", HTTP_X_FORWARDED_FOR="2.2.2.2").get("/", {"q": "x"})
    assert spoofed.status_code == 429


def test_behind_a_trusted_proxy_the_header_names_the_client(settings):
    settings.REQUEST_BUDGETS = {"search": 1}
    settings.TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    first = client_at(proxy, HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert first.get("/", {"q": "x"}).status_code == 200
    # Another reader behind the same proxy has a budget of their own…
    second = client_at(proxy, HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert second.get("/", {"q": "x"}).status_code == 200
    # …and the first cannot reset theirs by prepending a made-up address:
    # the proxy appends the address it saw, the rightmost entry.
    forged = client_at(proxy, HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.1")
    assert forged.get("/", {"q": "x"}).status_code == 429


def test_a_failing_cache_lets_requests_through(settings, caplog):
    from testkit.servers import free_port

    settings.CACHES = {
        **settings.CACHES,
        "budget": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
        },
    }
    settings.REQUEST_BUDGET_CACHE = "budget"
    settings.REQUEST_BUDGETS = {"search": 1}
    client = client_at("203.0.113.11")
    with caplog.at_level("WARNING", logger="newsgraph.infra.budget"):
        statuses = [client.get("/", {"q": "x"}).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    assert "the cache failed" in caplog.text
