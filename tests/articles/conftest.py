import socket

import pytest


@pytest.fixture
def no_loopback(settings):
    """Production's rule: loopback refused too (the test settings allow it so
    that pytest-httpserver can be reached)."""
    settings.FETCH_ALLOW_LOOPBACK = False


@pytest.fixture
def resolve_as(monkeypatch):
    """Make host names resolve to chosen addresses, as a hostile DNS would;
    returns the list of names looked up, to count lookups."""
    real = socket.getaddrinfo
    names: dict[str, str] = {}
    lookups: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host in names:
            lookups.append(host)
            return real(names[host], port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    def resolve(host: str, address: str) -> list[str]:
        names[host] = address
        return lookups

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return resolve
