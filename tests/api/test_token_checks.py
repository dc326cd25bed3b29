"""A token's signature is checked once per process, its claims kept until it expires, under the secret that signed it."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest

from api import tokens
from api.tokens import InvalidToken, claims_of, create_token

from .conftest import make_settings


@pytest.fixture
def settings(tmp_path: Path):
    return make_settings(f"sqlite:///{tmp_path / 'unused.sqlite'}", tmp_path)


def test_a_token_is_decoded_once_and_answered_alike(settings, monkeypatch: pytest.MonkeyPatch) -> None:
    decoded: list[str] = []
    decode = jwt.decode
    monkeypatch.setattr(tokens.jwt, "decode", lambda token, *a, **k: decoded.append(token) or decode(token, *a, **k))
    token = create_token(settings, "leader1", version=3)
    first, second = claims_of(settings, token), claims_of(settings, token)
    assert first == second and first[0] == "leader1" and first[2] == 3 and decoded == [token]


def test_a_kept_token_expires_on_time(settings) -> None:
    token = jwt.encode({"sub": "leader1", "exp": int(time.time()) + 2}, str(settings.secret_key), algorithm="HS256")
    _, expires, _ = claims_of(settings, token)
    time.sleep(max(0.0, expires - time.time()) + 0.1)  # past its expiry
    with pytest.raises(InvalidToken, match="expired"):
        claims_of(settings, token)


def test_a_kept_token_is_not_valid_under_another_secret(settings) -> None:
    token = create_token(settings, "leader1")
    claims_of(settings, token)
    other = settings.model_copy(update={"secret_key": "another-secret-" + "x" * 40})
    with pytest.raises(InvalidToken, match="not valid"):
        claims_of(other, token)


def test_forged_tokens_are_never_kept(settings) -> None:
    forged = jwt.encode({"sub": "admin", "exp": 4_000_000_000}, "not-our-secret-" + "y" * 40, algorithm="HS256")
    for _ in range(2):
        with pytest.raises(InvalidToken, match="not valid"):
            claims_of(settings, forged)
