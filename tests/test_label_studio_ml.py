"""The Label Studio ML backend adapter, against a server speaking the SDK's protocol."""

from __future__ import annotations

import base64
import socket
import xml.etree.ElementTree as ET
from pathlib import Path

import msgspec
import pytest
from PIL import Image

from scholia.core.contributions import ModelRegistration, PredictionInput
from scholia.core.errors import ModelFailed
from scholia_image import label_studio_ml
from scholia_image.label_studio_ml import LabelStudioMLConfig, label_config, load

from .label_studio_ml_server import MODEL_VERSION, LabelStudioMLServer, running

# Ids that are neither 0.. nor in the order of the names, so a mix-up shows.
CATEGORIES = ((17, "Red"), (4, "Green"), (42, "Blue"))
COLOURS = {"Red": (220, 30, 20), "Green": (25, 200, 40), "Blue": (10, 40, 230)}


def registration(url: str, **config: object) -> ModelRegistration:
    return ModelRegistration(
        name="colours",
        version="1",
        source=url,
        annotation_type="classification",
        categories=CATEGORIES,
        config=msgspec.convert(config, LabelStudioMLConfig),
    )


def images(tmp_path: Path, names: list[str]) -> list[PredictionInput]:
    inputs = []
    for index, name in enumerate(names):
        path = tmp_path / f"{index}-{name}.png"
        Image.new("RGB", (16, 12), COLOURS[name]).save(path)
        inputs.append(PredictionInput(100 + index, path.name, path, "image/png"))
    return inputs


def chosen(prediction: object) -> list[int]:
    candidates = getattr(prediction, "candidates", ())
    assert candidates, f"no candidates: {prediction}"
    return list(candidates[0].payload["category_ids"])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_backend_is_registered_for_classification_from_a_url() -> None:
    backend = label_studio_ml.BACKEND
    backend.check()
    assert backend.name == "label-studio-ml"
    assert backend.title == "Label Studio ML backend"
    assert backend.annotation_types == ("classification",)
    assert backend.source_kind == "url"
    assert backend.config is LabelStudioMLConfig


def test_loading_checks_health_then_sends_the_labeling_config_to_setup() -> None:
    with running() as server:
        load(registration(server.url + "/"))
    health, setup = server.received
    assert (health.method, health.path) == ("GET", "/health")
    assert (setup.method, setup.path) == ("POST", "/setup")
    assert setup.body["project"] == "scholia"
    assert setup.body["schema"] == label_config(CATEGORIES, LabelStudioMLConfig())
    choices = ET.fromstring(setup.body["schema"]).find(".//Choices")
    assert choices is not None
    assert [choice.attrib["value"] for choice in choices] == ["Red", "Green", "Blue"]


def test_predict_sends_tasks_as_label_studio_does(tmp_path: Path) -> None:
    inputs = images(tmp_path, ["Red", "Blue"])
    with running() as server:
        load(registration(server.url, project="shelf-7")).predict(inputs)
    (request,) = server.requests_to("/predict")
    body = request.body
    assert [task["id"] for task in body["tasks"]] == [100, 101]
    for task, item in zip(body["tasks"], inputs, strict=True):
        header, _, payload = task["data"]["image"].partition(",")
        assert header == "data:image/png;base64"
        assert base64.b64decode(payload) == item.media_path.read_bytes()
    assert body["label_config"] == label_config(CATEGORIES, LabelStudioMLConfig())
    assert body["project"] == "shelf-7"
    assert body["model_version"] == MODEL_VERSION
    assert body["params"] == {"login": None, "password": None, "context": None}
    assert request.headers["Content-Type"] == "application/json"


def test_chosen_labels_become_the_registrations_category_ids(tmp_path: Path) -> None:
    with running() as server:
        predictions = load(registration(server.url)).predict(
            images(tmp_path, ["Red", "Green", "Blue"])
        )
    assert [chosen(prediction) for prediction in predictions] == [[17], [4], [42]]
    for prediction in predictions:
        assert prediction.error is None
        (candidate,) = prediction.candidates
        assert 0.5 < candidate.score <= 1.0


