"""Real PostgreSQL and Redis servers for the tests, from the Debian packages.

Each server runs from a temporary directory on a free loopback port and is
stopped afterwards. `python -m testkit.servers postgres redis -- CMD…` runs a
command with DATABASE_URL / CELERY_BROKER_URL / CACHE_URL pointing at them.

A missing server binary skips what needs it, except under CI=true, where it
is a failure: CI must never pass by skipping the real-server tests.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


class ServerUnavailable(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, *, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise ServerUnavailable(f"nothing listening on 127.0.0.1:{port} after {timeout:.0f}s")


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    path = found[0] if found else shutil.which(name)
    if not path:
        raise ServerUnavailable(f"{name} not found: install the Debian package 'postgresql'")
    return path


def _as_postgres_user() -> tuple[list[str], int | None, int | None]:
    """initdb refuses to run as root: run the server as the 'postgres' user."""
    if os.geteuid() != 0:
        return [], None, None
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        raise ServerUnavailable("running as root but there is no 'postgres' user") from None
    return ["runuser", "-u", "postgres", "--"], user.pw_uid, user.pw_gid


def _pg_settings_from_env() -> list[str]:
    """Extra server settings for a bench cluster, e.g.
    NEWSGRAPH_PG_SETTINGS="shared_buffers=1GB max_wal_size=8GB"."""
    return os.environ.get("NEWSGRAPH_PG_SETTINGS", "").split()


class PostgresCluster:
    """A throw-away PostgreSQL cluster in a temporary folder, on a free port.

    `start()` runs initdb (for a new folder) and the server; `stop()` and
    `start()` again keep the data. `postgres_replica()` makes a streaming
    standby of a running cluster.
    """

    def __init__(self, *, settings: list[str] | None = None) -> None:
        self.prefix, self.uid, self.gid = _as_postgres_user()
        self.root = Path(tempfile.mkdtemp(prefix="newsgraph-pg-"))
        if self.uid is not None:
            os.chown(self.root, self.uid, self.gid)
        self.data = self.root / "data"
        self.port = free_port()
        self.settings = [*(settings or []), *_pg_settings_from_env()]

    def url(self, database: str = "newsgraph") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, command: list[str]) -> None:
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True)

    def _options(self) -> str:
        # Durability off (a throw-away cluster); random_page_cost as in
        # docker-compose.yml (data in memory or on SSD), so the bench plans
        # queries as production does.
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100 "
            "-c random_page_cost=1.1"
        )
        return " ".join([options, *(f"-c {setting}" for setting in self.settings)])

    def start(self) -> None:
        """Start the server (initdb first if the folder is new)."""
        try:
            if not self.data.exists():
                self._run(
                    [
                        *self.prefix,
                        _pg_bin("initdb"),
                        "-D",
                        str(self.data),
                        "-U",
                        "postgres",
                        "--auth=trust",
                        "-E",
                        "UTF8",
                        "--no-sync",
                        "--locale=C.UTF-8",
                    ]
                )
            self._run(
                [
                    *self.prefix,
                    _pg_bin("pg_ctl"),
                    "-D",
                    str(self.data),
                    "-o",
                    self._options(),
                    "-l",
                    str(self.root / "log"),
                    "-w",
                    "start",
                ]
            )
        except subprocess.CalledProcessError as exc:
            raise ServerUnavailable(
                f"PostgreSQL did not start: {exc.stderr.decode()[-500:]}"
            ) from None

    def create_database(self, name: str = "newsgraph") -> None:
        self._run(
            [_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name]
        )

    def stop(self, mode: str = "immediate") -> None:
        subprocess.run(
            [*self.prefix, _pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def postgres_replica(primary_port: int) -> PostgresCluster:
    """A hot standby streaming from the local cluster on `primary_port`
    (pg_basebackup -R), started and ready for reads on its own free port."""
    # hot_standby_feedback: the primary's vacuum keeps the rows a page on the
    # standby is reading, instead of the standby cancelling its query.
    standby = PostgresCluster(settings=["hot_standby=on", "hot_standby_feedback=on"])
    try:
        standby._run(
            [
                *standby.prefix,
                _pg_bin("pg_basebackup"),
                "-h",
                "127.0.0.1",
                "-p",
                str(primary_port),
                "-U",
                "postgres",
                "-D",
                str(standby.data),
                "-R",  # standby.signal + primary_conninfo: a streaming replica
                "-X",
                "stream",
                "--no-sync",
                "--checkpoint=fast",
            ]
        )
    except subprocess.CalledProcessError as exc:
        standby.cleanup()
        raise ServerUnavailable(f"pg_basebackup failed: {exc.stderr.decode()[-500:]}") from None
    try:
        standby.start()
    except ServerUnavailable:
        standby.cleanup()
        raise
    return standby


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Yield a DATABASE_URL for a throw-away PostgreSQL cluster."""
    cluster = PostgresCluster()
    try:
        cluster.start()
        cluster.create_database()
    except (ServerUnavailable, subprocess.CalledProcessError) as exc:
        cluster.cleanup()
        if isinstance(exc, subprocess.CalledProcessError):
            raise ServerUnavailable(f"createdb failed: {exc.stderr.decode()[-500:]}") from None
        raise
    try:
        yield cluster.url()
    finally:
        cluster.cleanup()


class RedisServer:
    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if not binary:
            raise ServerUnavailable(
                "redis-server not found: install the Debian package 'redis-server'"
            )
        self.binary = binary
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="newsgraph-redis-")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.contextmanager
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


def main(argv: list[str]) -> int:
    if "--" not in argv:
        print("usage: python -m testkit.servers [postgres] [redis] -- CMD…", file=sys.stderr)
        return 2
    wanted, command = argv[: argv.index("--")], argv[argv.index("--") + 1 :]
    # Stopped from outside (a CI timeout, `kill`): unwind, so the command is
    # killed and the servers are stopped and their folders removed.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    env = dict(os.environ)
    with contextlib.ExitStack() as stack:
        if "postgres" in wanted:
            env["DATABASE_URL"] = stack.enter_context(postgres_server())
        if "redis" in wanted:
            redis = stack.enter_context(redis_server())
            env["TEST_REDIS_URL"] = redis.url
        return subprocess.call(command, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
