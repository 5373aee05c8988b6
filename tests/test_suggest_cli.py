"""``scholia suggest``: the batch job from the command line, its summary, refusals, resume."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from scholia.core import items, jobs, labels, model_registry, suggestion_jobs
from scholia.core.models import Project
from scholia.core.runtime import Runtime
from scholia.server.cli import main
from scholia_image.colour_model import colour_image, colour_of, train_colour_classifier

from .conftest import seed

NAMES = ("red", "green", "blue")


def run(runtime: Runtime, *args: str) -> Result:
    env = {
        "COLUMNS": "200",
        "SCHOLIA_DATA_DIR": str(runtime.settings.data_dir),
        "SCHOLIA_DATABASE_URL": runtime.settings.database_url,
    }
    return CliRunner().invoke(main, list(args), env=env, prog_name="scholia")


def project_with_model(runtime: Runtime, tmp_path: Path, count: int = 5) -> dict[str, Any]:
    owner, project, _ = seed(runtime, annotation_types=("classification",), categories=NAMES)
    trained = train_colour_classifier(tmp_path / "colours.onnx", NAMES)
    with runtime.session() as session:
        project = session.get(Project, project.id)  # type: ignore[assignment]
        assert project is not None and owner.id is not None and project.id is not None
        for n in range(count):
            buffer = io.BytesIO()
            colour_image(colour_of(n % 3, 3), seed=n).save(buffer, "PNG")
            buffer.seek(0)
            items.ingest(
                session,
                runtime.store,
                runtime.plugins,
                project,
                name=f"c{n}.png",
                source=buffer,
                actor_id=owner.id,
            )
        model = model_registry.register(
            session,
            runtime.plugins,
            runtime.predictors,
            project.id,
            name="colours",
            version="1",
            backend="onnx-classifier",
            source=str(tmp_path / "colours.onnx"),
            annotation_type="classification",
            config=trained["config"],
            actor_id=owner.id,
        )
        model_registry.activate(session, model, owner.id)
    return {"owner": owner, "project": project, "model": model}


def test_suggest_runs_a_job_over_the_unlabeled_items_and_says_what_it_did(
    runtime: Runtime, tmp_path: Path
) -> None:
    made = project_with_model(runtime, tmp_path)
    result = run(runtime, "suggest", str(made["project"].id))
    assert result.exit_code == 0, result.output
    assert "6 suggested, 0 failed, 6 of 6 items" in result.output  # 5 and the seed image
    with runtime.reading() as session:
        (job,) = suggestion_jobs.list_jobs(session, made["project"].id)
    assert (job.status, job.suggested) == ("done", 6)


def test_suggest_refuses_a_model_trained_on_other_labels(runtime: Runtime, tmp_path: Path) -> None:
    made = project_with_model(runtime, tmp_path)
    with runtime.session() as session:
        labels.add_category(session, made["project"].id, "violet", made["owner"].id)
    result = run(runtime, "suggest", str(made["project"].id))
    assert result.exit_code == 2
    assert "'violet'" in result.output and "only in the project" in result.output


def test_suggest_without_an_active_model_says_how_to_get_one(
    runtime: Runtime, tmp_path: Path
) -> None:
    _, project, _ = seed(runtime, annotation_types=("classification",), categories=NAMES)
    result = run(runtime, "suggest", str(project.id))
    assert result.exit_code == 2
    assert "no active model" in result.output


def test_suggest_resumes_a_cancelled_job(runtime: Runtime, tmp_path: Path) -> None:
    made = project_with_model(runtime, tmp_path)
    with runtime.session() as session:
        job = suggestion_jobs.start(session, made["model"], actor_id=made["owner"].id)
        jobs.cancel(session, suggestion_jobs.JOB, job, made["owner"].id)
    result = run(runtime, "suggest", str(made["project"].id), "--resume", str(job.id))
    assert result.exit_code == 0, result.output
    assert f"job {job.id} done: 6 suggested" in result.output
    again = run(runtime, "suggest", str(made["project"].id), "--resume", str(job.id))
    assert again.exit_code == 2 and "only a cancelled, failed or stalled job" in again.output
