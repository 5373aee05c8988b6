"""An ONNX image classifier run in-process: a model file in, one candidate per category out.

The registration says how the model wants its pixels (``OnnxClassifierConfig``); ``load``
checks the file against it once (input layout and size, output width against the registered
categories) so that a mismatch is refused when the model is registered, not discovered item
by item. Predictions give every category with its probability, best first, as the
``classification`` payload ``{"category_ids": [id]}``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import msgspec
import numpy as np
import numpy.typing as npt
import onnxruntime as ort  # type: ignore[import-untyped]
from PIL import ExifTags, Image, ImageOps

from scholia.core.contributions import (
    Candidate,
    ModelRegistration,
    Prediction,
    PredictionInput,
    PrelabelBackend,
)
from scholia.core.errors import ModelFailed

from . import colour_model

__all__ = ["BACKEND", "OnnxClassifier", "OnnxClassifierConfig", "load"]

Shape = list[int | str | None]


class OnnxClassifierConfig(msgspec.Struct, forbid_unknown_fields=True):
    """How the model wants its input, checked when the model is registered.

    Each pixel value ``x`` (0–255) becomes ``(x * scale - mean[c]) / std[c]``."""

    input_size: tuple[int, int] = (64, 64)
    """(height, width) the image is resized to (bilinear)."""
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    """Subtracted per channel after ``scale``, in the model's channel order."""
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    """Divided by per channel after ``mean``, in the model's channel order."""
    scale: float = 1 / 255
    """Pixel values (0–255) are multiplied by this first: 1/255 gives [0, 1]."""
    channel_order: Literal["RGB", "BGR"] = "RGB"
    layout: Literal["NCHW", "NHWC"] = "NCHW"
    outputs: Literal["logits", "probabilities"] = "logits"
    """Logits get a softmax; probabilities are taken as they are."""
    batch_size: int = 32
    """Images per inference run (a model with a fixed batch dimension sets its own)."""

    def __post_init__(self) -> None:
        # msgspec turns a ValueError here into a ValidationError naming the config.
        height, width = self.input_size
        if height <= 0 or width <= 0:
            raise ValueError(f"input_size must be positive (height, width), got {self.input_size}")
        if not all(np.isfinite(value) for value in (*self.mean, *self.std, self.scale)):
            raise ValueError("mean, std and scale must be finite numbers")
        if any(value == 0 for value in self.std):
            raise ValueError(
                f"std must not contain 0 (each channel is divided by it), got {self.std}"
            )
        if self.scale <= 0:
            raise ValueError(f"scale must be positive, got {self.scale}")
        if self.batch_size <= 0:
            raise ValueError(f"batch_size must be at least 1, got {self.batch_size}")


