"""Read replicas (issue #14) against a real streaming standby of the test cluster.

The standby is made with `pg_basebackup -R` from the cluster the PostgreSQL pass
of `make test` runs on, so it holds pytest-django's test database and follows
it. With WAL replay paused on the standby, a story committed on the primary is
on the primary only: a page that shows it was read from the primary, one that
does not was read from the replica. Each request's line in the output says
which server ran its queries, asked of that server (inet_server_port(),
pg_is_in_recovery()).
"""

from __future__ import annotations

import contextlib
import copy
from collections import Counter
from collections.abc import Iterator

import psycopg2
import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import connection, connections
from django.db.utils import load_backend
from django.test import Client

from entities.models import Alias, Entity
from newsgraph.infra import replicas
from testkit.servers import PostgresCluster, ServerUnavailable, postgres_replica
from tests.browse.pages import one, parse, select, titles
from tests.factories import ArticleFactory, EntityFactory, MentionFactory
from tests.integration.processes import unavailable, wait_for

pytestmark = pytest.mark.postgres_only

REPLICA = "replica1"
PRIMARY = "default"


@pytest.fixture(scope="session")
def standby(django_db_setup) -> Iterator[PostgresCluster]:
    """A hot standby of the test cluster, made after the test database."""
    settings_dict = connection.settings_dict
    if connection.vendor != "postgresql":
        unavailable("read replicas need PostgreSQL (the PostgreSQL pass of make test)")
    if settings_dict.get("HOST") not in {"127.0.0.1", "localhost"}:
        unavailable("the replica is made with pg_basebackup from a cluster on 127.0.0.1")
    try:
        cluster = postgres_replica(int(settings_dict["PORT"]))
    except ServerUnavailable as exc:
        unavailable(str(exc))
    try:
        yield cluster
    finally:
        cluster.cleanup()


class Standby:
    """The standby seen from the test: replay control and a direct connection."""

    def __init__(self, cluster: PostgresCluster) -> None:
        self.cluster = cluster

    def query(self, sql: str, params: tuple = ()) -> tuple:
        settings_dict = connections[PRIMARY].settings_dict
        with contextlib.closing(
            psycopg2.connect(
                host="127.0.0.1",
                port=self.cluster.port,
                user=settings_dict["USER"],
                dbname=settings_dict["NAME"],
                connect_timeout=5,
            )
        ) as conn:
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchone()

    def catch_up(self) -> None:
        """Wait until the standby has replayed everything committed so far (the
        insert position: with synchronous_commit off, the write position may
        not yet include the last commit)."""
        with connections[PRIMARY].cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
            lsn = cursor.fetchone()[0]
        wait_for(
            lambda: self.query("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,))[0],
            what=f"the standby to replay up to {lsn}",
        )

    def pause(self) -> None:
        """Stop applying the primary's changes (they queue up until resume)."""
        self.catch_up()
        self.query("SELECT pg_wal_replay_pause()")
        wait_for(
            lambda: self.query("SELECT pg_get_wal_replay_pause_state()")[0] == "paused",
            what="WAL replay to pause",
        )

    def resume(self) -> None:
        self.query("SELECT pg_wal_replay_resume()")
        self.catch_up()

    def running(self) -> bool:
        try:
            self.query("SELECT 1")
        except psycopg2.OperationalError:
            return False
        return True


@pytest.fixture
def replica(transactional_db, standby, settings) -> Iterator[Standby]:
    """This process configured as with DATABASE_REPLICA_URLS naming the standby."""
    control = Standby(standby)
    if not control.running():  # a previous test stopped it
        standby.start()
    entry = copy.deepcopy(connections[PRIMARY].settings_dict)
    entry["PORT"] = str(standby.port)
    entry["OPTIONS"] = {**entry["OPTIONS"], "connect_timeout": settings.REPLICA_CONNECT_TIMEOUT}
    # Registered as a connection but not in DATABASES: pytest-django set the
    # test database up on the primary only, and the standby copies it.
    connections[REPLICA] = load_backend(entry["ENGINE"]).DatabaseWrapper(entry, REPLICA)
    settings.DATABASE_REPLICAS = [REPLICA]
    settings.DATABASE_ROUTERS = ["newsgraph.infra.replicas.ReplicaRouter"]
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "newsgraph.infra.replicas.ReplicaReadsMiddleware"]
    replicas.forget_down_state()
    try:
        yield control
    finally:
        if control.running():
            control.query("SELECT pg_wal_replay_resume()")
        connections[REPLICA].close()
        del connections[REPLICA]
        replicas.forget_down_state()


