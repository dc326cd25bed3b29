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


def test_the_document_says_detail_is_text_or_a_list(reader) -> None:
    detail = reader.get("/openapi.json").json()["components"]["schemas"]["HTTPValidationError"]["properties"]["detail"]
    assert [choice.get("type") for choice in detail["anyOf"]] == ["string", "array"]