def _summary(error: Exception) -> str:
    """onnxruntime's message without its ``[ONNXRuntimeError] : 7 : CODE :`` prefix."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    text = re.sub(r"^\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*\w+\s*:\s*", "", text)
    return text if len(text) <= 300 else text[:297] + "..."


def _show(shape: Shape) -> str:
    return "[" + ", ".join("?" if dim is None else str(dim) for dim in shape) + "]"


def _fits(actual: int | str | None, expected: int) -> bool:
    """A symbolic dimension (a name or None) takes any size."""
    return not isinstance(actual, int) or actual == expected


class OnnxClassifier:
    """A loaded session and what it needs to turn image files into candidates."""

    def __init__(self, registration: ModelRegistration, session: Any) -> None:
        config: OnnxClassifierConfig = registration.config
        self.registration = registration
        self.config = config
        self.session = session
        model_input = session.get_inputs()[0]
        self.input_name: str = model_input.name
        self.output_name: str = session.get_outputs()[0].name
        batch = model_input.shape[0]
        # A fixed batch dimension: run exactly that many, padding the last run.
        self.fixed_batch: int | None = batch if isinstance(batch, int) and batch > 0 else None
        self.batch_size = self.fixed_batch or config.batch_size
        self.category_ids = [category_id for category_id, _ in registration.categories]
        # (x * scale - mean) / std == x * factor - offset, done in place on the whole batch.
        std = np.asarray(config.std, dtype=np.float32)
        self.factor = np.float32(config.scale) / std
        self.offset = np.asarray(config.mean, dtype=np.float32) / std

    def read(self, path: Path) -> npt.NDArray[np.uint8]:
        """One image as (height, width, 3) RGB bytes at the model's input size.

        The EXIF orientation is applied so the model sees what the annotator sees."""
        height, width = self.config.input_size
        with Image.open(path) as image:
            turned = image.getexif().get(ExifTags.Base.Orientation, 1) != 1
            upright = ImageOps.exif_transpose(image) if turned else image  # no needless copy
            rgb = upright.convert("RGB")
            resized = rgb.resize((width, height), Image.Resampling.BILINEAR)
        return np.asarray(resized, dtype=np.uint8)

    def tensor(self, pixels: Sequence[npt.NDArray[np.uint8]]) -> npt.NDArray[np.float32]:
        """A batch of images as the model's input tensor (padded to a fixed batch)."""
        batch = np.stack(pixels)
        if self.fixed_batch is not None and len(pixels) < self.fixed_batch:
            padding = np.zeros((self.fixed_batch - len(pixels), *batch.shape[1:]), np.uint8)
            batch = np.concatenate([batch, padding])
        if self.config.channel_order == "BGR":
            batch = batch[..., ::-1]
        values = batch.astype(np.float32)
        values *= self.factor
        values -= self.offset
        if self.config.layout == "NCHW":
            values = values.transpose(0, 3, 1, 2)
        return np.ascontiguousarray(values)

    def scores(self, tensor: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """The model's probabilities for each image of a batch, shape (batch, categories)."""
        (output,) = self.session.run([self.output_name], {self.input_name: tensor})
        values = np.asarray(output, dtype=np.float64)
        if self.config.outputs == "probabilities":
            return values
        shifted = values - values.max(axis=1, keepdims=True)
        exponentials = np.exp(shifted)
        result: npt.NDArray[np.float64] = exponentials / exponentials.sum(axis=1, keepdims=True)
        return result

    def candidates(self, scores: npt.NDArray[np.float64]) -> Prediction:
        if not np.all(np.isfinite(scores)):
            return Prediction(error="the model gave scores that are not finite numbers (NaN)")
        values = np.clip(scores, 0.0, 1.0).tolist()  # plain floats: cheaper to sort and keep
        order = sorted(range(len(values)), key=values.__getitem__, reverse=True)
        return Prediction(
            candidates=tuple(
                Candidate(payload={"category_ids": [self.category_ids[i]]}, score=values[i])
                for i in order
            )
        )

    def predict(self, inputs: Sequence[PredictionInput]) -> list[Prediction]:
        """One prediction per input, in order; an unreadable image fails only itself."""
        predictions: list[Prediction | None] = [None] * len(inputs)
        for start in range(0, len(inputs), self.batch_size):
            readable: list[int] = []
            pixels: list[npt.NDArray[np.uint8]] = []
            for index in range(start, min(start + self.batch_size, len(inputs))):
                item = inputs[index]
                try:
                    pixels.append(self.read(item.media_path))
                except (OSError, ValueError, Image.DecompressionBombError) as error:
                    reason = str(error) or type(error).__name__
                    predictions[index] = Prediction(
                        error=f"cannot read {item.name!r} as an image: {reason}"
                    )
                    continue
                readable.append(index)
            if not readable:
                continue
            try:
                batch_scores = self.scores(self.tensor(pixels))
            except Exception as error:  # onnxruntime raises its own exception types
                for index in readable:
                    predictions[index] = Prediction(
                        error=f"the model failed on this batch: {_summary(error)}"
                    )
                continue
            for row, index in enumerate(readable):
                predictions[index] = self.candidates(batch_scores[row])
        return [prediction or Prediction(error="not predicted") for prediction in predictions]


def _expected_input(config: OnnxClassifierConfig) -> list[int]:
    """The input's shape after its batch dimension."""
    height, width = config.input_size
    if config.layout == "NCHW":
        return [3, height, width]
    return [height, width, 3]


def _check_input(session: Any, config: OnnxClassifierConfig) -> None:
    inputs = session.get_inputs()
    if len(inputs) != 1:
        names = ", ".join(repr(model_input.name) for model_input in inputs)
        raise ModelFailed(
            f"the model has {len(inputs)} inputs ({names}); this backend feeds it one image "
            "tensor, so export the model with a single input"
        )
    model_input = inputs[0]
    if model_input.type != "tensor(float)":
        raise ModelFailed(
            f"the model's input {model_input.name!r} takes {model_input.type}; this backend "
            "feeds float32 (tensor(float)), so export the model with a float input"
        )
    actual: Shape = list(model_input.shape)
    expected = _expected_input(config)
    height, width = config.input_size
    fits = len(actual) == 4 and all(
        _fits(dim, want) for dim, want in zip(actual[1:], expected, strict=True)
    )
    if not fits:
        raise ModelFailed(
            f"the model's input {model_input.name!r} has shape {_show(actual)} but the "
            f"registration expects {_show(['N', *expected])} ({config.layout}, input_size "
            f"{height}x{width}, 3 channels); set the registration's layout and input_size "
            "to match the model"
        )


def _output_width_problem(width: int, registration: ModelRegistration) -> ModelFailed:
    count = len(registration.categories)
    return ModelFailed(
        f"the model has {width} outputs but {count} categories are registered; register one "
        "category per model output, in the model's output order"
    )


def _check_output(session: Any, registration: ModelRegistration) -> None:
    output = session.get_outputs()[0]
    shape: Shape = list(output.shape)
    if len(shape) != 2:
        raise ModelFailed(
            f"the model's output {output.name!r} has shape {_show(shape)}; a classifier must "
            "give one row of scores per image, shape [N, categories]"
        )
    width = shape[1]
    if isinstance(width, int) and width != len(registration.categories):
        raise _output_width_problem(width, registration)


def _try_run(classifier: OnnxClassifier) -> None:
    """Run one blank image, so a model that cannot answer is refused now, not per item."""
    height, width = classifier.config.input_size
    blank = np.zeros((height, width, 3), np.uint8)
    try:
        (output,) = classifier.session.run(
            [classifier.output_name], {classifier.input_name: classifier.tensor([blank])}
        )
    except Exception as error:  # onnxruntime raises its own exception types
        raise ModelFailed(
            f"the model fails on a {height}x{width} image: {_summary(error)}; check the "
            "registration's input_size and layout against the model"
        ) from error
    shape = np.shape(output)
    if len(shape) != 2:
        raise ModelFailed(
            f"the model gave scores of shape {list(shape)}; a classifier must give one row "
            "of scores per image, shape [N, categories]"
        )
    if shape[1] != len(classifier.registration.categories):
        raise _output_width_problem(shape[1], classifier.registration)


def load(registration: ModelRegistration) -> OnnxClassifier:
    """Open the model file once and check it fits its registration."""
    config = registration.config
    if not isinstance(config, OnnxClassifierConfig):
        try:
            config = msgspec.convert(config or {}, OnnxClassifierConfig)
        except msgspec.ValidationError as error:
            raise ModelFailed(f"the model's config is not valid: {error}") from error
        registration = replace(registration, config=config)
    if not registration.categories:
        raise ModelFailed(
            "no categories are registered for this model; a classifier needs one per output"
        )
    path = Path(registration.source)
    if not path.is_file():
        raise ModelFailed(
            f"no model file at {path}; check the registration's source (a path to an .onnx "
            "file readable by the server)"
        )
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: onnxruntime's warnings are not the user's
    try:
        session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as error:  # onnxruntime raises its own exception types
        raise ModelFailed(
            f"{path} is not an ONNX model onnxruntime can open: {_summary(error)}; export "
            "the model to ONNX again (and check the file was copied whole)"
        ) from error
    _check_input(session, config)
    _check_output(session, registration)
    classifier = OnnxClassifier(registration, session)
    _try_run(classifier)
    return classifier


BACKEND = PrelabelBackend(
    name="onnx-classifier",
    title="ONNX image classifier",
    annotation_types=("classification",),
    load=load,
    config=OnnxClassifierConfig,
    source_kind="file",
    sample=colour_model.sample,
)
