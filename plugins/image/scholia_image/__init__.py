"""scholia-image: images as items, and classifying them.

Registers the ``image`` modality (see ``probe``) and the ``classification`` annotation type
(see ``classification``); its editor is a template and an ES module in this package.
"""

from __future__ import annotations

from collections.abc import Callable

from scholia.core.contributions import AnnotationType, Editor, Modality
from scholia.core.hookspecs import hookimpl

from . import classification
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
            options=classification.ClassificationOptions,
            editor=Editor(
                template="classification/editor.html",
                module="classification.js",
                hotkeys={"1 … 9": "Choose (multi-label: toggle) a category, in display order"},
            ),
        )
    )
