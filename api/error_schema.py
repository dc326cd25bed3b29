"""The OpenAPI document says what error bodies really hold: a 422's detail is text (bad input named by us) or the
list of field errors (request validation), both {"detail": ...}, so that clients and /openapi.json agree; a refusal
of ours may also carry a stable machine code and its values ("code", "params", see geogrid.errors.Coded), which
the pages say in their language (maps/i18n.py REFUSAL_CODES)."""

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

CODE = {
    "title": "Code",
    "type": "string",
    "description": "a stable machine code for the refusal (e.g. workflow.not_allowed_now, input.too_long), present "
                   "when the service names one; detail keeps the English sentence",
}
PARAMS = {
    "title": "Params",
    "type": "object",
    "description": "the values the refusal's code is said with (e.g. action, status, level, field, limit)",
}


def document_errors(app: FastAPI) -> None:
    """Make app.openapi() describe HTTPValidationError.detail as text or a list of field errors, with the optional
    code and params of a coded refusal."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            validation = schema.get("components", {}).get("schemas", {}).get("HTTPValidationError")
            if validation is not None:
                validation["properties"] |= {"detail": DETAIL, "code": CODE, "params": PARAMS}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
