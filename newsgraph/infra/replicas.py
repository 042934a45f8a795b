"""Read replicas: which database each read goes to (DATABASE_REPLICA_URLS).

Every read goes to the primary ("default") unless a web request for a
read-only page asked for a replica: `ReplicaReadsMiddleware` does that for
GET and HEAD requests of the URL namespaces in REPLICA_READ_NAMESPACES (the
pages and the API). So Celery workers, management commands, the admin and
every write use the primary without having to say so.

An editor sees their own change at once: any write (POST, PUT, PATCH,
DELETE) and any admin page sets a cookie that sends that browser's reads to
the primary for REPLICA_PIN_SECONDS, longer than replication lag.

A replica that cannot be reached is left alone for REPLICA_RETRY_SECONDS
(per process) and its reads go to the primary: the connection attempt has a
short timeout, and a page whose replica fails mid-request is run again on
the primary instead of failing.

Routing adds no query: choosing a replica opens (or reuses) the connection
the page would open anyway. The page cache (pagecache.cached) asks a replica
how far it has replayed, once per page and only when it stores something it
computed, so that a replica that lags never files old data under a new
version.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger("newsgraph.replicas")

PIN_COOKIE = "newsgraph_primary"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
READ_ONLY_METHODS = frozenset({"GET", "HEAD"})


@dataclass
class _Route:
    alias: str  # the replica this request's reads go to
    replayed: int | None = None  # its WAL replay position, once asked


# Where this request's reads go; None: the primary.
_route: ContextVar[_Route | None] = ContextVar("newsgraph_reads", default=None)
# alias -> time.monotonic() until which it is treated as down (this process).
_down_until: dict[str, float] = {}


def replica_aliases() -> list[str]:
    return list(getattr(settings, "DATABASE_REPLICAS", ()))


def reading_from_replica() -> bool:
    """Whether this request's reads go to a replica (whose data may be a few
    hundred milliseconds behind the primary)."""
    return _route.get() is not None


def _read_alias() -> str | None:
    route = _route.get()
    return route.alias if route else None


@contextlib.contextmanager
def reads_from(alias: str | None) -> Iterator[None]:
    """Send the reads of the enclosed code to `alias` (None: the primary)."""
    token = _route.set(_Route(alias) if alias else None)
    try:
        yield
    finally:
        _route.reset(token)


def wal_position() -> str | None:
    """The primary's WAL insert position (after a commit: at least that
    commit's record, even with synchronous_commit off, where the write
    position can still be behind it), when there are replicas to compare
    it with."""
    if not replica_aliases():
        return None
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
            return cursor.fetchone()[0]
    except DatabaseError:
        logger.warning("could not read the primary's WAL position", exc_info=True)
        return None


def replayed_past(position: str) -> bool:
    """Whether this request's reads see everything the primary had written at
    `position` (always, on the primary). One query per request at most."""
    route = _route.get()
    if route is None:
        return True
    if route.replayed is None:
        with connections[route.alias].cursor() as cursor:
            cursor.execute("SELECT pg_last_wal_replay_lsn()::text")
            route.replayed = _lsn(cursor.fetchone()[0] or "0/0")
    return route.replayed >= _lsn(position)


def _lsn(position: str) -> int:
    high, low = position.split("/")
    return (int(high, 16) << 32) | int(low, 16)


def mark_down(alias: str, reason: str) -> None:
    _down_until[alias] = time.monotonic() + settings.REPLICA_RETRY_SECONDS
    logger.warning(
        "replica %s unavailable (%s): reads go to the primary for %ss",
        alias,
        reason,
        settings.REPLICA_RETRY_SECONDS,
    )


def forget_down_state() -> None:
    """Try every replica again on the next request (tests, operators)."""
    _down_until.clear()


def replica_states() -> dict[str, str]:
    """'ok' or 'down' for each replica, as this process last found it."""
    now = time.monotonic()
    return {
        alias: "down" if _down_until.get(alias, 0.0) > now else "ok" for alias in replica_aliases()
    }


def healthy_replica() -> str | None:
    """A replica that is not known to be down and accepts a connection, or
    None (then the primary takes the reads)."""
    now = time.monotonic()
    candidates = [alias for alias in replica_aliases() if _down_until.get(alias, 0.0) <= now]
    random.shuffle(candidates)  # spread the load over the replicas
    for alias in candidates:
        try:
            # Connects with the replica's short connect_timeout, or keeps the
            # open connection (CONN_MAX_AGE): the page would connect anyway.
            connections[alias].ensure_connection()
        except DatabaseError as exc:
            _close_quietly(alias)
            mark_down(alias, type(exc).__name__)
            continue
        return alias
    return None


def _close_quietly(alias: str) -> None:
    with contextlib.suppress(Exception):
        connections[alias].close()


def _usable(alias: str) -> bool:
    connection = connections[alias]
    try:
        return connection.connection is not None and connection.is_usable()
    except Exception:  # a broken connection can fail in more ways than one
        return False


class ReplicaRouter:
    """Reads where the current request wants them (the primary by default),
    writes and migrations on the primary only."""

    def db_for_read(self, model, **hints) -> str | None:
        return _read_alias()

    def db_for_write(self, model, **hints) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        # Replicas are copies of the primary: a row read from one may point
        # at a row read from another.
        same_data = {DEFAULT_DB_ALIAS, *replica_aliases()}
        if obj1._state.db in same_data and obj2._state.db in same_data:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, **hints) -> bool | None:
        return False if db in replica_aliases() else None


class ReplicaReadsMiddleware:
    """Read-only pages read from a replica; writes and the admin pin the
    browser's reads to the primary for a while (read-your-writes).

    Install it last, so that every other middleware's process_view has run.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            response = self.get_response(request)
        finally:
            token = getattr(request, "_replica_token", None)
            if token is not None:
                _route.reset(token)
                del request._replica_token
        if self._writes_or_edits(request):
            response.set_cookie(
                PIN_COOKIE,
                "1",
                max_age=settings.REPLICA_PIN_SECONDS,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
            )
        return response

    @staticmethod
    def _writes_or_edits(request: HttpRequest) -> bool:
        if request.method not in SAFE_METHODS:
            return True
        match = request.resolver_match
        return match is not None and match.namespace.split(":")[0] == "admin"

    @staticmethod
    def _may_read_from_replica(request: HttpRequest) -> bool:
        if request.method not in READ_ONLY_METHODS or PIN_COOKIE in request.COOKIES:
            return False
        match = request.resolver_match
        return match is not None and match.namespace in settings.REPLICA_READ_NAMESPACES

    def process_view(
        self, request: HttpRequest, view_func: Callable, view_args: Any, view_kwargs: Any
    ) -> None:
        if not self._may_read_from_replica(request):
            return None
        alias = healthy_replica()
        if alias is not None:
            request._replica_token = _route.set(_Route(alias))
            request._replica_view = (view_func, view_args, view_kwargs)
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A replica that fails mid-page: run the (read-only) view again on the
        primary instead of answering 500."""
        alias = _read_alias()
        if alias is None or not isinstance(exception, OperationalError | InterfaceError):
            return None
        if not _usable(alias):
            _close_quietly(alias)
            mark_down(alias, f"{type(exception).__name__}: {str(exception).strip()[:200]}")
        else:
            # E.g. a query cancelled by a conflict with WAL replay: the
            # replica is fine, this page just reads from the primary.
            logger.warning(
                "read on replica %s failed (%s); retried on the primary", alias, exception
            )
        view_func, view_args, view_kwargs = request._replica_view
        _route.set(None)  # reset to the request's token in __call__
        return view_func(request, *view_args, **view_kwargs)
