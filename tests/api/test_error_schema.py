"""Issue 17, defect 8: every 422 body matches what /openapi.json documents for it."""

from __future__ import annotations

import jsonschema_rs


def validator(client):
    document = client.get("/openapi.json").json()
    return jsonschema_rs.validator_for({"$ref": "#/components/schemas/HTTPValidationError",
                                        "components": document["components"]})


def test_422_bodies_match_the_documented_schema(reader, auth) -> None:
    check = validator(reader)
    answers = [
        reader.post("/api/v1/incidents", json={"category": "aliens", "address": "x"}, headers=auth("admin")),  # ours
        reader.post("/api/v1/incidents", json={"category": 5}, headers=auth("admin")),  # pydantic's field errors
        reader.get("/api/v1/incidents?limit=0", headers=auth("admin")),
        reader.get("/api/v1/grids/a%00b", headers=auth("admin")),  # the NUL guard
    ]
    for answer in answers:
        assert answer.status_code == 422, answer.text
        assert check.is_valid(answer.json()), answer.text
    assert isinstance(answers[0].json()["detail"], str) and isinstance(answers[1].json()["detail"], list)
    assert answers[0].json()["code"] == "report.unknown_category" and answers[0].json()["params"] == {"category": "aliens"}
    assert answers[1].json()["code"] == "input.invalid" and answers[1].json()["params"] == {"field": "category"}


def test_a_coded_refusal_keeps_its_detail_and_matches_the_schema(reader, auth) -> None:
    check = validator(reader)
    long = reader.post("/api/v1/incidents", json={"category": "road", "address": "x", "description": "字" * 4001},
                       headers=auth("admin"))
    assert long.status_code == 422, long.text
    body = long.json()
    assert body["detail"][0]["type"] == "string_too_long"  # pydantic's field errors, kept for clients
    assert body["code"] == "input.too_long" and body["params"] == {"field": "description", "length": 4001,
                                                                  "limit": 4000}
    assert check.is_valid(body)
    invalid = body | {"code": 5}
    assert not check.is_valid(invalid)  # the document says what a code is


def test_the_document_says_detail_is_text_or_a_list(reader) -> None:
    detail = reader.get("/openapi.json").json()["components"]["schemas"]["HTTPValidationError"]["properties"]["detail"]
    assert [choice.get("type") for choice in detail["anyOf"]] == ["string", "array"]
    properties = reader.get("/openapi.json").json()["components"]["schemas"]["HTTPValidationError"]["properties"]
    assert properties["code"]["type"] == "string" and properties["params"]["type"] == "object"
