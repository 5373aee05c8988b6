"""A Label Studio ML backend for tests: the routes and shapes of HumanSignal's SDK server.

It follows ``label_studio_ml/api.py`` of label-studio-ml-backend: ``GET /health`` answers
``{"status": "UP", "model_class": ...}``; ``POST /setup`` reads ``project`` (keyed on the part
before the first dot) and ``schema`` and answers ``{"model_version": ...}``; ``POST /predict``
reads ``tasks``, ``label_config``, ``project`` and ``params`` and answers ``{"results": [...]}``
(the SDK's ``ModelResponse.predictions``, one entry per task); a failing handler answers
``{"status": 500, "detail": "<Exception>: <message>"}`` with HTTP 500 (``exceptions.py``), and
HTTP Basic auth, when set, guards every route (``check_auth``). As the SDK's
``LabelStudioMLManager.predict`` does, ``/predict`` before any ``/setup`` fails with "Model is not
loaded … run setup()": a restarted backend (a new server on the same port, see ``running``) has
forgotten the setup it was given.

Its model names an image's dominant colour: the labeling config's first ``Choices`` tag (as the
SDK's ``get_first_tag_occurence("Choices", "Image")`` finds it) must offer ``Red``, ``Green`` and
``Blue``. Knobs make it misbehave the ways real services do, and every request is recorded.
"""

from __future__ import annotations

import base64
import binascii
import io
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import msgspec
from PIL import Image, ImageStat

__all__ = ["MODEL_VERSION", "LabelStudioMLServer", "Received", "running"]

MODEL_VERSION = "colour-1"
COLOURS = ("Red", "Green", "Blue")


@dataclass
class Received:
    """One request as the server saw it."""

    method: str
    path: str
    body: Any
    headers: dict[str, str]


