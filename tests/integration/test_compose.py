"""The docker-compose services, run as plain processes with the exact commands
docker-compose.yml gives them (Docker cannot run on these machines).

`web` (gunicorn, production settings, whitenoise), `worker` and `beat` run
against the test PostgreSQL and a real Redis; a story ingested with the
production `manage.py ingest` is extracted by the worker and shows stars on the
page gunicorn serves; a story left pending (a lost enqueue) is picked up by the
sweep that beat schedules; /health/ reports the database and the broker.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from articles.models import Article
from articles.services import article_ingest
from testkit.servers import free_port, wait_for_port
from tests.integration.helpers import about_lists, wait_extracted
from tests.integration.processes import ROOT, Worker, celery_binary, wait_for

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.integration,
]

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def service_command(name: str) -> list[str]:
    return list(COMPOSE["services"][name]["command"])


def test_compose_services_share_the_production_environment():
    app_env = COMPOSE["x-app"]["environment"]
    assert app_env["DJANGO_SETTINGS_MODULE"] == "newsgraph.settings.production"
    for name in ("web", "worker", "beat", "migrate"):
        service = COMPOSE["services"][name]
        assert service["environment"] == app_env, name
        assert service["env_file"] == ".env", name
    worker = service_command("worker")
    assert worker[worker.index("--queues") + 1].split(",")[0] == "extraction"
    assert worker[worker.index("--prefetch-multiplier") + 1] == "1"
    assert "--loglevel" in worker
    assert service_command("web")[0] == "gunicorn"
    assert COMPOSE["services"]["web"]["healthcheck"]["test"][-1].endswith("/health/')")


def _binary(name: str) -> str:
    """The venv's copy of a console script the compose command names."""
    if name == "python":
        return sys.executable
    if name == "celery":
        return celery_binary()
    return str(Path(sys.executable).with_name(name))


def _plain(command: list[str], *, replace: dict[str, str]) -> list[str]:
    return [_binary(command[0]), *(replace.get(arg, arg) for arg in command[1:])]


@pytest.fixture
def production_env(postgres_url, broker, tmp_path) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "newsgraph.settings.production",
        "SECRET_KEY": "compose-test-" + "k" * 50,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": postgres_url,
        "CELERY_BROKER_URL": broker.url,
        "CACHE_URL": broker.cache_url,
        "STATIC_ROOT": str(tmp_path / "static"),
        "NEWSGRAPH_DATA_DIR": str(tmp_path / "data"),
        "RESCORE_DEBOUNCE_SECONDS": "1",
        "RESCORE_FULL_GROWTH": "-1",
        "PENDING_SWEEP_SECONDS": "2",
        "PYTHONUNBUFFERED": "1",
    }
    # What the Dockerfile does at build time: the manifest whitenoise serves from.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    return env


@pytest.fixture
def services(production_env, tmp_path):
    started: list[Worker] = []

    def start(name: str, argv: list[str]) -> Worker:
        process = Worker(
            name=name, log_path=tmp_path / f"{name}.log", argv=argv, env=production_env
        )
        started.append(process.start())
        return process

    yield start
    for process in reversed(started):
        process.stop()


def _get(port: int, path: str) -> tuple[int, str]:
    # Behind the proxy the compose file expects: TLS ends there and says so.
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"X-Forwarded-Proto": "https"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_web_worker_and_beat_run_the_compose_commands(services, production_env, broker, tmp_path):
    port = free_port()
    web = services(
        "web", _plain(service_command("web"), replace={"0.0.0.0:8000": f"127.0.0.1:{port}"})
    )
    worker = services("worker", _plain(service_command("worker"), replace={}))
    beat = services(
        "beat",
        _plain(
            service_command("beat"),
            replace={"/tmp/celerybeat-schedule": str(tmp_path / "celerybeat-schedule")},
        ),
    )
    wait_for_port(port)
    worker.wait_ready()

    status, body = _get(port, "/health/")
    assert status == 200, body
    assert json.loads(body) == {"status": "ok", "database": "ok", "broker": "ok"}
    status, css = _get(port, "/static/css/newsgraph.css")
    assert status == 200 and "font" in css  # whitenoise serves the collected files

    # The production ingest command, as `docker compose run web python manage.py ingest`.
    stories = tmp_path / "stories.jsonl"
    stories.write_text(
        json.dumps(
            {
                "url": "https://news.example.org/world/2025/03/lisbon-port-strike/",
                "title": "Lisbon dock workers end their strike",
                "text": (
                    "Dock workers in Lisbon ended a week-long strike on Tuesday after the "
                    "Port of Lisbon agreed to new shift rules.\n\n"
                    "Marta Oliveira, who speaks for the union, said ships from Brazil and "
                    "Angola would be unloaded first. Lisbon's mayor welcomed the deal."
                ),
                "published_at": "2025-03-11T08:00:00Z",
                "source": "Example Wire",
            }
        )
        + "\n"
    )
    ingest = subprocess.run(
        [sys.executable, "manage.py", "ingest", str(stories)],
        cwd=ROOT,
        env=production_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ingest.returncode == 0, ingest.stderr
    assert "1 added, 0 duplicates, 0 failed" in ingest.stdout

    # A story whose enqueue was lost: only beat's periodic sweep can queue it.
    lost = article_ingest(
        url="https://news.example.org/world/2025/03/porto-bridge/",
        title="Porto opens a new bridge over the Douro",
        text="Porto opened a footbridge over the Douro on Sunday, the city council said.",
        enqueue=False,
    ).article

    ids = list(Article.objects.values_list("id", flat=True))
    wait_extracted(ids, [worker, beat], timeout=90)
    assert beat.lines(r"Sending due task sweep-pending-articles")
    assert worker.lines(r"sweep: re-queueing \d+ pending stories")
    assert Article.objects.get(pk=lost.pk).status == Article.Status.EXTRACTED

    def page_with_stars() -> str | None:
        status, page = _get(port, "/?q=Lisbon")
        stories = about_lists(page) if status == 200 else {}
        lisbon = stories.get("Lisbon dock workers end their strike", [])
        return page if any(name == "Lisbon" and stars >= 1 for name, stars in lisbon) else None

    page = wait_for(
        page_with_stars, what="Lisbon with stars on the served page", on_timeout=web.tail
    )
    assert re.search(r"Port of Lisbon", page)

    # Redis down: the health endpoint says so instead of pretending.
    broker.stop()
    status, body = _get(port, "/health/")
    assert status == 503, body
    state = json.loads(body)
    assert state["status"] == "degraded"
    assert state["database"] == "ok"
    assert state["broker"].startswith("error")
    broker.start()
