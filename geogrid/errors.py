"""Errors that name what is wrong with a user's input, and the machine code a refusal carries."""

from __future__ import annotations

from typing import Any


class Coded:
    """An error that may carry a stable machine code and its parameters (``code``, ``params``) beside its English
    message: the API sends both in the error body, and the pages show the catalogue's sentence for the code
    (maps/i18n.py REFUSAL_CODES) filled from the parameters. Parameters are plain JSON values: numbers, words the
    catalogue also translates (an action, a state, a level, a rule, a field), or lists of them."""

    def __init__(self, *args: Any, code: str | None = None, params: dict[str, Any] | None = None) -> None:
        super().__init__(*args)
        self.code = code
        self.params = dict(params or {})


class InputError(Coded, ValueError):
    """Bad input from the user: a file, a column, a value or a parameter.

    The message names the file, the feature or rows and what is wrong, and is
    shown as-is by the CLI (non-zero exit) and the API (HTTP 4xx).
    """
