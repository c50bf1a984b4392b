"""Helpers of the API tests (tokens, headers)."""

from __future__ import annotations


def token(user: str = "pz-user", scope: str = "download") -> str:
    from pzcat_datasette.tokens import create_token

    return create_token(user, scope=scope, expires="1h")


def auth(user: str = "pz-user", scheme: str = "Token", scope: str = "download") -> dict:
    return {"Authorization": f"{scheme} {token(user, scope)}"}
