"""The OpenAPI document says what error bodies really hold: a 422's detail is text (bad input named by us) or the
list of field errors (request validation), both {"detail": ...}, so that clients and /openapi.json agree."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

DETAIL = {
    "title": "Detail",
    "description": "what is wrong: a sentence naming the value, or the list of fields that failed validation",
    "anyOf": [
        {"type": "string"},
        {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}},
    ],
}


def document_errors(app: FastAPI) -> None:
    """Make app.openapi() describe HTTPValidationError.detail as text or a list of field errors."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            validation = schema.get("components", {}).get("schemas", {}).get("HTTPValidationError")
            if validation is not None:
                validation["properties"]["detail"] = DETAIL
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