def test_items_go_in_batches_of_batch_size_and_answers_keep_their_order(tmp_path: Path) -> None:
    names = ["Red", "Green", "Blue", "Green", "Red"]
    with running() as server:
        predictions = load(registration(server.url, batch_size=2)).predict(images(tmp_path, names))
    batches = [request.body["tasks"] for request in server.requests_to("/predict")]
    assert [[task["id"] for task in tasks] for tasks in batches] == [[100, 101], [102, 103], [104]]
    ids = dict((name, id_) for id_, name in CATEGORIES)
    assert [chosen(prediction) for prediction in predictions] == [[ids[n]] for n in names]


def test_several_predictions_per_task_become_candidates_best_first(tmp_path: Path) -> None:
    with running(LabelStudioMLServer(several=True)) as server:
        (prediction,) = load(registration(server.url)).predict(images(tmp_path, ["Blue"]))
    ids = [candidate.payload["category_ids"] for candidate in prediction.candidates]
    scores = [candidate.score for candidate in prediction.candidates]
    assert ids[0] == [42]
    assert sorted(map(tuple, ids)) == [(4,), (17,), (42,)]
    assert scores == sorted(scores, reverse=True)
    assert sum(scores) == pytest.approx(1.0)


def test_the_answer_of_sdk_versions_before_2_is_read_too(tmp_path: Path) -> None:
    with running(LabelStudioMLServer(legacy=True)) as server:
        predictions = load(registration(server.url)).predict(images(tmp_path, ["Green", "Red"]))
    assert [chosen(prediction) for prediction in predictions] == [[4], [17]]


def test_a_label_the_categories_lack_fails_that_item_only(tmp_path: Path) -> None:
    with running(LabelStudioMLServer(unknown_label_task_ids={101})) as server:
        good, bad, other = load(registration(server.url)).predict(
            images(tmp_path, ["Red", "Green", "Blue"])
        )
    assert chosen(good) == [17] and chosen(other) == [42]
    assert bad.candidates == ()
    assert bad.error is not None
    assert "'Purple'" in bad.error
    assert "'Red', 'Green', 'Blue'" in bad.error


def test_a_batch_that_times_out_fails_its_items_while_the_others_go_on(tmp_path: Path) -> None:
    state = LabelStudioMLServer(slow_task_ids={102}, delay_s=1.0)
    names = ["Red", "Green", "Blue", "Green", "Red"]
    with running(state) as server:
        predictions = load(registration(server.url, timeout_s=0.3, batch_size=2)).predict(
            images(tmp_path, names)
        )
    assert [chosen(p) for p in predictions[:2]] == [[17], [4]]
    assert chosen(predictions[4]) == [17]
    for prediction in predictions[2:4]:
        assert prediction.candidates == ()
        assert prediction.error == (
            f"the Label Studio ML backend at {server.url}/predict did not answer within 0.3 s"
        )


def test_a_server_error_fails_that_batch_with_its_detail(tmp_path: Path) -> None:
    with running(LabelStudioMLServer(failing_task_ids={100})) as server:
        first, second, third = load(registration(server.url, batch_size=2)).predict(
            images(tmp_path, ["Red", "Green", "Blue"])
        )
    for prediction in (first, second):
        assert prediction.error is not None
        assert "answered HTTP 500: RuntimeError: CUDA out of memory" in prediction.error
    assert chosen(third) == [42]


def test_a_wrong_number_of_results_fails_the_batch(tmp_path: Path) -> None:
    with running(LabelStudioMLServer(short_task_ids={101})) as server:
        predictions = load(registration(server.url)).predict(images(tmp_path, ["Red", "Green"]))
    for prediction in predictions:
        assert prediction.candidates == ()
        assert prediction.error is not None
        assert "answered 1 results for 2 tasks" in prediction.error


def test_an_answer_that_is_not_json_fails_the_batch(tmp_path: Path) -> None:
    with running(LabelStudioMLServer(non_json_task_ids={100})) as server:
        (prediction,) = load(registration(server.url)).predict(images(tmp_path, ["Red"]))
    assert prediction.error is not None
    assert "is not JSON" in prediction.error and "502 Bad Gateway" in prediction.error


def test_an_unreadable_image_fails_that_item_and_is_not_sent(tmp_path: Path) -> None:
    inputs = images(tmp_path, ["Red", "Blue"])
    inputs[0].media_path.unlink()
    with running() as server:
        missing, blue = load(registration(server.url)).predict(inputs)
    assert missing.error is not None and str(inputs[0].media_path) in missing.error
    assert chosen(blue) == [42]
    (request,) = server.requests_to("/predict")
    assert [task["id"] for task in request.body["tasks"]] == [101]


