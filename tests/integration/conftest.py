"""Real Redis, real PostgreSQL and real `celery worker` processes (SPEC §8, §9).

These fixtures run in the PostgreSQL pass of `make test`:

    python -m testkit.servers postgres -- pytest tests/integration

pytest-django's test database is reached by the workers through DATABASE_URL
built from `connection.settings_dict`; `transactional_db` makes what the test
writes visible to them (and theirs to the test). Redis is started once per
session from the Debian `redis-server` and can be stopped and started again on
the same port. Every worker is a `celery -A newsgraph worker` subprocess with
its log in a file; teardown stops it (SIGTERM, then SIGKILL on its process
group) and checks that none of its processes is left running.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from django.test import override_settings

from testkit.servers import RedisServer, ServerUnavailable
from tests.integration.processes import (
    Broker,
    Worker,
    celery_binary,
    redis_client,
    reset_producer_pools,
    unavailable,
)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    try:
        server = RedisServer()
        server.start()
    except ServerUnavailable as exc:
        unavailable(str(exc))
    try:
        yield server
    finally:
        server.cleanup()


# --- PostgreSQL -------------------------------------------------------------------


@pytest.fixture
def postgres_url(transactional_db) -> str:
    """The URL of pytest-django's test database, for the worker processes."""
    if connection.vendor != "postgresql":
        unavailable(
            "the integration tests need PostgreSQL: run them with "
            "`python -m testkit.servers postgres -- pytest tests/integration`"
        )
    s = connection.settings_dict
    credentials = quote(s["USER"] or "", safe="")
    if s.get("PASSWORD"):
        credentials += ":" + quote(s["PASSWORD"], safe="")
    host = s.get("HOST") or "127.0.0.1"
    if host.startswith("/"):
        unavailable(f"the workers reach PostgreSQL over TCP; HOST is a socket directory: {host}")
    port = s.get("PORT") or 5432
    return f"postgres://{credentials}@{host}:{port}/{quote(s['NAME'], safe='')}"


@pytest.fixture
def broker(redis_server: RedisServer, postgres_url: str) -> Iterator[Broker]:
    """Switch this process's Celery app and Django settings to the real Redis."""
    from newsgraph.celery import app

    if redis_server.process is None or redis_server.process.poll() is not None:
        redis_server.start()  # a previous test stopped it and failed before restarting
    redis_client(redis_server).flushall()  # no messages or debounce keys from earlier tests
    broker = Broker(redis_server)
    previous = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    overrides = override_settings(
        CELERY_BROKER_URL=broker.url,
        CELERY_TASK_ALWAYS_EAGER=False,
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": broker.cache_url,
            },
            "pages": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": broker.cache_url,
                "KEY_PREFIX": "pages",
            },
        },
        RESCORE_DEBOUNCE_SECONDS=1,
    )
    overrides.enable()
    app.conf.update(broker_url=broker.url, task_always_eager=False)
    reset_producer_pools(app)
    try:
        yield broker
    finally:
        app.conf.update(**previous)
        reset_producer_pools(app)
        overrides.disable()


@pytest.fixture
def start_worker(broker: Broker, postgres_url: str, tmp_path: Path, request):
    """Factory: start a `celery worker` against the test database and Redis."""
    started: list[Worker] = []
    uid = re.sub(r"[^A-Za-z0-9]+", "-", f"{os.getpid()}-{request.node.name}")[:40]

    def start(
        name: str = "w1",
        *,
        concurrency: int = 1,
        visibility_timeout: int | None = None,
        wait: bool = True,
        env: dict[str, str] | None = None,
    ) -> Worker:
        worker_env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "newsgraph.settings.base",
            "DATABASE_URL": postgres_url,
            "CELERY_BROKER_URL": broker.url,
            "CACHE_URL": broker.cache_url,
            "RESCORE_DEBOUNCE_SECONDS": "1",
            # Full passes only: these tests check exact stars after each burst.
            "RESCORE_FULL_GROWTH": "-1",
            "DJANGO_DEBUG": "false",
            "NEWSGRAPH_DATA_DIR": str(tmp_path / "data"),
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        if visibility_timeout is not None:
            worker_env["CELERY_VISIBILITY_TIMEOUT"] = str(visibility_timeout)
        worker = Worker(
            name=name,
            log_path=tmp_path / f"worker-{name}.log",
            argv=[
                celery_binary(),
                "-A",
                "newsgraph",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                str(concurrency),
                "--queues",
                "extraction,default",
                "--prefetch-multiplier",
                "1",
                "-n",
                f"{name}-{uid}@%h",
                "--loglevel",
                "INFO",
            ],
            env=worker_env,
        )
        started.append(worker)
        worker.start()
        if wait:
            worker.wait_ready()
        return worker

    yield start
    errors = []
    for worker in reversed(started):
        try:
            worker.stop()
        except AssertionError as exc:
            errors.append(str(exc))
    assert not errors, errors


@pytest.fixture
def staff_client(transactional_db, client):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_superuser("editor", "editor@example.org", "pw")
    client.force_login(user)
    return client
