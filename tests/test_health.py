"""/healthz says the process answers; /readyz says the database is reachable and migrated."""

from typing import Any

from litestar.testing import TestClient

from scholia.core.runtime import Runtime
from scholia.server.app import create_app


def test_healthz_answers_without_signing_in(app: Any) -> None:
    with TestClient(app) as client:
        assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_reports_database_and_current_migration(app: Any) -> None:
    with TestClient(app) as client:
        body = client.get("/readyz").json()
    assert body["status"] == "ready"
    assert body["migration"] == body["expected_migration"]


def test_readyz_is_unavailable_when_migrations_are_missing(tmp_path: Any, plugins: Any) -> None:
    from scholia.core.settings import Settings

    settings = Settings(
        data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/empty.db", secret_key="s" * 40
    )
    runtime = Runtime.open(settings, plugins=plugins, migrate=False)
    with TestClient(create_app(runtime)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["migration"] is None
    assert "scholia db upgrade" in response.json()["hint"]
