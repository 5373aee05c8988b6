"""A real, tiny ONNX classifier of colours, trained here on generated images.

The demo, the tests and the benchmark need a model to suggest labels, and nothing may be
downloaded. So this trains one: a multinomial logistic regression on each image's mean colour,
fitted with numpy on a few hundred generated patches, and written as an ONNX graph (ReduceMean
over the pixels, MatMul, Add). It is registered and loaded through the same ``onnx-classifier``
backend, and the same checks, as any user's model.

Category ``i`` of ``count`` is the hue ``i / count`` on the colour wheel (``colour_of``): with
three names, red, green and blue.
"""

from __future__ import annotations

import colorsys
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper
from PIL import Image, ImageDraw

from scholia.core.contributions import SampleModel

__all__ = ["OPSET", "colour_image", "colour_of", "sample", "train_colour_classifier"]

OPSET = 18
"""ReduceMean takes its axes as an input from opset 18; onnxruntime 1.20+ runs it."""

_SCALE = 1 / 255
_PER_CATEGORY = 120
_HELD_OUT_PER_CATEGORY = 40


def colour_of(index: int, count: int) -> tuple[int, int, int]:
    """The pure colour of category ``index`` of ``count``: the hue ``index / count``."""
    red, green, blue = colorsys.hsv_to_rgb(index / count, 1.0, 1.0)
    return round(red * 255), round(green * 255), round(blue * 255)


