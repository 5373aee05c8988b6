"""Suggestions from a running Label Studio ML backend, for image classification.

A team that already serves a model to Label Studio (a server built on HumanSignal's
``label-studio-ml-backend`` SDK, or anything speaking its protocol) can point Scholia at the
same URL. Scholia talks to it as Label Studio does: ``GET /health`` must answer
``{"status": "UP"}``, ``POST /setup`` hands over the labeling config (``schema``), and
``POST /predict`` sends tasks in batches and reads ``{"results": [...]}``, one entry per task
in order.

Each task's image travels inside it as a data URI (``data:image/png;base64,…``) under
``data[data_key]``: Scholia has no public media URL to give a remote service yet, so the
backend must decode the data URI rather than download a URL.

A result counts when it is a ``choices`` result whose ``from_name``/``to_name`` are the
configured ones; its choice names map to the registration's categories by name. A name the
registration lacks, a batch that times out or fails, fails those items only (their
``Prediction.error``), so no wrong suggestion reaches an annotator and the other batches go on.

A backend keeps its setup in memory: once restarted it answers every ``/predict`` with the SDK's
"Model is not loaded … run setup()" 500. So when a batch gets that answer, or its connection is
lost, the predictor sends ``/setup`` again and asks once more.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from typing import Any
from xml.sax.saxutils import quoteattr

import httpx
import msgspec

from scholia.core.contributions import (
    Candidate,
    ModelRegistration,
    Prediction,
    PredictionInput,
    PrelabelBackend,
)
from scholia.core.errors import ModelFailed

__all__ = [
    "BACKEND",
    "LabelStudioMLConfig",
    "LabelStudioMLPredictor",
    "label_config",
    "load",
]

_DATA_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_USER_AGENT = "scholia-image (Label Studio ML backend adapter)"


class LabelStudioMLConfig(msgspec.Struct, forbid_unknown_fields=True):
    """How to reach the backend and which tags of the labeling config it answers for."""

    timeout_s: float = 10.0
    """Seconds to wait for any one answer (health, setup, or one batch's predictions)."""
    batch_size: int = 16
    """Tasks per ``/predict`` request; a batch that fails fails only its own items."""
    from_name: str = "label"
    """The ``<Choices name=…>`` of the labeling config; results for other tags are ignored."""
    to_name: str = "image"
    """The ``<Image name=…>`` the choices refer to (``toName``)."""
    data_key: str = "image"
    """The task data field holding the image (``value="$image"`` in the config)."""
    project: str = "scholia"
    """Sent as ``project``; the SDK keys a model's state on the part before the first dot."""
    basic_auth_user: str | None = None
    """For a backend started with ``BASIC_AUTH_USER``/``BASIC_AUTH_PASS`` (HTTP Basic)."""
    basic_auth_pass: str | None = None

    def __post_init__(self) -> None:
        if not self.timeout_s > 0:
            raise ValueError(
                f"timeout_s must be a positive number of seconds (got {self.timeout_s})"
            )
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1 (got {self.batch_size})")
        for field in ("from_name", "to_name", "project"):
            if not getattr(self, field).strip():
                raise ValueError(f"{field} must not be empty")
        if not _DATA_KEY.match(self.data_key):
            raise ValueError(
                f"data_key {self.data_key!r} must be a name of letters, digits and '_' "
                "(it becomes $data_key in the labeling config)"
            )
        if (self.basic_auth_user is None) != (self.basic_auth_pass is None):
            raise ValueError("give both basic_auth_user and basic_auth_pass, or neither")


def label_config(categories: Sequence[tuple[int, str]], config: LabelStudioMLConfig) -> str:
    """The Label Studio labeling config for single-label image classification over
    ``categories``; it is what a backend reads its label names and tag names from."""
    choices = "".join(f"<Choice value={quoteattr(name)}/>" for _, name in categories)
    return (
        f"<View><Image name={quoteattr(config.to_name)} value={quoteattr('$' + config.data_key)}/>"
        f"<Choices name={quoteattr(config.from_name)} toName={quoteattr(config.to_name)} "
        f'choice="single">{choices}</Choices></View>'
    )


class _BatchFailed(Exception):
    """One ``/predict`` request gave no usable answer; every item in it gets the reason."""


class _SetupLost(_BatchFailed):
    """The backend has forgotten its setup (it restarted) or the connection to it was lost."""


class _ItemFailed(Exception):
    """One task's result cannot become suggestions; that item gets the reason."""


class LabelStudioMLPredictor:
    """A connected backend: asks it for batches of items and translates its answers."""

    def __init__(
        self,
        client: httpx.Client,
        url: str,
        registration: ModelRegistration,
        config: LabelStudioMLConfig,
        schema: str,
        model_version: str | None,
    ) -> None:
        self._client = client
        self._url = url
        self._config = config
        self._schema = schema
        self._model_version = model_version
        self._category_ids: dict[str, int] = {
            name: category_id for category_id, name in registration.categories
        }

    def predict(self, inputs: Sequence[PredictionInput]) -> list[Prediction]:
        predictions: list[Prediction | None] = [None] * len(inputs)
        tasks: list[tuple[int, dict[str, Any]]] = []
        for index, item in enumerate(inputs):
            try:
                tasks.append((index, self._task(item)))
            except OSError as error:
                predictions[index] = Prediction(
                    error=f"could not read the image {item.media_path}: {error.strerror or error}"
                )
        size = self._config.batch_size
        for start in range(0, len(tasks), size):
            batch = tasks[start : start + size]
            try:
                results = self._ask([task for _, task in batch])
            except _BatchFailed as failure:
                for index, _ in batch:
                    predictions[index] = Prediction(error=str(failure))
                continue
            for (index, _), result in zip(batch, results, strict=True):
                try:
                    predictions[index] = Prediction(candidates=self._candidates(result))
                except _ItemFailed as failure:
                    predictions[index] = Prediction(error=str(failure))
        return [prediction or Prediction(error="not predicted") for prediction in predictions]

    def _task(self, item: PredictionInput) -> dict[str, Any]:
        encoded = base64.b64encode(item.media_path.read_bytes()).decode("ascii")
        uri = f"data:{item.media_type};base64,{encoded}"
        return {"id": item.item_id, "data": {self._config.data_key: uri}}

    def _ask(self, tasks: list[dict[str, Any]]) -> list[Any]:
        """POST the tasks as Label Studio does and return one result entry per task."""
        request = {
            "tasks": tasks,
            "model_version": self._model_version,
            "project": self._config.project,
            "label_config": self._schema,
            "params": {"login": None, "password": None, "context": None},
        }
        try:
            body = self._predict(request)
        except _SetupLost:
            self._model_version = _setup(
                self._client, self._url, self._config, self._schema, _BatchFailed
            )
            request["model_version"] = self._model_version
            body = self._predict(request)
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list):
            raise _BatchFailed(
                f"the Label Studio ML backend at {self._url} answered /predict without a "
                "'results' list"
            )
        if len(results) != len(tasks):
            raise _BatchFailed(
                f"the Label Studio ML backend at {self._url} answered {len(results)} results "
                f"for {len(tasks)} tasks; it must answer one per task, in order"
            )
        return results

    def _predict(self, request: dict[str, Any]) -> Any:
        return _answer(
            self._client,
            self._url,
            "POST",
            "predict",
            request,
            self._config,
            _BatchFailed,
            setup_lost=_SetupLost,
        )

    def _candidates(self, entry: Any) -> tuple[Candidate, ...]:
        """One task's entry (a prediction, or a list of them when the backend proposes
        several) as candidates, best first; each matching choices result is one candidate."""
        predictions = entry if isinstance(entry, list) else [entry]
        best: dict[tuple[int, ...], float] = {}
        for prediction in predictions:
            if not isinstance(prediction, dict) or not isinstance(prediction.get("result"), list):
                raise _ItemFailed(
                    f"the Label Studio ML backend answered a prediction without a 'result' list "
                    f"({_excerpt(prediction)})"
                )
            for region in prediction["result"]:
                if not self._is_ours(region):
                    continue
                ids = tuple(self._category_id(name) for name in _choice_names(region))
                score = _score(region, prediction)
                best[ids] = max(score, best.get(ids, 0.0))
        if not best:
            raise _ItemFailed(
                f"the Label Studio ML backend returned no 'choices' result from "
                f"{self._config.from_name!r} to {self._config.to_name!r} for this image"
            )
        ranked = sorted(best.items(), key=lambda pair: pair[1], reverse=True)
        return tuple(Candidate({"category_ids": list(ids)}, score) for ids, score in ranked)

    def _is_ours(self, region: Any) -> bool:
        return (
            isinstance(region, dict)
            and region.get("type") == "choices"
            and region.get("from_name") == self._config.from_name
            and region.get("to_name") == self._config.to_name
        )

    def _category_id(self, name: str) -> int:
        if name not in self._category_ids:
            known = ", ".join(repr(known) for known in self._category_ids)
            raise _ItemFailed(
                f"the Label Studio ML backend suggested {name!r}, which is not one of the "
                f"model's categories ({known}); check the names it was registered with"
            )
        return self._category_ids[name]


