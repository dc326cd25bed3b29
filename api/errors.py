"""Exception handlers: every error becomes an HTTP status with a JSON body {"detail": ...}, never a traceback."""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Callable

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from geogrid.incidents import workflow
from geogrid.errors import InputError
from geogrid.store import plans

logger = logging.getLogger("geogrid.api")


class NotFoundError(LookupError):
    """No such community, grid, plan version or job (404)."""


class ForbiddenError(PermissionError):
    """The caller's role or scope does not allow this (403)."""


class ConflictError(RuntimeError):
    """The request clashes with the current state, e.g. a job already running (409)."""


class BadRequestError(ValueError):
    """A request that cannot be read safely, e.g. an unsafe zip archive (400)."""


class PreconditionFailedError(RuntimeError):
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
        if isinstance(getattr(exc, "problems", None), list):  # e.g. what stops a plan from being published
            content["problems"] = exc.problems
        if isinstance(getattr(exc, "reason", None), dict):  # why a workflow step was refused, for a page to say it
            content["reason"] = exc.reason
        return JSONResponse(status_code=code, content=content)

    return handler


def internal_error(request: Request, exc: Exception) -> JSONResponse:
    """Any other exception: 500 with a plain message; the traceback goes to the log only."""
    logger.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return JSONResponse(status_code=500, content={"detail": "internal server error"})


def add_exception_handlers(app: FastAPI, status_codes: dict[type[Exception], int]) -> None:
    """Register a JSON handler for every exception type in status_codes, and a catch-all 500."""
    for exc, code in status_codes.items():
        app.add_exception_handler(exc, exception_handler_factory(code))
    app.add_exception_handler(Exception, internal_error)
