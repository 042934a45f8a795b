"""testkit.servers, which `make test` runs the PostgreSQL pass under, leaves no
server behind when it is stopped from outside."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.postgres_only


def test_sigterm_stops_the_cluster_and_the_command(tmp_path):
    url_file = tmp_path / "url"
    wrapper = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "testkit.servers",
            "postgres",
            "--",
            "bash",
            "-c",
            f'echo "$DATABASE_URL" > {url_file}; exec sleep 120',
        ],
        cwd=ROOT,
    )
    deadline = time.monotonic() + 60
    while not (url_file.exists() and url_file.read_text().strip()):
        assert time.monotonic() < deadline, "the cluster did not start"
        time.sleep(0.2)
    port = int(url_file.read_text().strip().rsplit(":", 1)[1].split("/")[0])
    socket.create_connection(("127.0.0.1", port), timeout=5).close()

    wrapper.send_signal(signal.SIGTERM)
    assert wrapper.wait(timeout=60) == 128 + signal.SIGTERM
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
