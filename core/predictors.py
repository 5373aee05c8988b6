"""Loaded models, kept for the life of the process: a backend's ``load`` runs once per model.

A model is loaded the first time it is asked for and reused by every request and job after;
what identifies it is its registration (backend, source, version, categories, config) and, for
a file, the file's size and modification time, so a model file replaced in place is loaded
again instead of answering with the old weights. Loading happens outside the lock's hot path:
two threads asking for the same new model wait for one load, not two.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import msgspec

from .contributions import ModelRegistration, Predictor, PrelabelBackend
from .errors import ModelFailed
from .models import Model
from .plugins import Plugins

__all__ = ["Predictors", "registration_of"]

KEPT = 8
"""Models kept loaded at once; the least recently used one is let go past this."""


def registration_of(plugins: Plugins, model: Model) -> tuple[PrelabelBackend, ModelRegistration]:
    """The model's backend and its registration as the backend's ``load`` receives it."""
    backend = plugins.get(PrelabelBackend, model.backend)
    if backend is None:
        known = ", ".join(b.name for b in plugins.all(PrelabelBackend)) or "none installed"
        raise ModelFailed(
            f"Model {model.name} {model.version} needs the pre-label backend {model.backend!r}, "
            f"which no installed plugin provides (backends: {known})."
        )
    config: Any = None
    if backend.config is not None:
        try:
            config = msgspec.convert(model.config, backend.config)
        except (msgspec.ValidationError, ValueError) as error:
            raise ModelFailed(
                f"Model {model.name} {model.version}: its config is invalid: {error}"
            ) from None
    registration = ModelRegistration(
        name=model.name,
        version=model.version,
        source=model.source,
        annotation_type=model.annotation_type,
        categories=tuple((int(i), str(n)) for i, n in model.categories),
        config=config,
    )
    return backend, registration


def _fingerprint(model: Model) -> str:
    try:
        stat = Path(model.source).stat()
        on_disk = [stat.st_size, stat.st_mtime_ns]
    except (OSError, ValueError):
        on_disk = []
    return json.dumps(
        [model.backend, model.source, model.version, model.categories, model.config, on_disk],
        sort_keys=True,
        default=str,
    )


class Predictors:
    """The process's loaded models (one per ``Runtime``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: OrderedDict[str, Predictor] = OrderedDict()
        self._loading: dict[str, threading.Lock] = {}

    def get(self, plugins: Plugins, model: Model) -> Predictor:
        """The model's predictor, loaded now if this process has not yet. ``ModelFailed``
        says why it cannot be (the backend's own message)."""
        key = _fingerprint(model)
        with self._lock:
            if key in self._loaded:
                self._loaded.move_to_end(key)
                return self._loaded[key]
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:
            with self._lock:
                if key in self._loaded:
                    return self._loaded[key]
            backend, registration = registration_of(plugins, model)
            try:
                predictor = backend.load(registration)
            except ModelFailed:
                raise
            except Exception as error:  # a backend's own bug still names the model
                raise ModelFailed(
                    f"Model {model.name} {model.version} could not be loaded by {backend.name}: "
                    f"{type(error).__name__}: {error}"
                ) from error
            with self._lock:
                self._loaded[key] = predictor
                self._loading.pop(key, None)
                while len(self._loaded) > KEPT:
                    self._loaded.popitem(last=False)
            return predictor