def _choice_names(region: Mapping[str, Any]) -> list[str]:
    value = region.get("value")
    choices = value.get("choices") if isinstance(value, dict) else None
    if (
        not isinstance(choices, list)
        or not choices
        or not all(isinstance(name, str) for name in choices)
    ):
        raise _ItemFailed(
            f"the Label Studio ML backend answered a choices result without a list of choice "
            f"names in value.choices ({_excerpt(region)})"
        )
    return choices


def _score(region: Mapping[str, Any], prediction: Mapping[str, Any]) -> float:
    """The result's own score, else the prediction's. A backend that states none still made
    this its pick, so it counts as certain (1.0); the SDK itself fills in 0.0 when a model
    leaves a ``PredictionValue``'s score out, and that arrives as 0.0."""
    score = region.get("score")
    if score is None:
        score = prediction.get("score")
    if score is None:
        return 1.0
    if isinstance(score, bool) or not isinstance(score, int | float) or not 0.0 <= score <= 1.0:
        raise _ItemFailed(
            f"the Label Studio ML backend gave the score {score!r}; a suggestion's score must be "
            "a probability between 0 and 1"
        )
    return float(score)


def _excerpt(value: Any) -> str:
    text = msgspec.json.encode(value).decode("utf-8", "replace")
    return text if len(text) <= 200 else text[:200] + "…"