@dataclass
class LabelStudioMLServer:
    """What the server does; tests change these knobs before (or between) requests."""

    health_status: str = "UP"
    slow_task_ids: set[int] = field(default_factory=set)
    """A batch holding one of these tasks answers after ``delay_s`` seconds."""
    delay_s: float = 1.0
    unknown_label_task_ids: set[int] = field(default_factory=set)
    """These tasks are answered ``Purple``, which the labeling config does not offer."""
    failing_task_ids: set[int] = field(default_factory=set)
    """A batch holding one of these tasks fails with HTTP 500 (the SDK's error answer)."""
    short_task_ids: set[int] = field(default_factory=set)
    """A batch holding one of these tasks gets one result too few."""
    non_json_task_ids: set[int] = field(default_factory=set)
    """A batch holding one of these tasks gets an HTML page (a proxy's error page, say)."""
    several: bool = False
    """Answer every colour as its own prediction with its share as score (a list per task)."""
    legacy: bool = False
    """Answer as SDK versions before 2.0 did: ``model_version`` beside ``results``."""
    basic_auth: tuple[str, str] | None = None
    model_loaded: bool = False
    """Set by ``/setup``; a new server (a restart) starts without it."""
    received: list[Received] = field(default_factory=list)
    project_ids: list[str] = field(default_factory=list)
    url: str = ""

    def requests_to(self, path: str) -> list[Received]:
        return [request for request in self.received if request.path == path]

    def handle(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if method == "GET" and path in ("/health", "/"):
            return 200, {"status": self.health_status, "model_class": "DominantColour"}
        if method == "POST" and path == "/setup":
            # As the SDK does: a missing project or schema fails the setup (HTTP 500).
            self.project_ids.append(body.get("project").split(".", 1)[0])
            _choices_tag(body.get("schema"))
            self.model_loaded = True
            return 200, {"model_version": MODEL_VERSION}
        if method == "POST" and path == "/predict":
            return self._predict(body)
        return 404, {"status": 404, "detail": f"no route {method} {path}"}

    def _predict(self, body: Any) -> tuple[int, Any]:
        if not self.model_loaded:
            raise ValueError(
                "Model is not loaded for LabelStudioMLManager: run setup() before using predict()"
            )
        tasks = body.get("tasks")
        self.project_ids.append(str(body.get("project")).split(".", 1)[0])
        params = body.get("params", {})
        params.pop("context", {})
        from_name, to_name, value_key, labels = _choices_tag(body.get("label_config"))
        if not set(COLOURS) <= set(labels):
            raise AssertionError(f"the labeling config offers {labels}, not {COLOURS}")
        ids = {task["id"] for task in tasks}
        if ids & self.slow_task_ids:
            time.sleep(self.delay_s)
        if ids & self.non_json_task_ids:
            return 200, b"<html><body>502 Bad Gateway</body></html>"
        if ids & self.failing_task_ids:
            raise RuntimeError("CUDA out of memory")
        results: list[Any] = []
        for task in tasks:
            shares = _colour_shares(task["data"][value_key])
            ranked = sorted(shares.items(), key=lambda pair: pair[1], reverse=True)
            if task["id"] in self.unknown_label_task_ids:
                ranked = [("Purple", 0.99)]
            entries = [
                {
                    "model_version": MODEL_VERSION,
                    "score": score,
                    "result": [
                        {
                            "from_name": from_name,
                            "to_name": to_name,
                            "type": "choices",
                            "value": {"choices": [label]},
                        }
                    ],
                }
                for label, score in ranked
            ]
            results.append(entries if self.several else entries[0])
        if ids & self.short_task_ids:
            results = results[:-1]
        if self.legacy:
            return 200, {"results": results, "model_version": MODEL_VERSION}
        return 200, {"results": results}


def _choices_tag(config: Any) -> tuple[str, str, str, list[str]]:
    """``(from_name, to_name, data key, labels)`` of the first Choices tag and its Image."""
    root = ET.fromstring(config)
    choices = root.find(".//Choices")
    if choices is None:
        raise AssertionError("the labeling config has no Choices tag")
    to_name = choices.attrib["toName"]
    image = root.find(f".//Image[@name='{to_name}']")
    if image is None:
        raise AssertionError(f"the labeling config has no Image named {to_name!r}")
    labels = [choice.attrib["value"] for choice in choices.iter("Choice")]
    return choices.attrib["name"], to_name, image.attrib["value"].lstrip("$"), labels


def _colour_shares(uri: str) -> dict[str, float]:
    header, _, payload = uri.partition(",")
    if not (header.startswith("data:image/") and header.endswith(";base64")):
        raise ValueError(f"expected a base64 image data URI, got {uri[:40]!r}")
    try:
        data = base64.b64decode(payload, validate=True)
    except binascii.Error as error:
        raise ValueError(f"bad base64 in the data URI: {error}") from None
    with Image.open(io.BytesIO(data)) as image:
        red, green, blue = (total + 1 for total in ImageStat.Stat(image.convert("RGB")).sum)
    total = red + green + blue
    return {"Red": red / total, "Green": green / total, "Blue": blue / total}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = msgspec.json.decode(raw) if raw else None
        recorded = msgspec.json.decode(raw) if raw else None  # a copy the handler cannot change
        state.received.append(Received(method, self.path, recorded, dict(self.headers.items())))
        if state.basic_auth is not None:
            user, password = state.basic_auth
            expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
            if self.headers.get("Authorization") != expected:
                self._send(
                    401,
                    b"Unauthorized",
                    "text/plain",
                    {"WWW-Authenticate": 'Basic realm="Login required"'},
                )
                return
        try:
            status, answer = state.handle(method, self.path, body)
        except Exception as error:  # the SDK's exception_handler: any error is a 500 answer
            status = 500
            answer = {"status": 500, "detail": f"{type(error).__name__}: {error}"}
        if isinstance(answer, bytes):
            self._send(status, answer, "text/html")
        else:
            self._send(status, msgspec.json.encode(answer), "application/json")

    def _send(
        self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    allow_reuse_address = True

    def __init__(self, state: LabelStudioMLServer, port: int) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.state = state

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up on a slow answer closed its socket; that is expected here."""


@contextmanager
def running(
    state: LabelStudioMLServer | None = None, port: int = 0
) -> Iterator[LabelStudioMLServer]:
    """Serve ``state`` on ``port`` (a free one by default) for the duration of the block; a
    second block on the same port is the backend restarted."""
    state = state or LabelStudioMLServer()
    server = _Server(state, port)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
