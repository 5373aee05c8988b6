"""The example plugin's own tests: its payload, validation, agreement and aggregation."""

import msgspec
import pytest

from scholia.core.contributions import ValidationContext
from scholia.core.plugins import load_plugins
from scholia_rating import Rating, aggregate, agreement, validate

CONTEXT = ValidationContext(item_meta={}, categories={})


def test_the_plugin_registers_the_rating_type_with_an_editor() -> None:
    rating = load_plugins(select={"scholia-rating"}).annotation_types["rating"]
    assert rating.payload is Rating and rating.validate is validate
    assert rating.editor is not None and rating.editor.module == "rating.js"


@pytest.mark.parametrize("value", [0, 6, -1])
def test_values_outside_one_to_five_are_refused_with_the_field_path(value: int) -> None:
    with pytest.raises(msgspec.ValidationError, match=r"\$\.value"):
        msgspec.convert({"value": value}, Rating)


def test_a_one_star_rating_needs_a_comment() -> None:
    with pytest.raises(ValueError, match="needs a comment"):
        validate(Rating(value=1), CONTEXT)
    validate(Rating(value=1, comment="blurred"), CONTEXT)
    validate(Rating(value=3), CONTEXT)


def test_agreement_falls_linearly_with_distance() -> None:
    assert agreement(Rating(value=3), Rating(value=3)) == 1
    assert agreement(Rating(value=1), Rating(value=5)) == 0
    assert agreement(Rating(value=2), Rating(value=3)) == 0.75


def test_aggregate_is_the_lower_median() -> None:
    assert aggregate([Rating(value=v) for v in (1, 4, 5, 2)]) == Rating(value=2)
    assert aggregate([]) is None