def test_loading_a_backend_that_is_not_running_fails_naming_its_url() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ModelFailed) as failure:
        load(registration(url))
    assert f"could not reach the Label Studio ML backend at {url}/health" in failure.value.message


def test_loading_a_backend_whose_health_is_not_up_fails() -> None:
    with (
        running(LabelStudioMLServer(health_status="DOWN")) as server,
        pytest.raises(ModelFailed) as failure,
    ):
        load(registration(server.url))
    assert f"{server.url}/health is not up" in failure.value.message
    assert '"DOWN"' in failure.value.message
    assert server.requests_to("/setup") == []


def test_loading_a_url_that_is_not_http_fails() -> None:
    with pytest.raises(ModelFailed, match="must start with http:// or https://"):
        load(registration("localhost:9090"))


def test_basic_auth_is_sent_when_configured_and_its_absence_explained() -> None:
    state = LabelStudioMLServer(basic_auth=("scholia", "s3cret"))
    with running(state) as server:
        with pytest.raises(ModelFailed, match=r"HTTP 401.*basic_auth_user"):
            load(registration(server.url))
        load(registration(server.url, basic_auth_user="scholia", basic_auth_pass="s3cret"))
    assert server.requests_to("/setup")[-1].headers["Authorization"].startswith("Basic ")


def test_the_labeling_config_escapes_category_names() -> None:
    config = label_config(((3, "A & <B>"), (9, 'say "hi"')), LabelStudioMLConfig())
    assert "A &amp; &lt;B&gt;" in config
    root = ET.fromstring(config)
    assert root.tag == "View"
    image = root.find("Image")
    assert image is not None and image.attrib == {"name": "image", "value": "$image"}
    choices = root.find("Choices")
    assert choices is not None
    assert choices.attrib == {"name": "label", "toName": "image", "choice": "single"}
    assert [choice.attrib["value"] for choice in choices] == ["A & <B>", 'say "hi"']


def test_the_tag_names_come_from_the_config(tmp_path: Path) -> None:
    names = {"from_name": "colour", "to_name": "photo", "data_key": "img"}
    with running() as server:
        (prediction,) = load(registration(server.url, **names)).predict(images(tmp_path, ["Green"]))
    assert chosen(prediction) == [4]
    (request,) = server.requests_to("/predict")
    assert list(request.body["tasks"][0]["data"]) == ["img"]
    assert '<Choices name="colour" toName="photo"' in request.body["label_config"]


@pytest.mark.parametrize(
    ("config", "complaint"),
    [
        ({"timeout_s": 0}, "timeout_s must be a positive number"),
        ({"batch_size": 0}, "batch_size must be at least 1"),
        ({"data_key": "image url"}, "data_key 'image url'"),
        ({"from_name": " "}, "from_name must not be empty"),
        ({"basic_auth_user": "me"}, "give both basic_auth_user and basic_auth_pass"),
        ({"token": "x"}, "unknown field `token`"),
    ],
)
def test_a_bad_config_is_refused_with_the_reason(config: dict[str, object], complaint: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=complaint):
        msgspec.convert(config, LabelStudioMLConfig)


def test_a_restarted_backend_is_set_up_again_and_asked_once_more(tmp_path: Path) -> None:
    port = free_port()
    with running(port=port) as before:
        predictor = load(registration(before.url))
        assert [chosen(p) for p in predictor.predict(images(tmp_path, ["Red"]))] == [[17]]
    with running(port=port) as after:  # a new process, which has forgotten its setup
        predictions = predictor.predict(images(tmp_path, ["Blue", "Green"]))
    assert [prediction.error for prediction in predictions] == [None, None]
    assert [chosen(prediction) for prediction in predictions] == [[42], [4]]
    assert [request.path for request in after.received] == ["/predict", "/setup", "/predict"]
    assert after.requests_to("/setup")[0].body["schema"] == label_config(
        CATEGORIES, LabelStudioMLConfig()
    )


def test_a_backend_that_stays_down_after_a_restart_fails_the_batch_naming_it(
    tmp_path: Path,
) -> None:
    port = free_port()
    with running(port=port) as server:
        predictor = load(registration(server.url))
    (prediction,) = predictor.predict(images(tmp_path, ["Red"]))
    assert prediction.candidates == ()
    assert prediction.error is not None
    assert f"127.0.0.1:{port}/predict" in prediction.error
