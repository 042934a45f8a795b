"""Parts of pages kept in caches["pages"], under versions.

Each cached part puts its version in its key, so bumping the version makes
every entry under it stale at once (Redis has no cheap "delete by prefix",
and clearing would also drop the rescoring state kept in the same Redis).
With workers in other processes, CACHE_URL must name a shared cache for a
bump to reach the web processes; entries also expire on their own.

The cache is an optimisation only: when it cannot be reached, pages are
computed and stories are still stored (a broker/cache outage loses nothing).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

from django.core.cache import caches

from newsgraph.infra import replicas

logger = logging.getLogger(__name__)

# Weekly counts and related entities of the entity pages.
ENTITY_PROFILES = "entity-profiles"
# What follows the stories and what they are about (text-search counts,
# trending entities): stale when a story is added, edited, deleted or
# extracted, or after curation.
CORPUS = "corpus"

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)

# Cache backends raise their own errors (redis.exceptions.ConnectionError, …).
_UNREACHABLE = Exception


def cached(name: str, key: str, compute: Callable[[], T], *, timeout: int) -> T:
    """compute(), kept for `timeout` seconds under `key` in version `name`.

    With read replicas a version also names the primary's WAL position at the
    bump: a page reading from a replica that has not replayed that far yet
    computes the value from older data and does not keep it.
    """
    cache = caches["pages"]
    try:
        # A version missing from the cache (never bumped, or evicted) names
        # no position: it is not a write the replicas must have replayed.
        version = cache.get_or_set(f"version:{name}", time.time_ns, timeout=None)
        full_key = f"{name}:{version}:{key}"
        found = cache.get(full_key)
    except _UNREACHABLE:
        logger.warning("page cache unreachable; computing %s", name, exc_info=True)
        return compute()
    if found is None:
        found = compute()
        position = str(version).partition("@")[2]
        if position and not replicas.replayed_past(position):
            return found
        try:
            cache.set(full_key, found, timeout)
        except _UNREACHABLE:
            logger.warning("page cache unreachable; %s not kept", name, exc_info=True)
    return found


def cached_many(
    name: str,
    prefix: str,
    keys: Sequence[K],
    compute: Callable[[list[K]], dict[K, T]],
    *,
    timeout: int,
) -> dict[K, T]:
    """One value per key (e.g. per story of a page) under version `name`, read
    in one round trip; compute(missing keys) fills the ones not kept yet and
    must return a value for each of them. Same rules as cached()."""
    cache = caches["pages"]
    try:
        version = cache.get_or_set(f"version:{name}", time.time_ns, timeout=None)
        full_keys = {key: f"{name}:{version}:{prefix}:{key}" for key in keys}
        found = cache.get_many(list(full_keys.values()))
    except _UNREACHABLE:
        logger.warning("page cache unreachable; computing %s", name, exc_info=True)
        return compute(list(keys))
    values = {key: found[full] for key, full in full_keys.items() if full in found}
    missing = [key for key in keys if key not in values]
    if not missing:
        return values
    computed = compute(missing)
    values.update(computed)
    position = str(version).partition("@")[2]
    if position and not replicas.replayed_past(position):
        return values
    try:
        cache.set_many({full_keys[key]: computed[key] for key in missing}, timeout)
    except _UNREACHABLE:
        logger.warning("page cache unreachable; %s not kept", name, exc_info=True)
    return values


def _new_version() -> int | str:
    # A new value, never a counter: a version the cache evicted and
    # restarted from 0 could meet entries written under an old 0.
    position = replicas.wal_position()
    return f"{time.time_ns()}@{position}" if position else time.time_ns()


def bump(*names: str) -> None:
    """Everything cached under these versions is stale."""
    cache = caches["pages"]
    for name in names:
        try:
            cache.set(f"version:{name}", _new_version(), timeout=None)
        except _UNREACHABLE:
            # Entries written before the outage expire on their own.
            logger.warning("page cache unreachable; %s not bumped", name, exc_info=True)
