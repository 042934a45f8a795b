"""DATABASE_REPLICA_URLS in the settings, and the read-your-writes cookie
(issue #14). The replica itself is exercised for real in
tests/integration/test_replicas.py."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from newsgraph.infra import replicas
from newsgraph.infra.replicas import ReplicaRouter

MIDDLEWARE = "newsgraph.infra.replicas.ReplicaReadsMiddleware"
ROUTER = "newsgraph.infra.replicas.ReplicaRouter"
ROOT = Path(__file__).resolve().parents[2]


def load_settings(monkeypatch, tmp_path, **env: str) -> dict:
    monkeypatch.setenv("NEWSGRAPH_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_REPLICA_URLS", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "newsgraph" / "settings" / "base.py"))


def test_without_replicas_the_embedded_default_is_unchanged(monkeypatch, tmp_path):
    settings = load_settings(monkeypatch, tmp_path)
    assert list(settings["DATABASES"]) == ["default"]
    assert settings["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert settings["DATABASE_REPLICAS"] == []
    assert "DATABASE_ROUTERS" not in settings
    assert MIDDLEWARE not in settings["MIDDLEWARE"]


def test_each_replica_url_becomes_a_read_database(monkeypatch, tmp_path):
    settings = load_settings(
        monkeypatch,
        tmp_path,
        DATABASE_URL="postgres://news:secret@primary:5432/newsgraph",
        DATABASE_REPLICA_URLS="postgres://news:secret@replica-a:5432/newsgraph,"
        "postgres://news:secret@replica-b:6432/newsgraph",
    )
    databases = settings["DATABASES"]
    assert settings["DATABASE_REPLICAS"] == ["replica1", "replica2"]
    assert [databases[a]["HOST"] for a in ("default", "replica1", "replica2")] == [
        "primary",
        "replica-a",
        "replica-b",
    ]
    assert databases["replica2"]["PORT"] == 6432
    # A replica that does not answer is given up quickly, not after libpq's default.
    assert databases["replica1"]["OPTIONS"]["connect_timeout"] == 2
    assert settings["DATABASE_ROUTERS"] == [ROUTER]
    assert settings["MIDDLEWARE"][-1] == MIDDLEWARE


def test_the_router_writes_and_migrates_on_the_primary_only(settings):
    settings.DATABASE_REPLICAS = ["replica1"]
    router = ReplicaRouter()
    assert router.db_for_read(None) is None  # outside a page: the primary
    with replicas.reads_from("replica1"):
        assert router.db_for_read(None) == "replica1"
        assert router.db_for_write(None) == "default"
    assert router.allow_migrate("replica1", "entities") is False
    assert router.allow_migrate("default", "entities") is None


@pytest.fixture
def with_replica_middleware(settings):
    # No replica configured: the middleware finds none to read from, so
    # every read stays on this test's database.
    settings.DATABASE_REPLICAS = []
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, MIDDLEWARE]


def test_a_write_pins_the_browser_to_the_primary(client, db, with_replica_middleware):
    get_user_model().objects.create_superuser("editor", "editor@example.org", "a-long-passphrase")

    page = client.get("/")
    assert replicas.PIN_COOKIE not in page.cookies

    login = client.post(
        "/admin/login/", {"username": "editor", "password": "a-long-passphrase", "next": "/admin/"}
    )
    assert login.status_code == 302
    pin = login.cookies[replicas.PIN_COOKIE]
    assert int(pin["max-age"]) == 30
    assert pin["httponly"]


def test_an_admin_page_keeps_the_pin(admin_client, with_replica_middleware):
    response = admin_client.get("/admin/entities/entity/")
    assert response.status_code == 200
    assert replicas.PIN_COOKIE in response.cookies


def test_compose_has_an_optional_streaming_replica():
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    replica = compose["services"]["postgres-replica"]
    assert replica["profiles"] == ["replicas"]  # off unless asked for
    script = replica["command"][-1]
    assert "pg_basebackup -h postgres" in script and " -R " in script
    assert "hot_standby=on" in script
    assert replica["volumes"][0].split(":")[0] in compose["volumes"]
    # No app service waits for it: reads fall back to the primary without it.
    for name in ("web", "worker", "beat"):
        assert "postgres-replica" not in compose["services"][name].get("depends_on", {})
    assert "DATABASE_REPLICA_URLS" in compose["x-app"]["environment"]
    init = compose["services"]["postgres"]["volumes"][1].split(":")[0]
    assert "host replication" in (ROOT / init).read_text()
