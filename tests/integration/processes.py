"""Processes the integration tests drive: Redis, `celery worker`, polling helpers."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from testkit.servers import RedisServer

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 60.0
T = TypeVar("T")


def unavailable(reason: str) -> None:
    """Skip locally; under CI a missing server is a failure, never a skip."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the integration tests must run)", pytrace=False)
    pytest.skip(reason)


def wait_for(
    predicate: Callable[[], T],
    *,
    timeout: float = DEADLINE,
    interval: float = 0.2,
    what: str = "condition",
    on_timeout: Callable[[], str] | None = None,
) -> T:
    """Poll until `predicate()` is truthy and return it; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            detail = on_timeout() if on_timeout else ""
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{detail}")
        time.sleep(interval)


# --- processes -----------------------------------------------------------------


def _proc_table() -> list[tuple[int, str, int, int]]:
    """(pid, state, ppid, pgrp) of every process, read from /proc."""
    rows = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may contain spaces.
        fields = stat[stat.rindex(")") + 2 :].split()
        rows.append((int(entry.name), fields[0], int(fields[1]), int(fields[2])))
    return rows


def children_of(pid: int) -> list[int]:
    """Live child processes (the prefork pool's workers) of `pid`."""
    try:
        import psutil
    except ImportError:
        return [p for p, state, ppid, _ in _proc_table() if ppid == pid and state != "Z"]
    with contextlib.suppress(psutil.NoSuchProcess):
        return [c.pid for c in psutil.Process(pid).children() if c.status() != "zombie"]
    return []


def live_group_members(pgid: int) -> list[int]:
    return [p for p, state, _, pgrp in _proc_table() if pgrp == pgid and state != "Z"]


def redis_client(server: RedisServer):
    import redis

    return redis.Redis.from_url(f"{server.url}/0", socket_timeout=5)


# --- the test process publishes to the real broker ----------------------------------


def reset_producer_pools(app) -> None:
    from kombu import pools

    if app._pool is not None:
        with contextlib.suppress(Exception):
            app._pool.force_close_all()
    app._pool = None
    with contextlib.suppress(AttributeError, KeyError):
        app.__dict__["amqp"]._producer_pool = None
    pools.reset()


@dataclass
class Broker:
    server: RedisServer

    @property
    def url(self) -> str:
        return f"{self.server.url}/0"

    @property
    def cache_url(self) -> str:
        return f"{self.server.url}/1"

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        self.server.start()

    def queue_lengths(self) -> dict[str, int]:
        client = redis_client(self.server)
        return {name: client.llen(name) for name in ("extraction", "default")}


# --- celery workers ------------------------------------------------------------------

READY = re.compile(r"@\S+ ready\.")


@dataclass
class Worker:
    name: str
    log_path: Path
    argv: list[str]
    env: dict[str, str]
    process: subprocess.Popen | None = None
    _log_file: Any = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> Worker:
        self._log_file = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed as a whole
        )
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def tail(self, lines: int = 60) -> str:
        return f"--- {self.name} log ({self.log_path}) ---\n" + "\n".join(
            self.log().splitlines()[-lines:]
        )

    def lines(self, pattern: str) -> list[str]:
        regex = re.compile(pattern)
        return [line for line in self.log().splitlines() if regex.search(line)]

    def wait_ready(self, timeout: float = DEADLINE) -> Worker:
        def ready() -> bool:
            if self.process.poll() is not None:
                pytest.fail(
                    f"worker {self.name} exited with {self.process.returncode}\n" + self.tail()
                )
            return bool(READY.search(self.log()))

        wait_for(
            ready, timeout=timeout, what=f"worker {self.name} to be ready", on_timeout=self.tail
        )
        return self

    def pool_children(self) -> list[int]:
        return children_of(self.pid)

    def kill_pool_child(self) -> int:
        """SIGKILL the prefork child running the task (concurrency 1)."""
        children = wait_for(self.pool_children, timeout=10, what="the pool child")
        assert len(children) == 1, f"expected one pool child, found {children}"
        os.kill(children[0], signal.SIGKILL)
        return children[0]

    def kill_everything(self) -> list[int]:
        """SIGKILL the parent and its children at once, as an OOM kill or a lost machine."""
        pids = live_group_members(self.pid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait(10)
        wait_for(
            lambda: not live_group_members(self.pid), timeout=10, what="the killed worker to die"
        )
        return pids

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # warm shutdown
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(10)
        deadline = time.monotonic() + 10
        while live_group_members(self.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if self._log_file:
            self._log_file.close()
        left = live_group_members(self.pid)
        assert not left, f"worker {self.name} left processes running: {left}"


def celery_binary() -> str:
    candidate = Path(sys.executable).with_name("celery")
    if not candidate.exists():
        candidate = ROOT / ".venv" / "bin" / "celery"
    if not candidate.exists():
        unavailable(f"no celery executable next to {sys.executable} or in .venv/bin")
    return str(candidate)