def colour_image(
    rgb: tuple[int, int, int], size: tuple[int, int] = (32, 32), *, seed: int = 0
) -> Image.Image:
    """A noisy patch of one colour, (height, width) ``size``: some blobs of its darker shades,
    one small grey blob and per-pixel noise, so that no two images are alike.

    Save it (``.save(path)`` or into a ``BytesIO``) to get an image file to import."""
    rng = np.random.default_rng(seed)
    height, width = size
    image = Image.new("RGB", (width, height), rgb)
    draw = ImageDraw.Draw(image)
    for blob in range(4):
        shade = 1.0 if blob == 3 else float(rng.uniform(0.6, 1.0))
        fill = (
            tuple(round(channel * shade) for channel in rgb)
            if blob < 3
            else (int(rng.integers(60, 200)),) * 3  # the grey distractor
        )
        extent = 0.5 if blob < 3 else 0.25
        x0, y0 = rng.uniform(0, width), rng.uniform(0, height)
        x1 = x0 + rng.uniform(1, max(2.0, width * extent))
        y1 = y0 + rng.uniform(1, max(2.0, height * extent))
        draw.ellipse((x0, y0, x1, y1), fill=fill)  # type: ignore[arg-type]
    pixels = np.asarray(image, dtype=np.float32) + rng.normal(0, 12, (height, width, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def _sample(index: int, count: int, size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    """A training image of category ``index``: its hue jittered, in a random saturation and
    brightness."""
    hue = (index / count + rng.uniform(-0.3, 0.3) / count) % 1.0
    red, green, blue = colorsys.hsv_to_rgb(hue, rng.uniform(0.55, 1.0), rng.uniform(0.45, 1.0))
    rgb = (round(red * 255), round(green * 255), round(blue * 255))
    return colour_image(rgb, size, seed=int(rng.integers(2**32)))


def _features(image: Image.Image) -> npt.NDArray[np.float64]:
    """What the graph computes before its MatMul: the mean of each channel, scaled to [0, 1]."""
    pixels = np.asarray(image, dtype=np.float64) * _SCALE
    means: npt.NDArray[np.float64] = pixels.mean(axis=(0, 1))
    return means


def _dataset(
    count: int, per_category: int, size: tuple[int, int], rng: np.random.Generator
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    labels = np.repeat(np.arange(count), per_category)
    features = np.stack([_features(_sample(int(label), count, size, rng)) for label in labels])
    return features, labels


def _softmax(logits: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    exponentials = np.exp(logits - logits.max(axis=1, keepdims=True))
    result: npt.NDArray[np.float64] = exponentials / exponentials.sum(axis=1, keepdims=True)
    return result


def _fit(
    features: npt.NDArray[np.float64], labels: npt.NDArray[np.int64], count: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Softmax regression by gradient descent on standardised features; the standardisation is
    folded back into the weights, so the graph takes the raw channel means."""
    centre, spread = features.mean(axis=0), features.std(axis=0) + 1e-6
    standard = (features - centre) / spread
    targets = np.eye(count)[labels]
    weights = np.zeros((features.shape[1], count))
    bias = np.zeros(count)
    for _ in range(1500):
        error = _softmax(standard @ weights + bias) - targets
        weights -= 0.5 * (standard.T @ error / len(labels) + 1e-2 * weights)
        bias -= 0.5 * error.mean(axis=0)
    folded = weights / spread[:, None]
    return folded, bias - (centre / spread) @ weights


def _accuracy(
    weights: npt.NDArray[np.float64],
    bias: npt.NDArray[np.float64],
    features: npt.NDArray[np.float64],
    labels: npt.NDArray[np.int64],
) -> float:
    return float(np.mean(np.argmax(features @ weights + bias, axis=1) == labels))


def _graph(
    weights: npt.NDArray[np.float64],
    bias: npt.NDArray[np.float64],
    names: Sequence[str],
    size: tuple[int, int],
) -> onnx.ModelProto:
    height, width = size
    count = len(names)
    graph = helper.make_graph(
        nodes=[
            helper.make_node("ReduceMean", ["image", "axes"], ["mean_rgb"], keepdims=0),
            helper.make_node("MatMul", ["mean_rgb", "weights"], ["scores"]),
            helper.make_node("Add", ["scores", "bias"], ["logits"]),
        ],
        name="colour_classifier",
        inputs=[helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, height, width])],
        outputs=[helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", count])],
        initializer=[
            numpy_helper.from_array(np.array([2, 3], dtype=np.int64), "axes"),
            numpy_helper.from_array(weights.astype(np.float32), "weights"),
            numpy_helper.from_array(bias.astype(np.float32), "bias"),
        ],
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="scholia-image colour_model",
        doc_string="Colour classifier trained on generated images; outputs logits per category.",
    )
    model.ir_version = 10  # what onnxruntime 1.20 and later read
    helper.set_model_props(model, {"categories": json.dumps(list(names))})
    onnx.checker.check_model(model, full_check=True)
    return model


def train_colour_classifier(
    path: Path,
    names: Sequence[str] = ("red", "green", "blue"),
    *,
    input_size: tuple[int, int] = (32, 32),
    seed: int = 0,
) -> dict[str, Any]:
    """Train on generated images, write the ONNX model to ``path`` and say how to register it.

    Returns ``{"config": ..., "accuracy": ..., "held_out_accuracy": ...}``: ``config`` is the
    registration's ``OnnxClassifierConfig`` as plain data (JSON-ready), ``accuracy`` the share
    of training images it classifies right and ``held_out_accuracy`` that of fresh ones. The
    model's outputs are ``names`` in order: register the categories in that order."""
    if len(names) < 2 or len(set(names)) != len(names):
        raise ValueError(f"a classifier needs at least two distinct category names, got {names!r}")
    height, width = input_size
    if height <= 0 or width <= 0:
        raise ValueError(f"input_size must be positive (height, width), got {input_size}")
    rng = np.random.default_rng(seed)
    count = len(names)
    features, labels = _dataset(count, _PER_CATEGORY, input_size, rng)
    weights, bias = _fit(features, labels, count)
    held_out, held_out_labels = _dataset(count, _HELD_OUT_PER_CATEGORY, input_size, rng)
    model = _graph(weights, bias, names, input_size)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return {
        "config": {
            "input_size": [height, width],
            "mean": [0.0, 0.0, 0.0],
            "std": [1.0, 1.0, 1.0],
            "scale": _SCALE,
            "layout": "NCHW",
            "channel_order": "RGB",
            "outputs": "logits",
        },
        "accuracy": _accuracy(weights, bias, features, labels),
        "held_out_accuracy": _accuracy(weights, bias, held_out, held_out_labels),
    }


def sample(folder: Path, names: Sequence[str]) -> SampleModel:
    """The ``onnx-classifier`` backend's sample model: a colour classifier for ``names``
    (category ``i`` is the hue ``i / len(names)``: red, green and blue for three)."""
    path = folder / "colour-classifier.onnx"
    trained = train_colour_classifier(path, names)
    return SampleModel(
        source=str(path),
        config=trained["config"],
        about=f"Recognises {len(names)} colours; trained here on generated swatches "
        f"({trained['held_out_accuracy']:.0%} right on fresh ones).",
    )
