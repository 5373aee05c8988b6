"""The ONNX image classifier backend, on real ONNX models built here (no server needed)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

from scholia.core.contributions import ModelRegistration, PredictionInput
from scholia.core.errors import ModelFailed
from scholia_image import onnx_classifier
from scholia_image.colour_model import colour_image, colour_of, train_colour_classifier
from scholia_image.onnx_classifier import BACKEND, OnnxClassifierConfig, load

CATEGORIES = ((7, "red"), (3, "green"), (12, "blue"))


def registration(
    path: Path,
    config: dict[str, Any] | None = None,
    categories: tuple[tuple[int, str], ...] = CATEGORIES,
) -> ModelRegistration:
    return ModelRegistration(
        name="colours",
        version="1",
        source=str(path),
        annotation_type="classification",
        categories=categories,
        config=msgspec.convert(config or {}, OnnxClassifierConfig),
    )


def item(path: Path, item_id: int = 1) -> PredictionInput:
    return PredictionInput(item_id=item_id, name=path.name, media_path=path, media_type="image/png")


def solid(tmp_path: Path, rgb: tuple[int, int, int], name: str = "solid.png") -> Path:
    path = tmp_path / name
    Image.new("RGB", (16, 16), rgb).save(path)
    return path


def means_model(
    path: Path,
    *,
    layout: str = "NCHW",
    size: int = 16,
    batch: int | str = "N",
    normalise: bool = False,
    width: int | str = 3,
) -> Path:
    """A hand-built graph whose scores are the input's channel means (divided by their sum
    when ``normalise``, which makes them probabilities), so tests know the exact answer."""
    shape: list[int | str] = [batch, 3, size, size] if layout == "NCHW" else [batch, size, size, 3]
    axes = [2, 3] if layout == "NCHW" else [1, 2]
    nodes = [helper.make_node("ReduceMean", ["image", "axes"], ["means"], keepdims=0)]
    if normalise:
        nodes.append(helper.make_node("ReduceSum", ["means", "one"], ["total"], keepdims=1))
        nodes.append(helper.make_node("Div", ["means", "total"], ["scores"]))
    else:
        nodes.append(helper.make_node("Identity", ["means"], ["scores"]))
    graph = helper.make_graph(
        nodes,
        "means",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [batch, width])],
        [
            numpy_helper.from_array(np.array(axes, dtype=np.int64), "axes"),
            numpy_helper.from_array(np.array([1], dtype=np.int64), "one"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 10
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def top(prediction: Any) -> tuple[list[int], float]:
    best = prediction.candidates[0]
    return best.payload["category_ids"], best.score


def scores_by_id(prediction: Any) -> dict[int, float]:
    return {c.payload["category_ids"][0]: c.score for c in prediction.candidates}


def softmax(values: Sequence[float]) -> list[float]:
    exponentials = [math.exp(v - max(values)) for v in values]
    return [e / sum(exponentials) for e in exponentials]


@pytest.fixture(scope="module")
def colour_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    path = tmp_path_factory.mktemp("model") / "colours.onnx"
    trained = train_colour_classifier(path)
    return path, trained


def test_the_backend_is_declared_for_classification_from_a_file() -> None:
    backend = onnx_classifier.BACKEND
    backend.check()
    assert backend.name == "onnx-classifier"
    assert backend.title == "ONNX image classifier"
    assert backend.annotation_types == ("classification",)
    assert backend.source_kind == "file"
    assert backend.config is OnnxClassifierConfig


def test_the_trained_colour_model_is_a_valid_onnx_graph_that_learned_its_colours(
    colour_model: tuple[Path, dict[str, Any]],
) -> None:
    path, trained = colour_model
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    assert trained["accuracy"] >= 0.95
    assert trained["held_out_accuracy"] >= 0.95
    config = msgspec.convert(trained["config"], OnnxClassifierConfig)
    assert config.input_size == (32, 32)
    assert config.layout == "NCHW" and config.outputs == "logits"


def test_the_colour_model_classifies_generated_images_with_the_registered_ids(
    colour_model: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    path, trained = colour_model
    classifier = load(registration(path, trained["config"]))
    inputs = []
    for index in range(3):
        image_path = tmp_path / f"{index}.png"
        colour_image(colour_of(index, 3), (48, 40), seed=100 + index).save(image_path)
        inputs.append(item(image_path, index))
    predictions = classifier.predict(inputs)
    assert [top(p)[0] for p in predictions] == [[7], [3], [12]]
    for prediction in predictions:
        assert prediction.error is None
        scores = [c.score for c in prediction.candidates]
        assert len(scores) == 3
        assert sum(scores) == pytest.approx(1.0)
        assert scores == sorted(scores, reverse=True)
        assert sorted(c.payload["category_ids"][0] for c in prediction.candidates) == [3, 7, 12]


def test_an_ambiguous_colour_gets_an_uncertain_suggestion(
    colour_model: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    path, trained = colour_model
    yellow = solid(tmp_path, (255, 255, 0))
    (prediction,) = load(registration(path, trained["config"])).predict([item(yellow)])
    scores = scores_by_id(prediction)
    assert scores[7] < 0.9 and scores[3] < 0.9
    assert scores[12] < 0.1


def test_logits_get_a_softmax_after_scale_mean_and_std(tmp_path: Path) -> None:
    model = means_model(tmp_path / "means.onnx")
    config = {"input_size": [16, 16], "mean": [0.5, 0.0, 0.25], "std": [0.5, 2.0, 0.25]}
    image = solid(tmp_path, (255, 102, 0))
    (prediction,) = load(registration(model, config)).predict([item(image)])
    expected = softmax([(1.0 - 0.5) / 0.5, (0.4 - 0.0) / 2.0, (0.0 - 0.25) / 0.25])
    scores = scores_by_id(prediction)
    assert [scores[7], scores[3], scores[12]] == pytest.approx(expected, abs=1e-5)


def test_probabilities_are_taken_as_they_are(tmp_path: Path) -> None:
    model = means_model(tmp_path / "probabilities.onnx", normalise=True)
    image = solid(tmp_path, (200, 50, 10))
    config = {"input_size": [16, 16], "outputs": "probabilities"}
    (prediction,) = load(registration(model, config)).predict([item(image)])
    scores = scores_by_id(prediction)
    assert [scores[7], scores[3], scores[12]] == pytest.approx(
        [200 / 260, 50 / 260, 10 / 260], abs=1e-5
    )


def test_bgr_models_get_their_channels_reversed(tmp_path: Path) -> None:
    model = means_model(tmp_path / "bgr.onnx", normalise=True)
    image = solid(tmp_path, (200, 50, 10))
    config: dict[str, Any] = {"input_size": [16, 16], "outputs": "probabilities"}
    (as_rgb,) = load(registration(model, config)).predict([item(image)])
    (as_bgr,) = load(registration(model, {**config, "channel_order": "BGR"})).predict([item(image)])
    assert top(as_rgb)[0] == [7]
    assert top(as_bgr)[0] == [12]
    assert top(as_bgr)[1] == pytest.approx(200 / 260, abs=1e-5)
    assert scores_by_id(as_bgr)[7] == pytest.approx(10 / 260, abs=1e-5)


def test_nhwc_models_get_channels_last(tmp_path: Path) -> None:
    model = means_model(tmp_path / "nhwc.onnx", layout="NHWC", normalise=True)
    image = solid(tmp_path, (30, 170, 60))
    config = {"input_size": [16, 16], "outputs": "probabilities", "layout": "NHWC"}
    (prediction,) = load(registration(model, config)).predict([item(image)])
    scores = scores_by_id(prediction)
    assert [scores[7], scores[3], scores[12]] == pytest.approx(
        [30 / 260, 170 / 260, 60 / 260], abs=1e-5
    )


def test_images_are_resized_to_the_input_size(tmp_path: Path) -> None:
    model = means_model(tmp_path / "means.onnx", normalise=True)
    big = tmp_path / "big.jpg"
    Image.new("RGB", (640, 480), (0, 0, 255)).save(big)
    grey = tmp_path / "grey.png"
    Image.new("L", (20, 30), 128).save(grey)
    config = {"input_size": [16, 16], "outputs": "probabilities"}
    blue, grey_prediction = load(registration(model, config)).predict([item(big), item(grey, 2)])
    assert top(blue)[0] == [12] and top(blue)[1] > 0.98
    assert [c.score for c in grey_prediction.candidates] == pytest.approx([1 / 3] * 3, abs=1e-5)


def test_seventy_images_in_batches_of_32_come_back_in_order_and_a_corrupt_one_fails_alone(
    colour_model: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    path, trained = colour_model
    classifier = load(registration(path, {**trained["config"], "batch_size": 32}))
    inputs = []
    expected: list[list[int] | None] = []
    for index in range(70):
        image_path = tmp_path / f"{index:02}.png"
        if index == 40:
            image_path.write_bytes(b"this is not a PNG")
            expected.append(None)
        elif index == 41:
            colour_image(colour_of(0, 3), seed=index).save(image_path)
            image_path.write_bytes(image_path.read_bytes()[:60])  # truncated
            expected.append(None)
        else:
            colour_image(colour_of(index % 3, 3), seed=index).save(image_path)
            expected.append([CATEGORIES[index % 3][0]])
        inputs.append(item(image_path, index))
    predictions = classifier.predict(inputs)
    assert len(predictions) == 70
    for index, (prediction, want) in enumerate(zip(predictions, expected, strict=True)):
        if want is None:
            assert prediction.candidates == ()
            assert prediction.error is not None
            assert f"{index:02}.png" in prediction.error
        else:
            assert prediction.error is None, prediction.error
            assert top(prediction)[0] == want


def test_a_missing_image_fails_only_its_item(
    colour_model: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    path, trained = colour_model
    red = tmp_path / "red.png"
    colour_image(colour_of(0, 3)).save(red)
    gone, kept = load(registration(path, trained["config"])).predict(
        [item(tmp_path / "gone.png"), item(red, 2)]
    )
    assert gone.error is not None and "gone.png" in gone.error
    assert top(kept)[0] == [7]


@pytest.mark.parametrize("batch", [1, 4])
def test_a_model_with_a_fixed_batch_runs_that_many_at_a_time(tmp_path: Path, batch: int) -> None:
    model = means_model(tmp_path / "fixed.onnx", batch=batch, normalise=True)
    colours = [(200, 50, 10), (10, 200, 50), (50, 10, 200)] * 2
    images = [solid(tmp_path, rgb, f"{i}.png") for i, rgb in enumerate(colours)]
    config = {"input_size": [16, 16], "outputs": "probabilities", "batch_size": 32}
    classifier = load(registration(model, config))
    predictions = classifier.predict([item(p, i) for i, p in enumerate(images)])
    assert [top(p)[0] for p in predictions] == [[7], [3], [12]] * 2


def test_a_missing_model_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelFailed, match=r"no model file at .*absent\.onnx"):
        load(registration(tmp_path / "absent.onnx"))


def test_a_file_that_is_not_onnx_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "random.onnx"
    path.write_bytes(np.random.default_rng(0).bytes(2048))
    with pytest.raises(ModelFailed, match="is not an ONNX model onnxruntime can open") as caught:
        load(registration(path))
    assert "ONNXRuntimeError" not in str(caught.value)


def test_a_truncated_onnx_file_is_refused(
    colour_model: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    path, trained = colour_model
    truncated = tmp_path / "truncated.onnx"
    data = path.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFailed, match="is not an ONNX model onnxruntime can open"):
        load(registration(truncated, trained["config"]))


def test_an_input_size_the_model_does_not_take_is_refused_naming_both_shapes(
    colour_model: tuple[Path, dict[str, Any]],
) -> None:
    path, trained = colour_model
    config = {**trained["config"], "input_size": [64, 64]}
    with pytest.raises(ModelFailed) as caught:
        load(registration(path, config))
    message = str(caught.value)
    assert "[N, 3, 32, 32]" in message
    assert "[N, 3, 64, 64]" in message
    assert "input_size" in message


def test_an_nhwc_registration_of_an_nchw_model_is_refused_naming_both_shapes(
    colour_model: tuple[Path, dict[str, Any]],
) -> None:
    path, trained = colour_model
    with pytest.raises(ModelFailed) as caught:
        load(registration(path, {**trained["config"], "layout": "NHWC"}))
    message = str(caught.value)
    assert "[N, 3, 32, 32]" in message
    assert "[N, 32, 32, 3]" in message
    assert "NHWC" in message


def test_more_categories_than_model_outputs_are_refused(
    colour_model: tuple[Path, dict[str, Any]],
) -> None:
    path, trained = colour_model
    four = (*CATEGORIES, (20, "yellow"))
    with pytest.raises(
        ModelFailed, match="the model has 3 outputs but 4 categories are registered"
    ):
        load(registration(path, trained["config"], four))


def test_an_output_width_known_only_when_run_is_checked_too(tmp_path: Path) -> None:
    model = means_model(tmp_path / "symbolic.onnx", width="K")
    with pytest.raises(
        ModelFailed, match="the model has 3 outputs but 2 categories are registered"
    ):
        load(registration(model, {"input_size": [16, 16]}, CATEGORIES[:2]))


def test_a_model_taking_uint8_is_refused(tmp_path: Path) -> None:
    graph = helper.make_graph(
        [helper.make_node("Cast", ["image"], ["scores"], to=TensorProto.FLOAT)],
        "bytes",
        [helper.make_tensor_value_info("image", TensorProto.UINT8, ["N", 3])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", 3])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 10
    path = tmp_path / "bytes.onnx"
    onnx.save(model, str(path))
    with pytest.raises(ModelFailed, match=r"takes tensor\(uint8\).*float32"):
        load(registration(path))


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"std": [1.0, 0.0, 1.0]}, "std must not contain 0"),
        ({"input_size": [0, 32]}, "input_size must be positive"),
        ({"batch_size": 0}, "batch_size must be at least 1"),
        ({"scale": -1.0}, "scale must be positive"),
        ({"layout": "CHW"}, r"Invalid enum value .CHW. - at `\$.layout`"),
        ({"resize": "bilinear"}, "Object contains unknown field `resize`"),
    ],
)
def test_a_bad_config_is_refused_with_what_is_wrong(config: dict[str, Any], message: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=message):
        msgspec.convert(config, OnnxClassifierConfig)


def test_the_exif_orientation_is_applied_so_the_model_sees_what_the_annotator_sees(
    tmp_path: Path,
) -> None:
    # Scores: the normalised channel means of the left half of an 8x16 (height x width) input.
    graph = helper.make_graph(
        [
            helper.make_node("Slice", ["image", "starts", "ends", "axes_w"], ["left"]),
            helper.make_node("ReduceMean", ["left", "axes"], ["means"], keepdims=0),
            helper.make_node("ReduceSum", ["means", "one"], ["total"], keepdims=1),
            helper.make_node("Div", ["means", "total"], ["scores"]),
        ],
        "left_half",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, 8, 16])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", 3])],
        [
            numpy_helper.from_array(np.array([0], dtype=np.int64), "starts"),
            numpy_helper.from_array(np.array([8], dtype=np.int64), "ends"),
            numpy_helper.from_array(np.array([3], dtype=np.int64), "axes_w"),
            numpy_helper.from_array(np.array([2, 3], dtype=np.int64), "axes"),
            numpy_helper.from_array(np.array([1], dtype=np.int64), "one"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 10
    model_path = tmp_path / "left_half.onnx"
    onnx.save(model, str(model_path))
    # Stored portrait, red on top and blue below; orientation 6 shows it turned a quarter
    # clockwise, so the annotator sees blue on the left.
    stored = Image.new("RGB", (8, 16), (255, 0, 0))
    stored.paste((0, 0, 255), (0, 8, 8, 16))
    exif = Image.Exif()
    exif[0x0112] = 6
    photo = tmp_path / "photo.jpg"
    stored.save(photo, exif=exif, quality=95)
    config = {"input_size": [8, 16], "outputs": "probabilities"}
    (prediction,) = load(registration(model_path, config)).predict([item(photo)])
    assert top(prediction)[0] == [12]
    assert top(prediction)[1] > 0.9


def test_the_backends_sample_model_loads_through_the_backend_and_recognises_its_colours(
    tmp_path: Path,
) -> None:
    assert BACKEND.sample is not None
    made = BACKEND.sample(tmp_path, ("red", "green", "blue"))
    predictor = BACKEND.load(
        ModelRegistration(
            name="sample",
            version="1",
            source=made.source,
            annotation_type="classification",
            categories=((5, "red"), (6, "green"), (7, "blue")),
            config=msgspec.convert(dict(made.config), OnnxClassifierConfig),
        )
    )
    path = tmp_path / "green.png"
    colour_image((0, 255, 0)).save(path)
    (prediction,) = predictor.predict([PredictionInput(1, "green.png", path, "image/png")])
    assert prediction.candidates[0].payload == {"category_ids": [6]}
    assert "3 colours" in made.about
