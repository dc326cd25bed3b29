"""Exception handlers: every error becomes an HTTP status with a JSON body {"detail": ...}, never a traceback."""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Callable

from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from geogrid.incidents import workflow
from geogrid.errors import Coded, InputError
from geogrid.store import plans
from geogrid.store.photo_store import StoreUnavailable

logger = logging.getLogger("geogrid.api")


class NotFoundError(LookupError):
    """No such community, grid, plan version or job (404)."""


class ForbiddenError(Coded, PermissionError):
    """The caller's role or scope does not allow this (403)."""


class ConflictError(Coded, RuntimeError):
    """The request clashes with the current state, e.g. a job already running (409)."""


class BadRequestError(ValueError):
    """A request that cannot be read safely, e.g. an unsafe zip archive (400)."""


class PreconditionFailedError(Coded, RuntimeError):
    """An If-Match header naming a version that is no longer current (412)."""


class PayloadTooLargeError(ValueError):
    """An upload over the configured size limit (413)."""


class UnsupportedMediaTypeError(ValueError):
    """A body or file of a content type the endpoint does not take (415)."""


DEFAULT_STATUS_CODES: dict[type[Exception], int] = {
    BadRequestError: status.HTTP_400_BAD_REQUEST,
    ForbiddenError: status.HTTP_403_FORBIDDEN,
    NotFoundError: status.HTTP_404_NOT_FOUND,
    plans.NotFound: status.HTTP_404_NOT_FOUND,
    ConflictError: status.HTTP_409_CONFLICT,
    workflow.NotAllowedNow: status.HTTP_409_CONFLICT,
    workflow.NotYourStep: status.HTTP_403_FORBIDDEN,
    plans.Conflict: status.HTTP_409_CONFLICT,
    StaleDataError: status.HTTP_409_CONFLICT,
    IntegrityError: status.HTTP_409_CONFLICT,
    PreconditionFailedError: status.HTTP_412_PRECONDITION_FAILED,
    PayloadTooLargeError: status.HTTP_413_CONTENT_TOO_LARGE,
    UnsupportedMediaTypeError: status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
    InputError: status.HTTP_422_UNPROCESSABLE_CONTENT,
    DataError: status.HTTP_422_UNPROCESSABLE_CONTENT,
    OperationalError: status.HTTP_503_SERVICE_UNAVAILABLE,
    StoreUnavailable: status.HTTP_503_SERVICE_UNAVAILABLE,
}

MESSAGES: dict[type[Exception], str] = {  # errors whose own text is not for users
    StaleDataError: "the object was changed by someone else meanwhile: reload it and try again",
    IntegrityError: "the change conflicts with data already in the store",
    DataError: "a value cannot be stored: a number out of range or text holding a NUL character",
    OperationalError: "the database is unavailable or busy: try again",
}


UPLOAD_FOLDER = re.compile(r"(?:/[^\s'\"]*)?/geogrid-upload-[^/\s'\"]*/(?:[^/\s'\"]+/)*")


def without_paths(message: str) -> str:
    """The message without the server's temporary folders: an uploaded file is named by its own name only."""
    message = UPLOAD_FOLDER.sub("", message)
    return message.replace(tempfile.gettempdir().rstrip("/") + "/", "")


def exception_handler_factory(code: int) -> Callable[[Request, Exception], JSONResponse]:
    """A handler answering code with the exception's message (or a safe one) as detail."""

    def handler(request: Request, exc: Exception) -> JSONResponse:
        message = next((text for kind, text in MESSAGES.items() if isinstance(exc, kind)), None)
        message = message or without_paths(str(exc))
        if code >= 500:
            logger.warning("%s %s: %s", request.method, request.url.path, exc)
        content: dict[str, object] = {"detail": message}
        if isinstance(exc, Coded) and exc.code:  # a stable code and its values: the pages say it in their language
            content |= {"code": exc.code, "params": exc.params}
        if isinstance(getattr(exc, "problems", None), list):  # e.g. what stops a plan from being published
            content["problems"] = exc.problems
        return JSONResponse(status_code=code, content=content)

    return handler


FIELD_ERROR_CODES = {  # pydantic's error types -> our refusal codes (maps/i18n.py REFUSAL_CODES)
    "string_too_long": "input.too_long", "too_long": "input.too_many", "missing": "input.missing",
}


def field_error_code(error: dict) -> tuple[str, dict[str, object]]:
    """The refusal code and values of a request's first field error: too long (with its length and limit),
    too many items, missing, or else invalid."""
    field = next((str(part) for part in reversed(error.get("loc") or ()) if isinstance(part, str)), "")
    code = FIELD_ERROR_CODES.get(str(error.get("type")), "input.invalid")
    params: dict[str, object] = {"field": field}
    limit = (error.get("ctx") or {}).get("max_length")
    if code == "input.too_long" and isinstance(error.get("input"), str):
        params |= {"length": len(error["input"]), "limit": limit}
    elif code == "input.too_many":
        params |= {"limit": limit}
    return code, params


def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """A request whose fields fail validation: 422 with FastAPI's list of field errors as detail, and the first
    one's code and values for the pages."""
    errors = exc.errors()
    content: dict[str, object] = {"detail": jsonable_encoder(errors)}
    if errors:
        code, params = field_error_code(errors[0])
        content |= {"code": code, "params": params}
    return JSONResponse(status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, content=content)


def internal_error(request: Request, exc: Exception) -> JSONResponse:
    """Any other exception: 500 with a plain message; the traceback goes to the log only."""
    logger.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return JSONResponse(status_code=500, content={"detail": "internal server error"})


def add_exception_handlers(app: FastAPI, status_codes: dict[type[Exception], int]) -> None:
    """Register a JSON handler for every exception type in status_codes, and a catch-all 500."""
    for exc, code in status_codes.items():
        app.add_exception_handler(exc, exception_handler_factory(code))
    app.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, internal_error)
