"""Every response carries the security headers (CSP without inline script, no framing,
nosniff, a referrer policy); cookies get ``Secure`` when the request came over HTTPS."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient

from scholia.core.models import User
from scholia.core.runtime import Runtime
from scholia.server.app import create_app

from .conftest import PASSWORD, csrf_token, sign_in


def _policy(response: Any) -> dict[str, str]:
    directives = (
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
    )
    return {name: rest for name, rest in directives}


def _assert_hardened(response: Any) -> None:
    policy = _policy(response)
    assert policy["script-src"] == "'self'", "no inline script, no eval"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert "unsafe-inline" not in policy.get("default-src", "")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


def test_pages_api_static_media_and_errors_all_carry_the_security_headers(
    client_for: Callable[..., TestClient[Any]],
    api_for: Callable[..., TestClient[Any]],
    item: dict[str, Any],
    runtime: Runtime,
) -> None:
    browser = client_for("manager")
    script = api_for("annotator")
    responses = {
        "page": browser.get("/projects"),
        "sign-in page": browser.get("/sign-in?reason=required"),
        "API": script.get("/api/v1/projects"),
        "API error": script.get("/api/v1/projects/999999"),
        "static": browser.get("/static/scholia.css"),
        "media": browser.get(item["media_url"]),
        "no such route": browser.get("/no/such/page"),
        "health": browser.get("/healthz"),
        "openapi": browser.get("/api/v1/schema/openapi.json"),
    }
    for name, response in responses.items():
        assert response.status_code < 500, name
        try:
            _assert_hardened(response)
        except (AssertionError, KeyError) as error:
            raise AssertionError(f"{name} ({response.status_code}): {error!r}") from error
    assert responses["media"].status_code == 200
    assert responses["no such route"].status_code == 404


def _set_cookies(response: Any) -> list[str]:
    return [value for name, value in response.headers.multi_items() if name == "set-cookie"]


def _cookies_after_sign_in(client: TestClient[Any], username: str, **headers: str) -> list[str]:
    """Sign in by the form; the CSRF cookie is sent back by hand, since a client keeps a
    ``Secure`` cookie to itself when the test talks plain HTTP to a "proxied" app."""
    first = client.get("/sign-in", headers=headers)
    token = first.cookies["scholia_csrf"]
    client.cookies.clear()
    response = client.post(
        "/sign-in",
        data={"username": username, "password": PASSWORD, "_csrf_token": token},
        headers={**headers, "Cookie": f"scholia_csrf={token}"},
        follow_redirects=False,
    )
    assert response.status_code in (302, 303), response.text
    return _set_cookies(first) + _set_cookies(response)


def _named(cookies: list[str], name: str) -> str:
    return next(c for c in cookies if c.startswith(f"{name}="))


def _is_secure(cookie: str) -> bool:
    return any(p.strip().lower() == "secure" for p in cookie.split(";"))


def test_session_and_csrf_cookies_are_secure_over_https(
    app: Any, make_user: Callable[..., User]
) -> None:
    user = make_user("annotator")
    with TestClient(app, base_url="https://scholia.example") as client:
        cookies = _cookies_after_sign_in(client, user.username)
    assert _is_secure(_named(cookies, "scholia_csrf"))
    assert _is_secure(_named(cookies, "scholia_session"))


def test_cookies_are_not_secure_over_plain_http(app: Any, make_user: Callable[..., User]) -> None:
    user = make_user("annotator")
    with TestClient(app) as client:
        cookies = _cookies_after_sign_in(client, user.username)
    assert not _is_secure(_named(cookies, "scholia_csrf"))
    assert not _is_secure(_named(cookies, "scholia_session"))


@pytest.mark.parametrize("trusted", [True, False])
def test_a_forwarded_https_counts_only_from_a_trusted_proxy(
    runtime: Runtime, make_user: Callable[..., User], trusted: bool
) -> None:
    from dataclasses import replace

    runtime.settings = replace(runtime.settings, trust_proxy=trusted)
    user = make_user("annotator")
    with TestClient(create_app(runtime)) as client:
        cookies = _cookies_after_sign_in(client, user.username, **{"X-Forwarded-Proto": "https"})
    assert _is_secure(_named(cookies, "scholia_csrf")) is trusted
    assert _is_secure(_named(cookies, "scholia_session")) is trusted


def test_a_trusted_proxy_gives_the_client_address_for_throttling(
    runtime: Runtime, make_user: Callable[..., User]
) -> None:
    from dataclasses import replace

    runtime.settings = replace(runtime.settings, trust_proxy=True, sign_in_address_limit=3)
    user = make_user("annotator")
    with TestClient(create_app(runtime)) as client:
        for n in range(3):
            sign_in_from = {"X-Forwarded-For": "spoofed, 198.51.100.9"}
            client.post(
                "/sign-in",
                data={"username": f"guess{n}", "password": "x", "_csrf_token": csrf_token(client)},
                headers=sign_in_from,
            )
        other = client.post(
            "/sign-in",
            data={
                "username": user.username,
                "password": PASSWORD,
                "_csrf_token": csrf_token(client),
            },
            headers={"X-Forwarded-For": "203.0.113.5"},
            follow_redirects=False,
        )
        assert other.status_code in (302, 303)
        locked = sign_in(client, user.username)  # no header: the proxy's own address
        assert locked.status_code in (302, 303)
        again = client.post(
            "/sign-in",
            data={
                "username": user.username,
                "password": PASSWORD,
                "_csrf_token": csrf_token(client),
            },
            headers={"X-Forwarded-For": "198.51.100.9"},
            follow_redirects=False,
        )
        assert again.status_code == 429


def test_the_favicon_is_served_as_an_icon(client_for: Callable[..., TestClient[Any]]) -> None:
    from io import BytesIO

    from PIL import Image

    browser = client_for("annotator")
    response = browser.get("/favicon.ico")
    assert response.status_code == 200
    assert Image.open(BytesIO(response.content)).format == "ICO"
    _assert_hardened(response)
    assert 'rel="icon" href="/favicon.ico"' in browser.get("/projects").text


def test_the_api_docs_page_loads_nothing_from_elsewhere_and_no_inline_script(
    client_for: Callable[..., TestClient[Any]],
) -> None:
    import re

    browser = client_for("annotator")
    response = browser.get("/api/v1/schema/swagger")
    assert response.status_code == 200
    _assert_hardened(response)
    html = response.text
    assert "http://" not in html and "https://" not in html and "//cdn" not in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all("src=" in attrs and not body.strip() for attrs, body in scripts)
    for url in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert browser.get(url).status_code == 200, url
