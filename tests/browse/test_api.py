"""JSON API (SPEC §7): same parameters and ranking as the pages, an OpenAPI
schema, and no 500 for anything the schema allows (schemathesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from articles.models import Article
from entities.scoring import rescore_all
from newsgraph.browse import search as selectors
from newsgraph.wsgi import application
from tests.factories import ArticleFactory, EntityFactory, MentionFactory, SourceFactory

START = datetime(2025, 2, 3, 9, tzinfo=UTC)


@pytest.fixture
def corpus(db):
    """Thirty stories about Iran, ten about Iraq, with varied stars."""
    iran = EntityFactory(name="Iran", type="GPE")
    iran.aliases.create(name="Islamic Republic")
    iraq = EntityFactory(name="Iraq", type="GPE")
    sudani = EntityFactory(name="Mohammed al-Sudani", type="PERSON")
    atlantic = SourceFactory(name="The Atlantic")
    for i in range(30):
        article = ArticleFactory(
            title=f"Iran story {i}",
            text=f"Iran and its neighbours, part {i}.\n\nMore text.",
            published_at=START + timedelta(days=i),
            source=atlantic if i % 3 == 0 else SourceFactory(name="Wire"),
        )
        MentionFactory(
            article=article, entity=iran, stars=1 + i % 4, score=(i * 7) % 11, spans=[[0, 4]]
        )
        if i % 3 == 0:
            MentionFactory(article=article, entity=iraq, stars=2, score=1.0)
            MentionFactory(article=article, entity=sudani, stars=3, score=2.0)
    rescore_all()
    return {"iran": iran, "iraq": iraq, "sudani": sudani, "atlantic": atlantic}


def ids(results) -> list[int]:
    return [r["id"] for r in results]


@pytest.mark.django_db
def test_search_ranks_like_the_page(client, corpus):
    for params in [{"q": "Iran"}, {"q": "islamic republic"}, {"q": ""}, {"q": "neighbours"}]:
        api = client.get("/api/search/", params).json()
        page = client.get("/", params).context["page_obj"]
        direct = selectors.search(q=params["q"])
        assert ids(api["results"]) == [a.pk for a in page.object_list]
        assert ids(api["results"]) == [a.pk for a in direct.page.object_list]
        assert api["total"] == page.paginator.count == direct.total
        assert api["mode"] == direct.mode


@pytest.mark.django_db
def test_search_names_the_entity_and_pages(client, corpus):
    first = client.get("/api/search/", {"q": "Iran"}).json()
    assert first["mode"] == "entity"
    assert first["entity"]["name"] == "Iran"
    assert first["entity"]["url"] == corpus["iran"].get_absolute_url()
    assert first["aliases"] == ["Islamic Republic"]
    assert (first["page"], first["num_pages"], first["page_size"]) == (1, 2, 20)
    assert first["total"] == 30 and len(first["results"]) == 20
    story = first["results"][0]
    assert story["about"][0]["entity"]["name"] == "Iran"
    assert 1 <= story["about"][0]["stars"] <= 4
    assert story["about"][0]["stars_label"].endswith("of 4 stars")
    assert story["page_url"] == f"/articles/{story['id']}/"
    second = client.get("/api/search/", {"q": "Iran", "page": 2}).json()
    assert second["page"] == 2 and len(second["results"]) == 10
    assert not set(ids(first["results"])) & set(ids(second["results"]))


@pytest.mark.django_db
def test_search_filters_are_the_page_filters(client, corpus):
    params = {
        "q": "Iran",
        "source": corpus["atlantic"].pk,
        "date_from": "2025-02-04",
        "date_to": "2025-02-20",
        "type": "PERSON",
        "about": "stars",
    }
    api = client.get("/api/search/", params).json()
    page = client.get("/", params).context["page_obj"]
    assert ids(api["results"]) == [a.pk for a in page.object_list]
    assert api["total"] == 5  # Atlantic stories (every third) from day 1 to day 17
    about = api["results"][0]["about"]
    assert [a["stars"] for a in about] == sorted((a["stars"] for a in about), reverse=True)


@pytest.mark.django_db
def test_search_rejects_bad_parameters_with_422(client, corpus):
    assert client.get("/api/search/", {"page": 0}).status_code == 422
    assert client.get("/api/search/", {"type": "ALIEN"}).status_code == 422
    assert client.get("/api/search/", {"source": 999999}).status_code == 422
    assert (
        client.get("/api/search/", {"date_from": "2025-03-01", "date_to": "2025-02-01"}).status_code
        == 422
    )
    assert client.get("/api/search/", {"date_to": "9999-12-31"}).status_code == 200
    assert client.get("/api/search/", {"q": "Iran\x00"}).status_code == 200
    assert client.get("/api/search/", {"q": '"unbalanced AND ('}).status_code == 200


@pytest.mark.django_db
def test_empty_search_lists_latest_and_trending(client, corpus):
    # Iran is in every story (steady, not trending); Tehran bursts in the last days.
    tehran = EntityFactory(name="Tehran", type="GPE")
    for article in Article.objects.order_by("-published_at")[:3]:
        MentionFactory(article=article, entity=tehran, stars=3, score=2.0)
    rescore_all()
    data = client.get("/api/search/").json()
    assert data["mode"] == "latest"
    assert data["results"][0]["title"] == "Iran story 29"
    assert next(t["name"] for t in data["trending"]) == "Tehran"
    assert "Iran" not in [t["name"] for t in data["trending"]]
    assert all(t["week"] >= 2 for t in data["trending"])


@pytest.mark.django_db
def test_entity_detail(client, corpus):
    iran = corpus["iran"]
    data = client.get(f"/api/entities/{iran.slug}/").json()
    assert data["name"] == "Iran" and data["type"] == "GPE"
    assert data["aliases"] == ["Islamic Republic"]
    assert data["stories"] == data["total"] == 30
    assert data["first_seen"].startswith("2025-02-03")
    assert data["last_seen"].startswith("2025-03-04")
    assert data["feed_url"] == f"/entities/{iran.slug}/feed/"
    assert sum(w["stories"] for w in data["weekly"]) == 30
    assert {r["entity"]["name"] for r in data["related"]} == {"Iraq", "Mohammed al-Sudani"}
    page = client.get(iran.get_absolute_url()).context["page_obj"]
    assert ids(data["results"]) == [a.pk for a in page.object_list]
    by_date = client.get(f"/api/entities/{iran.slug}/", {"order": "date", "page": 2}).json()
    assert by_date["page"] == 2 and by_date["order"] == "date"
    assert [r["title"] for r in by_date["results"]][:2] == ["Iran story 9", "Iran story 8"]
    assert client.get("/api/entities/nobody/").status_code == 404
    corpus["iraq"].blocked = True
    corpus["iraq"].save()
    assert client.get(f"/api/entities/{corpus['iraq'].slug}/").status_code == 410  # gone (SPEC §11)


@pytest.mark.django_db
def test_story_detail(client, corpus):
    story_id = client.get("/api/search/", {"q": "Iran"}).json()["results"][0]["id"]
    data = client.get(f"/api/stories/{story_id}/").json()
    assert data["id"] == story_id and data["title"].startswith("Iran story")
    assert "\n\n" in data["text"]
    iran = next(m for m in data["mentions"] if m["entity"]["name"] == "Iran")
    assert iran["spans"] == [[0, 4]]
    assert data["title"][iran["spans"][0][0] : iran["spans"][0][1]] == "Iran"
    assert client.get("/api/stories/987654321/").status_code == 404
    assert client.get(f"/api/stories/{2**63}/").status_code == 422


@pytest.mark.django_db
def test_suggest(client, corpus):
    data = client.get("/api/suggest/", {"q": "mo"}).json()
    assert [r["name"] for r in data["results"]] == ["Mohammed al-Sudani"]
    assert data["results"][0]["stories"] == 10
    assert client.get("/api/suggest/", {"q": ""}).json() == {"results": []}


def test_openapi_schema_documents_every_endpoint(client):
    schema = client.get("/api/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        "/api/search/",
        "/api/entities/{slug}/",
        "/api/stories/{story_id}/",
        "/api/suggest/",
    }
    search = {p["name"] for p in schema["paths"]["/api/search/"]["get"]["parameters"]}
    assert search == {"q", "date_from", "date_to", "source", "type", "language", "about", "page"}


# --- property-based fuzzing against the schema, in-process ---------------------------------


# The schema is read in-process from the WSGI app (no server, no network);
# reading it touches no database. (schemathesis.pytest.from_fixture does not
# work with pytest 9 yet, hence the module-level schema.)
fuzz_schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)


@pytest.fixture
def keep_test_connection():
    """Calling the WSGI app directly fires request_started/finished, whose
    handler closes the database connection and with it the test's
    transaction; Django's test client detaches it the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@fuzz_schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.django_db
def test_api_fuzz_finds_no_server_errors(case, corpus, keep_test_connection):
    response = case.call()
    case.validate_response(
        response,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
