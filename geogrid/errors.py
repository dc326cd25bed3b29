"""Errors that name what is wrong with a user's input."""


class InputError(ValueError):
    """Bad input from the user: a file, a column, a value or a parameter.

    The message names the file, the feature or rows and what is wrong, and is
    shown as-is by the CLI (non-zero exit) and the API (HTTP 4xx).
    """
