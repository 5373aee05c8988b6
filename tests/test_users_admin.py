"""Admins manage accounts, in the API and on the Users page: create (with a password given or
generated and shown once), list, deactivate and reactivate, reset a password. Deactivation and
a reset take effect at once; an admin never locks themselves, or everyone, out."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlmodel import col, select

from scholia.core import identity
from scholia.core.errors import Conflict
from scholia.core.models import ApiToken, AuditEvent, User, WebSession
from scholia.core.runtime import Runtime

from .conftest import PASSWORD, sign_in

Client = TestClient[Any]

API_ROUTES = [
    ("GET", "/api/v1/users", None),
    ("POST", "/api/v1/users", {"username": "newcomer", "roles": ["annotator"]}),
    ("GET", "/api/v1/users/{id}", None),
    ("POST", "/api/v1/users/{id}/deactivate", None),
    ("POST", "/api/v1/users/{id}/reactivate", None),
    ("POST", "/api/v1/users/{id}/password", {}),
]
PAGE_ROUTES = [
    ("GET", "/admin/users", None),
    ("POST", "/admin/users", {"username": "newcomer", "roles": "annotator"}),
    ("POST", "/admin/users/{id}/deactivate", {}),
    ("POST", "/admin/users/{id}/reactivate", {}),
    ("POST", "/admin/users/{id}/password", {}),
]


def user_named(runtime: Runtime, username: str) -> User:
    with runtime.reading() as session:
        found = session.exec(select(User).where(col(User.username) == username)).one()
    return found


def can_sign_in(app: Any, username: str, password: str) -> bool:
    with TestClient(app) as browser:
        return sign_in(browser, username, password).status_code in (302, 303)


def count_users(runtime: Runtime) -> int:
    with runtime.reading() as session:
        return len(identity.list_users(session))


# --- who may ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["annotator", "reviewer", "adjudicator", "manager"])
@pytest.mark.parametrize(("method", "path", "body"), API_ROUTES, ids=[r[1] for r in API_ROUTES])
def test_only_admins_manage_users_in_the_api(
    api_for: Callable[..., Client],
    make_user: Callable[..., User],
    runtime: Runtime,
    role: str,
    method: str,
    path: str,
    body: Any,
) -> None:
    target = make_user("annotator")
    client = api_for(role)
    before = count_users(runtime)
    response = client.request(method, path.format(id=target.id), json=body)
    assert response.status_code == 403, response.text
    assert "admin role" in response.json()["error"]["message"]
    assert count_users(runtime) == before
    assert user_named(runtime, target.username).is_active


@pytest.mark.parametrize(("method", "path", "body"), PAGE_ROUTES, ids=[r[1] for r in PAGE_ROUTES])
def test_only_admins_reach_the_users_page(
    client_for: Callable[..., Client],
    make_user: Callable[..., User],
    runtime: Runtime,
    method: str,
    path: str,
    body: Any,
) -> None:
    target = make_user("annotator")
    browser = client_for("manager")
    before = count_users(runtime)
    response = browser.request(method, path.format(id=target.id), data=body)
    assert response.status_code == 403
    assert "This needs the admin role" in response.text
    assert count_users(runtime) == before


def test_without_a_token_the_api_says_sign_in(app: Any) -> None:
    with TestClient(app) as script:
        response = script.get("/api/v1/users")
    assert response.status_code == 401


def test_the_users_link_is_in_the_navigation_for_admins_only(
    client_for: Callable[..., Client],
) -> None:
    assert 'href="/admin/users"' in client_for("admin").get("/projects").text
    assert 'href="/admin/users"' not in client_for("manager").get("/projects").text


# --- create and list -------------------------------------------------------------------------


def test_an_admin_creates_a_user_with_a_generated_password_returned_once(
    api_for: Callable[..., Client], app: Any, runtime: Runtime
) -> None:
    admin = api_for("admin")
    response = admin.post(
        "/api/v1/users",
        json={"username": "grace", "display_name": "Grace H.", "roles": ["reviewer", "annotator"]},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    password = body["password"]
    assert isinstance(password, str) and len(password) >= 16
    assert body["user"]["username"] == "grace"
    assert body["user"]["display_name"] == "Grace H."
    assert body["user"]["roles"] == ["annotator", "reviewer"]
    assert body["user"]["is_active"] is True
    assert can_sign_in(app, "grace", password)
    again = admin.get(f"/api/v1/users/{body['user']['id']}")
    assert again.status_code == 200
    assert password not in again.text
    assert password not in admin.get("/api/v1/users").text
    with runtime.reading() as session:
        stored = session.get(User, body["user"]["id"])
        assert stored is not None and stored.password_hash is not None
        assert stored.password_hash.startswith("$argon2") and password not in stored.password_hash
        event = session.exec(
            select(AuditEvent).where(
                col(AuditEvent.entity) == "user", col(AuditEvent.entity_id) == str(stored.id)
            )
        ).one()
    assert (event.action, event.actor_id) == ("create", admin.user.id)  # type: ignore[attr-defined]


def test_an_admin_may_give_the_password_and_it_is_not_echoed(
    api_for: Callable[..., Client], app: Any
) -> None:
    response = api_for("admin").post(
        "/api/v1/users",
        json={"username": "linus", "roles": ["annotator"], "password": "chosen by the admin"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["password"] is None
    assert "chosen by the admin" not in response.text
    assert can_sign_in(app, "linus", "chosen by the admin")


def test_the_list_shows_status_roles_created_and_the_last_sign_in(
    api_for: Callable[..., Client],
    client_for: Callable[..., Client],
    make_user: Callable[..., User],
) -> None:
    admin = api_for("admin")
    never = make_user("annotator")
    browser = client_for("reviewer")
    listed = {u["username"]: u for u in admin.get("/api/v1/users").json()}
    assert listed[never.username]["last_sign_in_at"] is None
    assert listed[never.username]["roles"] == ["annotator"]
    assert listed[never.username]["created_at"]
    seen = listed[browser.user.username]  # type: ignore[attr-defined]
    assert seen["last_sign_in_at"] is not None and seen["is_active"] is True
    admin.post(f"/api/v1/users/{never.id}/deactivate")
    listed = {u["username"]: u for u in admin.get("/api/v1/users").json()}
    assert listed[never.username]["is_active"] is False


def test_an_unknown_user_is_404_on_every_route(api_for: Callable[..., Client]) -> None:
    admin = api_for("admin")
    for method, path, body in API_ROUTES:
        if "{id}" not in path:
            continue
        response = admin.request(method, path.format(id=999_999), json=body)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["error"]["message"] == "No user with id 999999."


@pytest.mark.parametrize(
    ("body", "status", "path"),
    [
        ({"username": "x" * 65, "roles": ["annotator"]}, 400, "$.username"),
        ({"username": "a", "roles": ["annotator"]}, 400, "$.username"),
        ({"username": "has space", "roles": ["annotator"]}, 422, "$.username"),
        ({"username": "ok-name", "roles": []}, 400, "$.roles"),
        ({"username": "ok-name", "roles": ["superuser"]}, 400, "$.roles[0]"),
        ({"username": "ok-name"}, 400, "$.roles"),
        ({"username": "ok-name", "roles": ["annotator"], "password": "short"}, 400, "$.password"),
        (
            {"username": "ok-name", "roles": ["annotator"], "password": "p" * 1025},
            400,
            "$.password",
        ),
        ({"username": "ok-name", "roles": ["annotator"], "display_name": "d" * 201}, 400, None),
        ({"username": "ok-name", "roles": ["annotator"], "is_admin": True}, 400, None),
    ],
)
def test_bad_input_to_create_is_refused_with_the_field_path_and_stores_nothing(
    api_for: Callable[..., Client], runtime: Runtime, body: Any, status: int, path: str | None
) -> None:
    admin = api_for("admin")
    before = count_users(runtime)
    response = admin.post("/api/v1/users", json=body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["message"]
    if path is not None:
        assert error["path"] == path
    elif "display_name" in body:
        assert error["path"] == "$.display_name"
    else:
        assert "is_admin" in error["message"]
    assert count_users(runtime) == before


def test_a_taken_username_is_409_and_keeps_the_first_account(
    api_for: Callable[..., Client], make_user: Callable[..., User], runtime: Runtime
) -> None:
    first = make_user("annotator", username="taken")
    response = api_for("admin").post(
        "/api/v1/users", json={"username": "taken", "roles": ["admin"]}
    )
    assert response.status_code == 409
    assert "already exists" in response.json()["error"]["message"]
    assert user_named(runtime, "taken").roles == first.roles


def test_the_schema_states_the_limits(app: Any) -> None:
    with TestClient(app) as client:
        schema = client.get("/api/v1/schema/openapi.json").json()
    fields = schema["components"]["schemas"]["UserIn"]["properties"]
    assert fields["username"]["maxLength"] == 64
    assert fields["username"]["minLength"] == 2
    assert fields["display_name"]["maxLength"] == 200
    assert (fields["password"]["minLength"], fields["password"]["maxLength"]) == (8, 1024)
    assert fields["roles"]["maxItems"] == 5
    assert fields["roles"]["minItems"] == 1
    reset = schema["components"]["schemas"]["PasswordIn"]["properties"]["password"]
    assert reset["maxLength"] == 1024


# --- deactivate and reactivate -----------------------------------------------------------------


def test_deactivating_ends_the_users_sessions_and_tokens_at_once(
    api_for: Callable[..., Client], client_for: Callable[..., Client], app: Any, runtime: Runtime
) -> None:
    admin = api_for("admin")
    browser = client_for("annotator")
    person = browser.user  # type: ignore[attr-defined]
    token = browser.post("/api/v1/tokens", json={"name": "laptop"}).json()["token"]
    assert browser.get("/api/v1/me").status_code == 200
    response = admin.post(f"/api/v1/users/{person.id}/deactivate")
    assert response.status_code == 200, response.text
    assert response.json()["is_active"] is False
    assert browser.get("/api/v1/me").status_code == 401
    assert browser.get("/projects", follow_redirects=False).status_code in (302, 303)
    with TestClient(app) as script:
        script.headers["Authorization"] = f"Bearer {token}"
        assert script.get("/api/v1/me").status_code == 401
    assert not can_sign_in(app, person.username, PASSWORD)
    with runtime.reading() as session:
        assert (
            list(session.exec(select(WebSession).where(col(WebSession.user_id) == person.id))) == []
        )
        tokens = list(session.exec(select(ApiToken).where(col(ApiToken.user_id) == person.id)))
        assert tokens and all(t.revoked_at is not None for t in tokens)
        event = session.exec(
            select(AuditEvent).where(
                col(AuditEvent.action) == "deactivate", col(AuditEvent.entity_id) == str(person.id)
            )
        ).one()
    assert event.actor_id == admin.user.id  # type: ignore[attr-defined]
    assert event.data == {"sessions_ended": 1, "tokens_revoked": 1}


def test_a_deactivated_annotators_labels_keep_their_name(
    api_for: Callable[..., Client], item: dict[str, Any]
) -> None:
    admin = api_for("admin")
    annotator = api_for("annotator", project=item["project_id"])
    submitted = annotator.post(
        f"/api/v1/items/{item['id']}/annotations",
        json={"annotation_type": "rating", "payload": {"value": 4, "comment": ""}},
    )
    assert submitted.status_code == 201, submitted.text
    person = annotator.user  # type: ignore[attr-defined]
    assert admin.post(f"/api/v1/users/{person.id}/deactivate").status_code == 200
    current = admin.get(f"/api/v1/items/{item['id']}/annotations").json()
    assert [a["annotator"] for a in current] == [person.pseudonym]
    assert [a["id"] for a in current] == [submitted.json()["id"]]


def test_reactivating_lets_them_sign_in_again_with_new_credentials_only(
    api_for: Callable[..., Client], client_for: Callable[..., Client], app: Any
) -> None:
    admin = api_for("admin")
    browser = client_for("annotator")
    person = browser.user  # type: ignore[attr-defined]
    token = browser.post("/api/v1/tokens", json={"name": "laptop"}).json()["token"]
    admin.post(f"/api/v1/users/{person.id}/deactivate")
    response = admin.post(f"/api/v1/users/{person.id}/reactivate")
    assert response.status_code == 200
    assert response.json()["is_active"] is True
    assert can_sign_in(app, person.username, PASSWORD)
    assert browser.get("/api/v1/me").status_code == 401, "the old session stays ended"
    with TestClient(app) as script:
        script.headers["Authorization"] = f"Bearer {token}"
        assert script.get("/api/v1/me").status_code == 401, "the old token stays revoked"


def test_an_admin_cannot_deactivate_themselves(
    api_for: Callable[..., Client], runtime: Runtime
) -> None:
    admin = api_for("admin")
    me = admin.user  # type: ignore[attr-defined]
    response = admin.post(f"/api/v1/users/{me.id}/deactivate")
    assert response.status_code == 409
    assert "your own account" in response.json()["error"]["message"]
    assert user_named(runtime, me.username).is_active
    assert admin.get("/api/v1/me").status_code == 200


def test_the_last_active_admin_cannot_be_deactivated(
    make_user: Callable[..., User], runtime: Runtime
) -> None:
    only = make_user("admin")
    with pytest.raises(Conflict, match="last active admin"), runtime.session() as session:
        identity.deactivate_user(session, only.id, actor_id=None)  # type: ignore[arg-type]
    assert user_named(runtime, only.username).is_active
    other = make_user("admin", "manager")
    with runtime.session() as session:
        identity.deactivate_user(session, only.id, actor_id=None)  # type: ignore[arg-type]
    with pytest.raises(Conflict, match="last active admin"), runtime.session() as session:
        identity.deactivate_user(session, other.id, actor_id=None)  # type: ignore[arg-type]


def test_two_admins_deactivating_each_other_at_once_leave_one_active(
    make_user: Callable[..., User], runtime: Runtime
) -> None:
    """The first holds its transaction open while the second starts; the second must wait
    and then see that it would remove the last admin (before the fix both went through)."""
    first, second = make_user("admin"), make_user("admin")
    outcome: dict[str, Any] = {}

    def second_deactivates_first() -> None:
        try:
            with runtime.session() as session:
                identity.deactivate_user(session, first.id, actor_id=second.id)  # type: ignore[arg-type]
            outcome["second"] = "deactivated"
        except Conflict as error:
            outcome["second"] = error.message

    with runtime.session() as session:
        identity.deactivate_user(session, second.id, actor_id=first.id)  # type: ignore[arg-type]
        racer = threading.Thread(target=second_deactivates_first)
        racer.start()
        time.sleep(0.5)  # let the second reach its check while the first is uncommitted
    racer.join(timeout=30)
    assert not racer.is_alive()
    assert "last active admin" in outcome["second"]
    assert user_named(runtime, first.username).is_active
    assert not user_named(runtime, second.username).is_active


# --- passwords ---------------------------------------------------------------------------------


def test_resetting_a_password_ends_the_users_sessions(
    api_for: Callable[..., Client], client_for: Callable[..., Client], app: Any
) -> None:
    admin = api_for("admin")
    browser = client_for("annotator")
    person = browser.user  # type: ignore[attr-defined]
    token = browser.post("/api/v1/tokens", json={"name": "laptop"}).json()["token"]
    response = admin.post(f"/api/v1/users/{person.id}/password", json={})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sessions_ended"] == 1
    assert browser.get("/api/v1/me").status_code == 401
    assert not can_sign_in(app, person.username, PASSWORD)
    assert can_sign_in(app, person.username, body["password"])
    with TestClient(app) as script:
        script.headers["Authorization"] = f"Bearer {token}"
        assert script.get("/api/v1/me").status_code == 200, "tokens are separate credentials"


def test_an_admin_may_set_a_chosen_password(
    api_for: Callable[..., Client], make_user: Callable[..., User], app: Any
) -> None:
    person = make_user("annotator")
    response = api_for("admin").post(
        f"/api/v1/users/{person.id}/password", json={"password": "a new one, typed"}
    )
    assert response.status_code == 200
    assert response.json()["password"] is None
    assert can_sign_in(app, person.username, "a new one, typed")


@pytest.mark.parametrize(
    ("body", "path"),
    [({"password": "short"}, "$.password"), ({"password": 12345678}, "$.password")],
)
def test_a_bad_new_password_is_refused_and_keeps_the_old_one(
    api_for: Callable[..., Client],
    client_for: Callable[..., Client],
    app: Any,
    body: Any,
    path: str,
) -> None:
    browser = client_for("annotator")
    person = browser.user  # type: ignore[attr-defined]
    response = api_for("admin").post(f"/api/v1/users/{person.id}/password", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["path"] == path
    assert browser.get("/api/v1/me").status_code == 200
    assert can_sign_in(app, person.username, PASSWORD)


# --- the Users page --------------------------------------------------------------------------


def test_the_users_page_lists_everyone_with_their_status(
    client_for: Callable[..., Client], make_user: Callable[..., User], runtime: Runtime
) -> None:
    admin = client_for("admin")
    gone = make_user("annotator", username="gone")
    with runtime.session() as session:
        identity.deactivate_user(session, gone.id, actor_id=None)  # type: ignore[arg-type]
    page = admin.get("/admin/users")
    assert page.status_code == 200
    row = page.text.split('data-user="gone"', 1)[1].split("</tr>", 1)[0]
    assert "inactive" in row and "Reactivate" in row and "not known" in row
    mine = page.text.split(f'data-user="{admin.user.username}"', 1)[1].split("</tr>", 1)[0]  # type: ignore[attr-defined]
    assert "Deactivate" not in mine and ">you<" in mine
    assert "<script>" not in page.text


def test_creating_on_the_page_shows_the_generated_password_once(
    client_for: Callable[..., Client], app: Any
) -> None:
    admin = client_for("admin")
    response = admin.post(
        "/admin/users",
        data={
            "username": "margaret",
            "display_name": "Margaret",
            "roles": ["annotator", "reviewer"],
        },
    )
    assert response.status_code == 200
    password = response.text.split("<code data-new-password>", 1)[1].split("</code>", 1)[0]
    assert can_sign_in(app, "margaret", password)
    assert password not in admin.get("/admin/users").text


def test_creating_on_the_page_with_bad_input_keeps_the_form_and_says_what(
    client_for: Callable[..., Client], make_user: Callable[..., User], runtime: Runtime
) -> None:
    admin = client_for("admin")
    before = count_users(runtime)
    no_role = admin.post("/admin/users", data={"username": "norole", "display_name": "No Role"})
    assert no_role.status_code == 422
    assert "at least one role" in no_role.text
    assert 'value="norole"' in no_role.text
    make_user("annotator", username="dup")
    taken = admin.post("/admin/users", data={"username": "dup", "roles": "annotator"})
    assert taken.status_code == 409
    assert "already exists" in taken.text
    short = admin.post(
        "/admin/users", data={"username": "shorty", "roles": "annotator", "password": "abc"}
    )
    assert short.status_code == 422
    assert "at least 8 characters" in short.text
    assert count_users(runtime) == before + 1


def test_deactivating_and_reactivating_on_the_page(
    client_for: Callable[..., Client], app: Any, runtime: Runtime
) -> None:
    admin = client_for("admin")
    browser = client_for("annotator")
    person = browser.user  # type: ignore[attr-defined]
    done = admin.post(f"/admin/users/{person.id}/deactivate", follow_redirects=False)
    assert done.status_code in (302, 303)
    assert browser.get("/api/v1/me").status_code == 401
    assert "is deactivated" in admin.get("/admin/users").text
    admin.post(f"/admin/users/{person.id}/reactivate")
    assert user_named(runtime, person.username).is_active
    assert can_sign_in(app, person.username, PASSWORD)


def test_deactivating_yourself_on_the_page_says_why_not(
    client_for: Callable[..., Client], runtime: Runtime
) -> None:
    admin = client_for("admin")
    me = admin.user  # type: ignore[attr-defined]
    response = admin.post(f"/admin/users/{me.id}/deactivate")
    assert response.status_code == 200
    assert "You cannot deactivate your own account" in response.text
    assert user_named(runtime, me.username).is_active


def test_resetting_a_password_on_the_page_shows_it_once_and_signs_them_out(
    client_for: Callable[..., Client], app: Any
) -> None:
    admin = client_for("admin")
    browser = client_for("annotator")
    person = browser.user  # type: ignore[attr-defined]
    response = admin.post(f"/admin/users/{person.id}/password", data={})
    assert response.status_code == 200
    assert "1 browser session signed out" in response.text
    password = response.text.split("<code data-new-password>", 1)[1].split("</code>", 1)[0]
    assert browser.get("/api/v1/me").status_code == 401
    assert can_sign_in(app, person.username, password)
    typed = admin.post(f"/admin/users/{person.id}/password", data={"password": "tiny"})
    assert typed.status_code == 422
    assert "at least 8 characters" in typed.text
    assert can_sign_in(app, person.username, password)


# --- hostile names -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Null\x00byte", "Right\u202eto left", "Bell\x07"])
def test_a_display_name_with_control_characters_is_refused_on_both_databases(
    api_for: Callable[..., Client], client_for: Callable[..., Client], runtime: Runtime, name: str
) -> None:
    before = count_users(runtime)
    response = api_for("admin").post(
        "/api/v1/users", json={"username": "sneaky", "roles": ["annotator"], "display_name": name}
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["path"] == "$.display_name"
    page = client_for("admin").post(
        "/admin/users", data={"username": "sneaky", "roles": "annotator", "display_name": name}
    )
    assert page.status_code == 422
    # NUL and bidi overrides are refused for every form field before the page reads it;
    # other control characters by the display name's own check.
    refused_everywhere = "\x00" in name or "\u202e" in name
    assert ("not allowed in text" if refused_everywhere else "display name") in page.text
    assert count_users(runtime) == before + 2  # the two admins the clients signed in as
