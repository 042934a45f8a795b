"""Admin login throttling with django-axes (issue 25): repeated wrong
passwords lock the account (from anywhere) and the client (for any
account), the lock-out is logged and ends with the cool-off time or when an
administrator removes it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.utils import timezone

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture
def editor(django_user_model):
    return django_user_model.objects.create_user(
        "editor", "editor@example.com", "correct horse battery", is_staff=True
    )


def log_in(address: str, username: str, password: str) -> int:
    client = Client(REMOTE_ADDR=address)
    response = client.post(LOGIN, {"username": username, "password": password})
    return response.status_code


def logged_in(status: int) -> bool:
    return status == 302  # the admin redirects to ?next= after a login


def test_twenty_wrong_passwords_lock_the_account_and_the_client(editor, caplog):
    attacker = "203.0.113.50"
    with caplog.at_level("INFO", logger="axes"):
        statuses = [log_in(attacker, "editor", f"guess {n}") for n in range(20)]

    limit = settings.AXES_FAILURE_LIMIT
    assert statuses[: limit - 1] == [200] * (limit - 1)  # the form again, with an error
    assert statuses[limit:] == [429] * (20 - limit)
    # The account: even the right password, even from another address.
    assert log_in(attacker, "editor", "correct horse battery") == 429
    assert log_in("198.51.100.60", "editor", "correct horse battery") == 429
    # The client: any other account from that address.
    assert log_in(attacker, "someone-else", "whatever") == 429
    # Logged, with the account and the address.
    locked = [r.getMessage() for r in caplog.records if "Locking out" in r.getMessage()]
    assert locked and "editor" in locked[0] and attacker in locked[0]


def test_a_locked_account_unlocks_after_the_cool_off(editor):
    for n in range(settings.AXES_FAILURE_LIMIT):
        log_in("203.0.113.51", "editor", f"guess {n}")
    assert log_in("198.51.100.61", "editor", "correct horse battery") == 429

    # The cool-off passes (the attempts are dated back by it).
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )

    assert logged_in(log_in("198.51.100.61", "editor", "correct horse battery"))


def test_an_administrator_unlocks_an_account_in_the_admin(editor, django_user_model):
    for n in range(settings.AXES_FAILURE_LIMIT):
        log_in("203.0.113.52", "editor", f"guess {n}")
    assert log_in("198.51.100.62", "editor", "correct horse battery") == 429
    admin = django_user_model.objects.create_superuser("chief", "chief@example.com", "pw-chief-1")
    chief = Client(REMOTE_ADDR="192.0.2.10")
    chief.force_login(admin)

    listing = chief.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200 and "editor" in listing.content.decode()
    attempts = list(AccessAttempt.objects.filter(username="editor").values_list("pk", flat=True))
    chief.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": attempts, "post": "yes"},
    )

    assert not AccessAttempt.objects.filter(username="editor").exists()
    assert logged_in(log_in("198.51.100.62", "editor", "correct horse battery"))


def test_a_right_password_before_the_limit_clears_the_failures(editor):
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in("203.0.113.53", "editor", f"typo {n}")
    assert logged_in(log_in("203.0.113.53", "editor", "correct horse battery"))
    # A reader of their own typos does not lock themselves out later.
    assert log_in("203.0.113.53", "editor", "one more typo") == 200
    assert logged_in(log_in("203.0.113.53", "editor", "correct horse battery"))
