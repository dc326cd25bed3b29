"""A category's follow-up questions: defined in the taxonomy file, answers checked in their datatypes."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from geogrid.errors import InputError
from geogrid.incidents import filing
from geogrid.incidents.reports import Report
from geogrid.incidents.taxonomy import as_sent, check_answers, load_taxonomy


def test_the_shipped_taxonomy_asks_questions() -> None:
    taxonomy = load_taxonomy()
    fire = taxonomy.category("fire_safety")
    codes = {a.code: a for a in fire.attributes}
    assert codes["exit_blocked"].required and codes["exit_blocked"].datatype == "singlevaluelist"
    assert codes["exit_blocked"].description_en and all(v.name_en for v in codes["exit_blocked"].values)
    assert taxonomy.category("city_management").attributes[0].code == "kind"


def test_answers_are_typed_and_unknown_codes_ignored() -> None:
    fire = load_taxonomy().category("fire_safety")
    answers = check_answers(fire, as_sent({"exit_blocked": "yes", "floor": 3, "unasked": "x"}))
    assert answers == {"exit_blocked": "yes", "floor": 3.0}


@pytest.mark.parametrize(("sent", "message"), [
    ({}, "exit_blocked is required"),
    ({"exit_blocked": "maybe"}, "'maybe' is not among no, yes"),
    ({"exit_blocked": "yes", "floor": "high"}, "must be a number"),
    ({"exit_blocked": ["yes", "no"]}, "takes one value"),
])
def test_wrong_answers_say_what_is_wrong(sent: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        check_answers(load_taxonomy().category("fire_safety"), as_sent(sent), label="attributes.{}")


def test_a_report_asked_the_questions_must_answer_the_required_ones() -> None:
    taxonomy = load_taxonomy()
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    asked = Report("fire_safety", "grid_patrol", "堵塞", x=114.9, y=25.85, answers={})
    with pytest.raises(InputError, match="attributes.exit_blocked is required"):
        filing.decide(asked, filing.check(asked, taxonomy), "worker", now)
    answered = Report("fire_safety", "grid_patrol", "堵塞", x=114.9, y=25.85, answers={"exit_blocked": "no"})
    case = filing.decide(answered, filing.check(answered, taxonomy), "worker", now)
    assert case.columns["attributes"] == {"exit_blocked": "no"}
    # a hotline row is never asked: whatever it carries is kept as it came
    hotline = Report("fire_safety", "hotline_12345", "堵塞", x=114.9, y=25.85, attributes={"source": "12345"})
    assert filing.answers_of(hotline, filing.check(hotline, taxonomy)) == {"source": "12345"}
