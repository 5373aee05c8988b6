"""Who is asking: password sign-in, browser sessions (cookie, expiry, CSRF), API tokens, and
what is stored about each (hashes, never the secrets themselves)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlmodel import col, select

from scholia.core.models import ApiToken, User, WebSession
from scholia.core.models.types import utcnow
from scholia.core.runtime import Runtime

from .conftest import PASSWORD, csrf_token, sign_in

Client = TestClient[Any]


def sessions_of(runtime: Runtime, user: User) -> list[WebSession]:
    with runtime.session() as session:
        return list(session.exec(select(WebSession).where(col(WebSession.user_id) == user.id)))


def expire_sessions_of(runtime: Runtime, user: User) -> None:
    with runtime.session() as session:
        for row in session.exec(select(WebSession).where(col(WebSession.user_id) == user.id)):
            row.expires_at = utcnow() - timedelta(minutes=5)
            session.add(row)


def set_cookie_header(response: Any, name: str) -> str:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            return str(header)
    raise AssertionError(f"no Set-Cookie for {name}: {response.headers.get_list('set-cookie')}")


# --- signing in -----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["known user, wrong password", "unknown user"])
def test_a_failed_sign_in_is_401_with_one_message_that_does_not_say_which_was_wrong(
    app: Any, make_user: Callable[..., User], who: str
) -> None:
    user = make_user("annotator")
    username = user.username if who.startswith("known") else "nobody-here"
    with TestClient(app) as browser:
        response = sign_in(browser, username, "not the password")
        assert response.status_code == 401
        assert "text/html" in response.headers["content-type"]
        assert "Wrong username or password." in response.text
        assert f'value="{username}"' in response.text
        assert "scholia_session" not in browser.cookies


def test_signing_in_sets_an_httponly_samesite_lax_session_cookie(
    app: Any, make_user: Callable[..., User], runtime: Runtime
) -> None:
    user = make_user("annotator")
    with TestClient(app) as browser:
        response = sign_in(browser, user.username)
        assert response.status_code in (302, 303)
        assert response.headers["location"] == "/projects"
        cookie = set_cookie_header(response, "scholia_session")
        attributes = [part.strip().lower() for part in cookie.split(";")]
        assert "httponly" in attributes
        assert "samesite=lax" in attributes
        assert "path=/" in attributes
        raw = browser.cookies["scholia_session"]
        assert browser.get("/api/v1/me").json()["username"] == user.username
    (row,) = sessions_of(runtime, user)
    assert row.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert row.token_hash != raw


def test_the_csrf_cookie_is_samesite_lax(app: Any) -> None:
    with TestClient(app) as browser:
        response = browser.get("/sign-in")
        cookie = set_cookie_header(response, "scholia_csrf")
    assert "samesite=lax" in [part.strip().lower() for part in cookie.split(";")]


def test_passwords_are_stored_as_argon2_hashes(
    make_user: Callable[..., User], runtime: Runtime
) -> None:
    user = make_user("annotator")
    with runtime.session() as session:
        stored = session.get(User, user.id)
        assert stored is not None and stored.password_hash is not None
        assert stored.password_hash.startswith("$argon2id$")
        assert PASSWORD not in stored.password_hash


@pytest.mark.parametrize(
    ("next_value", "lands_on"),
    [
        ("/projects/7?status=labeled", "/projects/7?status=labeled"),
        ("//evil.example", "/projects"),
        ("//evil.example/projects", "/projects"),
        ("https://evil.example/", "/projects"),
        ("/\\evil.example", "/projects"),
        ("/\t/evil.example", "/projects"),
        ("javascript:alert(1)", "/projects"),
        ("", "/projects"),
    ],
    ids=[
        "same-site",
        "scheme-relative",
        "scheme-relative-path",
        "absolute",
        "backslash",
        "tab",
        "javascript",
        "empty",
    ],
)
def test_signing_in_only_redirects_to_paths_on_this_site(
    app: Any, make_user: Callable[..., User], next_value: str, lands_on: str
) -> None:
    user = make_user("annotator")
    with TestClient(app) as browser:
        response = browser.post(
            "/sign-in",
            data={
                "username": user.username,
                "password": PASSWORD,
                "next": next_value,
                "_csrf_token": csrf_token(browser),
            },
            follow_redirects=False,
        )
    assert response.status_code in (302, 303)
    assert response.headers["location"] == lands_on


def test_the_sign_in_form_carries_a_safe_next_forward(app: Any) -> None:
    with TestClient(app) as browser:
        page = browser.get("/sign-in", params={"next": "//evil.example"})
    assert page.status_code == 200
    assert 'name="next" value="/projects"' in page.text
    assert "evil.example" not in page.text


def test_signing_out_ends_the_session(client_for: Callable[..., Client], runtime: Runtime) -> None:
    browser = client_for("annotator")
    response = browser.post("/sign-out", follow_redirects=False)
    assert response.status_code in (302, 303)
    assert sessions_of(runtime, browser.user) == []  # type: ignore[attr-defined]
    assert browser.get("/api/v1/me").status_code == 401


# --- sessions that expired ------------------------------------------------------------------


def test_an_expired_session_sends_a_page_to_sign_in_saying_it_expired(
    client_for: Callable[..., Client], runtime: Runtime
) -> None:
    browser = client_for("annotator")
    assert browser.get("/projects").status_code == 200
    expire_sessions_of(runtime, browser.user)  # type: ignore[attr-defined]
    response = browser.get("/projects", follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/sign-in?next=/projects&reason=expired"
    page = browser.get(response.headers["location"])
    assert page.status_code == 200
    assert "Your session has expired. Please sign in again." in page.text
    assert 'name="next" value="/projects"' in page.text


def test_an_expired_session_gets_a_401_json_from_the_api_saying_so(
    client_for: Callable[..., Client], runtime: Runtime
) -> None:
    browser = client_for("annotator")
    expire_sessions_of(runtime, browser.user)  # type: ignore[attr-defined]
    response = browser.get("/api/v1/me")
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "not_signed_in"
    assert "expired" in error["message"]


def test_an_anonymous_page_visit_is_sent_to_sign_in_and_back(app: Any) -> None:
    with TestClient(app) as browser:
        response = browser.get("/projects/3", follow_redirects=False)
        assert response.status_code in (302, 303)
        assert response.headers["location"] == "/sign-in?next=/projects/3&reason=required"
        page = browser.get(response.headers["location"])
    assert "Please sign in to continue." in page.text


# --- CSRF -----------------------------------------------------------------------------------


def test_a_form_post_without_the_csrf_token_is_403_asking_to_reload(
    client_for: Callable[..., Client], runtime: Runtime
) -> None:
    browser = client_for("annotator")
    del browser.headers["x-csrftoken"]
    response = browser.post("/account/tokens", data={"name": "nightly"})
    assert response.status_code == 403
    assert "text/html" in response.headers["content-type"]
    assert "Reload the page and try again." in response.text
    with runtime.session() as session:
        assert session.exec(select(ApiToken)).all() == []


def test_signing_in_without_the_csrf_token_is_403_asking_to_reload(
    app: Any, make_user: Callable[..., User]
) -> None:
    user = make_user("annotator")
    with TestClient(app) as browser:
        browser.get("/sign-in")
        response = browser.post("/sign-in", data={"username": user.username, "password": PASSWORD})
        assert response.status_code == 403
        assert "Reload the page and try again." in response.text
        assert "scholia_session" not in browser.cookies


def test_a_signed_in_browsers_api_post_without_the_csrf_header_is_refused(
    client_for: Callable[..., Client], runtime: Runtime
) -> None:
    browser = client_for("annotator")
    del browser.headers["x-csrftoken"]
    response = browser.post("/api/v1/tokens", json={"name": "sneaky"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"
    with runtime.session() as session:
        assert session.exec(select(ApiToken)).all() == []


def test_a_form_field_csrf_token_is_accepted(client_for: Callable[..., Client]) -> None:
    browser = client_for("annotator")
    token = browser.headers.pop("x-csrftoken")
    response = browser.post("/account/tokens", data={"name": "nightly", "_csrf_token": token})
    assert response.status_code == 200
    assert "data-new-token" in response.text


# --- API tokens -----------------------------------------------------------------------------


def test_an_api_token_is_shown_once_and_only_its_hash_is_stored(
    client_for: Callable[..., Client], runtime: Runtime
) -> None:
    browser = client_for("annotator")
    response = browser.post("/api/v1/tokens", json={"name": "nightly import"})
    assert response.status_code == 201, response.text
    body = response.json()
    raw = body["token"]
    assert raw.startswith("sch_") and len(raw) > 30
    assert body["details"]["name"] == "nightly import"
    assert raw.startswith(body["details"]["prefix"])
    with runtime.session() as session:
        (row,) = session.exec(select(ApiToken)).all()
        assert row.token_hash == hashlib.sha256(raw.encode()).hexdigest()
        assert all(raw not in str(value) for value in row.model_dump().values())
    listed = browser.get("/api/v1/tokens")
    assert raw not in listed.text
    assert [t["name"] for t in listed.json()] == ["nightly import"]


def test_a_bearer_token_works_without_a_csrf_token_or_cookie(
    client_for: Callable[..., Client], app: Any
) -> None:
    browser = client_for("manager")
    raw = browser.post("/api/v1/tokens", json={"name": "script"}).json()["token"]
    with TestClient(app) as script:
        script.headers["Authorization"] = f"Bearer {raw}"
        assert script.get("/api/v1/me").json()["username"] == browser.user.username  # type: ignore[attr-defined]
        response = script.post(
            "/api/v1/projects",
            json={"name": "From a script", "modality": "image", "annotation_types": ["rating"]},
        )
        assert response.status_code == 201, response.text
        assert "scholia_csrf" not in script.cookies


def test_a_revoked_token_is_401_saying_it_is_not_valid(
    client_for: Callable[..., Client], app: Any, runtime: Runtime
) -> None:
    browser = client_for("annotator")
    created = browser.post("/api/v1/tokens", json={"name": "old laptop"}).json()
    response = browser.delete(f"/api/v1/tokens/{created['details']['id']}")
    assert response.status_code == 200
    assert response.json()["revoked_at"] is not None
    with TestClient(app) as script:
        script.headers["Authorization"] = f"Bearer {created['token']}"
        refused = script.get("/api/v1/me")
    assert refused.status_code == 401
    assert "revoked" in refused.json()["error"]["message"]


def test_a_mistyped_bearer_token_is_401_and_never_falls_back_to_the_cookie(
    client_for: Callable[..., Client],
) -> None:
    browser = client_for("annotator")
    response = browser.get("/api/v1/me", headers={"Authorization": "Bearer sch_not-a-token"})
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "not_signed_in"
    assert "not valid" in error["message"]


def test_you_cannot_revoke_someone_elses_token(
    client_for: Callable[..., Client], make_user: Callable[..., User], runtime: Runtime
) -> None:
    from scholia.core import identity

    other = make_user("annotator")
    with runtime.session() as session:
        token, _ = identity.create_api_token(session, other, "theirs")
    browser = client_for("annotator")
    response = browser.delete(f"/api/v1/tokens/{token.id}")
    assert response.status_code == 404
    with runtime.session() as session:
        kept = session.get(ApiToken, token.id)
        assert kept is not None and kept.revoked_at is None


def test_a_token_needs_a_name(client_for: Callable[..., Client], runtime: Runtime) -> None:
    browser = client_for("annotator")
    response = browser.post("/api/v1/tokens", json={"name": "  "})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["path"] == "$.name"
    assert "name" in error["message"]
    with runtime.session() as session:
        assert session.exec(select(ApiToken)).all() == []


def test_the_account_page_creates_and_revokes_tokens(
    client_for: Callable[..., Client], runtime: Runtime
) -> None:
    browser = client_for("annotator")
    created = browser.post("/account/tokens", data={"name": "laptop"})
    assert created.status_code == 200
    assert "shown only once" in created.text
    with runtime.session() as session:
        (token,) = session.exec(select(ApiToken)).all()
    revoked = browser.post(f"/account/tokens/{token.id}/revoke")
    assert revoked.status_code == 200
    assert "Token “laptop” revoked." in revoked.text
    with runtime.session() as session:
        row = session.get(ApiToken, token.id)
        assert row is not None and row.revoked_at is not None


# --- roles ----------------------------------------------------------------------------------


def test_a_page_that_needs_a_role_says_which_one(client_for: Callable[..., Client]) -> None:
    browser = client_for("annotator")
    response = browser.get("/projects/new")
    assert response.status_code == 403
    assert "Creating projects needs an account with the manager role" in response.text