def _answer(
    client: httpx.Client,
    url: str,
    method: str,
    route: str,
    request: Mapping[str, Any] | None,
    config: LabelStudioMLConfig,
    failure: type[Exception],
    setup_lost: type[Exception] | None = None,
) -> Any:
    """The decoded JSON answer of one request, or ``failure`` saying what went wrong
    (``setup_lost``, when given, if the backend has forgotten its setup or the connection
    was lost: worth setting up again)."""
    where = f"{url}/{route}"
    try:
        response = client.request(method, where, json=request)
    except httpx.TimeoutException:
        raise failure(
            f"the Label Studio ML backend at {where} did not answer within {config.timeout_s:g} s"
        ) from None
    except httpx.HTTPError as error:
        lost = (
            failure if setup_lost is None or isinstance(error, httpx.ConnectError) else setup_lost
        )
        raise lost(
            f"could not reach the Label Studio ML backend at {where} ({error}); is it running "
            "at that URL?"
        ) from None
    if response.status_code == 401:
        raise failure(
            f"the Label Studio ML backend at {where} refused the request (HTTP 401); set "
            "basic_auth_user and basic_auth_pass to the BASIC_AUTH_USER/BASIC_AUTH_PASS it "
            "was started with"
        )
    if response.status_code != 200:
        detail = _detail(response)
        forgotten = response.status_code == 500 and "setup()" in detail
        raise (setup_lost if forgotten and setup_lost is not None else failure)(
            f"the Label Studio ML backend at {where} answered HTTP {response.status_code}: {detail}"
        )
    try:
        return msgspec.json.decode(response.content)
    except msgspec.DecodeError:
        raise failure(
            f"the Label Studio ML backend at {where} answered something that is not JSON: "
            f"{response.text[:200]!r}"
        ) from None


def _detail(response: httpx.Response) -> str:
    """The SDK's error answer is ``{"status": 500, "detail": "<Exception>: <message>"}``."""
    try:
        body = msgspec.json.decode(response.content)
    except msgspec.DecodeError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return str(body["detail"])
    return response.text[:200] or "(no body)"


def load(registration: ModelRegistration) -> LabelStudioMLPredictor:
    """Check the backend is up, hand it the labeling config, and return a predictor."""
    config = registration.config or LabelStudioMLConfig()
    url = registration.source.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ModelFailed(
            f"the Label Studio ML backend's URL {registration.source!r} must start with "
            "http:// or https:// (e.g. http://localhost:9090)"
        )
    auth = None
    if config.basic_auth_user is not None and config.basic_auth_pass is not None:
        auth = httpx.BasicAuth(config.basic_auth_user, config.basic_auth_pass)
    client = httpx.Client(
        timeout=httpx.Timeout(config.timeout_s), auth=auth, headers={"User-Agent": _USER_AGENT}
    )
    try:
        health = _answer(client, url, "GET", "health", None, config, ModelFailed)
        if not isinstance(health, dict) or health.get("status") != "UP":
            raise ModelFailed(
                f"the Label Studio ML backend at {url}/health is not up (it answered "
                f"{_excerpt(health)}, not status 'UP'); check its logs"
            )
        schema = label_config(registration.categories, config)
        version = _setup(client, url, config, schema, ModelFailed)
    except ModelFailed:
        client.close()
        raise
    return LabelStudioMLPredictor(client, url, registration, config, schema, version)


def _setup(
    client: httpx.Client,
    url: str,
    config: LabelStudioMLConfig,
    schema: str,
    failure: type[Exception],
) -> str | None:
    """Hand the backend the labeling config (``/setup``); the model version it answers."""
    setup = _answer(
        client,
        url,
        "POST",
        "setup",
        {"project": config.project, "schema": schema, "hostname": "", "access_token": ""},
        config,
        failure,
    )
    version = setup.get("model_version") if isinstance(setup, dict) else None
    return None if version is None else str(version)


BACKEND = PrelabelBackend(
    name="label-studio-ml",
    title="Label Studio ML backend",
    annotation_types=("classification",),
    load=load,
    config=LabelStudioMLConfig,
    source_kind="url",
)
