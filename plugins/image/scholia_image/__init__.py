"""scholia-image: images as items, classifying them, and models that suggest classes.

Registers the ``image`` modality (see ``probe``) and its viewer (``templates/image/viewer.html``
and ``static/viewer.js``: the image on a stage with zoom and pan, which editors draw on), the
``classification`` annotation type (see
``classification``; its editor is a template and an ES module in this package) and two
pre-label backends for it: an ONNX image classifier run in-process (``onnx_classifier``) and
an adapter to any running Label Studio ML backend (``label_studio_ml``).
"""

from __future__ import annotations

from collections.abc import Callable

from scholia.core.contributions import (
    AnnotationType,
    Editor,
    Modality,
    PrelabelBackend,
    Viewer,
)
from scholia.core.hookspecs import hookimpl

from . import classification, label_studio_ml, onnx_classifier
from .probe import EXTENSIONS, MEDIA_TYPES, probe, thumbnail


@hookimpl
def register_modalities(register: Callable[[Modality], None]) -> None:
    register(
        Modality(
            name="image",
            title="Image",
            media_types=MEDIA_TYPES,
            extensions=EXTENSIONS,
            probe=probe,
            thumbnail=thumbnail,
        )
    )


@hookimpl
def register_viewers(register: Callable[[Viewer], None]) -> None:
    register(
        Viewer(
            name="image",
            template="image/viewer.html",
            module="viewer.js",
            hotkeys={"0 + −": "Fit or 1:1 (0 switches them), zoom in, zoom out (drag to pan)"},
        )
    )


@hookimpl
def register_annotation_types(register: Callable[[AnnotationType], None]) -> None:
    register(
        AnnotationType(
            name="classification",
            title="Classification",
            payload=classification.Classification,
            validate=classification.validate,
            modalities=("image",),
            agreement=classification.agreement,
            aggregate=classification.aggregate,
            categories=classification.categories,
            votes=True,
            options=classification.ClassificationOptions,
            editor=Editor(
                template="classification/editor.html",
                module="classification.js",
                hotkeys={"1 … 9": "Choose (multi-label: toggle) a category, in display order"},
            ),
        )
    )


@hookimpl
def register_prelabel_backends(register: Callable[[PrelabelBackend], None]) -> None:
    register(onnx_classifier.BACKEND)
    register(label_studio_ml.BACKEND)
