"""Sign-in throttling: too many refused passwords lock an account or an address until the
window passes, even for the right password; the lock is in the database; admins see it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from litestar.testing import TestClient

from scholia.core import throttle
from scholia.core.models import User
from scholia.core.models.types import utcnow
from scholia.core.runtime import Runtime
from scholia.server.app import create_app

from .conftest import PASSWORD, sign_in


def test_a_hundred_wrong_passwords_lock_the_account_even_for_the_right_one(
    app: Any, make_user: Callable[..., User]
) -> None:
    user = make_user("annotator")
    with TestClient(app) as client:
        statuses = [
            sign_in(client, user.username, "wrong password").status_code for _ in range(100)
        ]
        assert statuses[:5] == [401] * 5
        assert set(statuses[5:]) == {429}
        response = sign_in(client, user.username)
        assert response.status_code == 429
        retry_after = int(response.headers["retry-after"])
        assert 14 * 60 < retry_after <= 15 * 60
        assert "Too many failed sign-ins for this account" in response.text
        assert "wait 15 minutes" in response.text
        assert "scholia_session" not in response.cookies


def test_the_lock_counts_the_username_typed_whether_or_not_it_exists(
    app: Any, make_user: Callable[..., User]
) -> None:
    user = make_user("annotator")
    with TestClient(app) as client:
        for _ in range(5):
            assert sign_in(client, "nobody-here", "guess").status_code == 401
        assert sign_in(client, "NOBODY-here", "guess").status_code == 429
        assert sign_in(client, user.username).status_code in (
            302,
            303,
        )  # another account still works


def test_failures_from_one_address_lock_it_for_every_account(
    app: Any, make_user: Callable[..., User]
) -> None:
    user = make_user("annotator")
    with TestClient(app) as client:
        for n in range(20):  # four names, five each: no single account reaches its limit
            assert sign_in(client, f"guess{n % 4}", "wrong").status_code == 401
        response = sign_in(client, user.username)
        assert response.status_code == 429
        assert "your network address" in response.text
        assert int(response.headers["retry-after"]) > 0


def test_a_successful_sign_in_forgets_the_accounts_failures(
    app: Any, make_user: Callable[..., User]
) -> None:
    user = make_user("annotator")
    with TestClient(app) as client:
        for _ in range(4):
            assert sign_in(client, user.username, "wrong").status_code == 401
        assert sign_in(client, user.username).status_code in (302, 303)
        for _ in range(4):
            assert sign_in(client, user.username, "wrong").status_code == 401
        assert sign_in(client, user.username).status_code in (302, 303)


def test_the_lock_holds_across_processes_and_ends_when_the_window_passes(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    user = make_user("annotator")
    limits = throttle.Limits.of(runtime.settings)
    started = utcnow() - timedelta(minutes=10)
    with runtime.session() as session:
        for n in range(5):
            throttle.record_failure(
                session, user.username, "198.51.100.7", limits, now=started + timedelta(seconds=n)
            )
    # A second server on the same database (another process, or after a restart) sees it.
    with TestClient(create_app(runtime)) as client:
        assert sign_in(client, user.username).status_code == 429
    with runtime.session() as session:
        lock = throttle.lockout(session, user.username, "203.0.113.1", limits)
        assert lock is not None and lock.kind == "account"
        assert lock.until == started + limits.window  # when the oldest of the five leaves it
        later = started + limits.window + timedelta(seconds=5)
        assert throttle.lockout(session, user.username, "203.0.113.1", limits, now=later) is None


def test_admins_see_locked_accounts_and_addresses_and_can_lift_them(
    app: Any, make_user: Callable[..., User], client_for: Callable[..., TestClient[Any]]
) -> None:
    user = make_user("annotator")
    with TestClient(app) as guesser:
        for _ in range(5):
            sign_in(guesser, user.username, "wrong")
        assert sign_in(guesser, user.username).status_code == 429
    admin = client_for("admin")
    page = admin.get("/security")
    assert page.status_code == 200
    assert f'data-lock="account:{user.username}"' in page.text
    assert 'href="/security"' in page.text  # the menu links it for admins
    annotator = client_for("annotator")
    assert annotator.get("/security").status_code == 403
    assert 'href="/security"' not in annotator.get("/projects").text
    lifted = admin.post(
        "/security/lift", data={"kind": "account", "key": user.username}, follow_redirects=False
    )
    assert lifted.status_code in (302, 303)
    assert f'data-lock="account:{user.username}"' not in admin.get("/security").text
    with TestClient(app) as client:
        assert sign_in(client, user.username, PASSWORD).status_code in (302, 303)