@pytest.fixture
def get(request):
    """client.get that logs which server ran the page's queries."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")

    def server_of(alias: str) -> str:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT inet_server_port(), pg_is_in_recovery()")
            port, standby = cursor.fetchone()
        return f"{alias} = 127.0.0.1:{port} ({'standby' if standby else 'primary'})"

    def fetch(client: Client, path: str, *, who: str = "reader") -> tuple:
        ran: Counter[str] = Counter()
        failed: Counter[str] = Counter()

        def counting(alias):
            def wrapper(execute, sql, params, many, context):
                try:
                    result = execute(sql, params, many, context)
                except Exception:
                    failed[alias] += 1
                    raise
                ran[alias] += 1  # only queries the server answered
                return result

            return wrapper

        with contextlib.ExitStack() as stack:
            for alias in (PRIMARY, REPLICA):
                stack.enter_context(connections[alias].execute_wrapper(counting(alias)))
            response = client.get(path)
        answered = "; ".join(f"{server_of(a)}: {n} queries" for a, n in sorted(ran.items()))
        answered += "".join(f"; {n} query failed on {a}" for a, n in sorted(failed.items()))
        line = (
            f"[replica test] {who:8} GET {path} -> {response.status_code}, answered by {answered}"
        )
        if reporter and capture:
            with capture.global_and_fixture_disabled():
                reporter.write_line(line)
        return response, ran

    return fetch


def story(title: str, text: str):
    article = ArticleFactory(title=title, text=text)
    MentionFactory(article=article, entity=EntityFactory(name=f"{title} entity"))
    return article


def test_pages_and_the_api_are_read_from_the_replica(replica, get):
    story("Harbour reopens", "The harbour reopened after the storm.")
    replica.catch_up()
    reader = Client()

    response, ran = get(reader, "/?q=harbour")
    assert titles(parse(response)) == ["Harbour reopens"]
    assert set(ran) == {REPLICA}

    replica.pause()
    story("Harbour lighthouse relit", "The harbour lighthouse was relit on Sunday.")
    # On the primary only: the reader, served by the paused replica, does not see it yet.
    response, ran = get(reader, "/?q=harbour")
    assert titles(parse(response)) == ["Harbour reopens"]
    assert set(ran) == {REPLICA}
    response, ran = get(reader, "/api/search/?q=harbour")
    assert [s["title"] for s in response.json()["results"]] == ["Harbour reopens"]
    assert set(ran) == {REPLICA}

    replica.resume()
    response, ran = get(reader, "/?q=harbour")
    assert sorted(titles(parse(response))) == ["Harbour lighthouse relit", "Harbour reopens"]
    assert set(ran) == {REPLICA}


def test_routing_adds_no_query_to_a_page(replica, get):
    iran = EntityFactory(name="Iran", type="GPE", story_count=3)
    for n in range(3):
        MentionFactory(article=ArticleFactory(title=f"Iran story {n}"), entity=iran)
    replica.catch_up()
    pinned = Client()
    pinned.cookies[replicas.PIN_COOKIE] = "1"  # what a write leaves: reads on the primary

    for path in ["/", "/?q=Iran", f"/entities/{iran.slug}/", "/api/search/?q=Iran"]:
        for cache in caches.all():  # each page computed in full, both times
            cache.clear()
        _, on_replica = get(Client(), path)
        for cache in caches.all():
            cache.clear()
        _, on_primary = get(pinned, path, who="pinned")
        assert set(on_replica) == {REPLICA}
        assert set(on_primary) == {PRIMARY}
        assert on_replica[REPLICA] == on_primary[PRIMARY], path


def test_an_editor_reads_their_own_writes_at_once(replica, get):
    iran = EntityFactory(name="Iran", type="GPE", story_count=1)
    MentionFactory(article=ArticleFactory(title="Tehran talks"), entity=iran)
    get_user_model().objects.create_superuser("editor", "editor@example.org", "a-long-passphrase")
    replica.catch_up()
    replica.pause()
    editor, reader = Client(), Client()

    response = editor.post(
        "/admin/login/?next=/admin/",
        {"username": "editor", "password": "a-long-passphrase", "next": "/admin/"},
    )
    assert response.status_code == 302
    assert replicas.PIN_COOKIE in response.cookies
    response = editor.post("/admin/entities/alias/add/", {"name": "Persia", "entity": iran.pk})
    assert response.status_code == 302
    assert replicas.PIN_COOKIE in response.cookies

    # The write reached the primary; the paused replica has not replayed it.
    assert Alias.objects.using(PRIMARY).filter(name="Persia", entity=iran).exists()
    assert replica.query("SELECT count(*) FROM entities_alias WHERE name = 'Persia'") == (0,)

    response, ran = get(editor, "/?q=Persia", who="editor")
    card = one(parse(response), ".entity-card")
    assert "Iran" in card.text_content()
    assert set(ran) == {PRIMARY}

    response, ran = get(reader, "/?q=Persia")
    assert select(parse(response), ".entity-card") == []
    assert set(ran) == {REPLICA}

    replica.resume()
    response, ran = get(reader, "/?q=Persia")
    assert "Iran" in one(parse(response), ".entity-card").text_content()
    assert set(ran) == {REPLICA}


def test_a_replica_that_goes_down_sends_reads_back_to_the_primary(replica, get, settings):
    harbour = story("Harbour reopens", "The harbour reopened after the storm.")
    entity_page = harbour.mentions.get().entity.get_absolute_url()
    replica.catch_up()
    reader = Client()
    response, ran = get(reader, "/?q=harbour")
    assert set(ran) == {REPLICA}

    replica.cluster.stop()
    # The open connection breaks mid-page: the page is read again from the primary.
    response, ran = get(reader, "/?q=harbour")
    assert titles(parse(response)) == ["Harbour reopens"]
    assert set(ran) == {PRIMARY}
    # Known to be down: the next pages go straight to the primary.
    response, ran = get(reader, entity_page)
    assert response.status_code == 200
    assert set(ran) == {PRIMARY}
    health = reader.get("/health/")
    assert health.status_code == 200
    assert health.json()["replicas"][REPLICA].startswith("error")

    # Once the retry interval has passed (forgotten here), a new connection is
    # tried: refused, so this page too is read from the primary.
    replicas.forget_down_state()
    settings.REPLICA_RETRY_SECONDS = 0
    response, ran = get(reader, "/?q=harbour")
    assert titles(parse(response)) == ["Harbour reopens"]
    assert set(ran) == {PRIMARY}

    replica.cluster.start()
    replica.catch_up()
    response, ran = get(reader, "/?q=harbour")
    assert titles(parse(response)) == ["Harbour reopens"]
    assert set(ran) == {REPLICA}


def test_entities_written_by_the_primary_are_the_ones_the_pages_read(replica, get):
    """allow_relation: a row read from the replica may be saved next to one
    read from the primary (same data)."""
    iran = EntityFactory(name="Iran", type="GPE")
    replica.catch_up()

    with replicas.reads_from(REPLICA):
        from_replica = Entity.objects.get(pk=iran.pk)
    assert from_replica._state.db == REPLICA
    alias = Alias(name="Persia", entity=from_replica)
    alias.save()
    assert alias._state.db == PRIMARY
