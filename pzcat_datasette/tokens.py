"""Download tokens and signed links.

A token is ``pzc1.<payload>.<signature>``: the payload is base64url JSON carrying the token id, the
user, the scope (``download`` or ``read``) and the expiry; the signature is HMAC-SHA256 over
``pzc1.<payload>`` with a key derived from the server secret ``$PZCAT_SECRET``. The secret is never
stored in the repository; without it no token can be made or checked (``token-secret-missing``).

A signed link is ``pzl1.<payload>.<signature>`` (another derived key, so a link is never a token):
it opens one product until it expires, without a token.

Revoked token ids live in the repository at ``tokens/revoked.yaml`` (ids only, never tokens).
Signatures are compared in constant time (:func:`hmac.compare_digest`).

Examples
--------
>>> import os; os.environ["PZCAT_SECRET"] = "x" * 32
>>> tok = create_token("alice", scope="download", expires="30d")
>>> verify_token(tok, scope="read").user
'alice'
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from pzcat.codes import http_status
from pzcat.errors import PzcatError
from pzcat.files import atomic_write_text
from pzcat.links import Links
from pzcat.safeyaml import load_yaml

SECRET_ENV = "PZCAT_SECRET"
MIN_SECRET_LENGTH = 16
TOKEN_PREFIX = "pzc1"
LINK_PREFIX = "pzl1"
SCOPES = ("download", "read", "write")
#: What each scope grants: a download token also reads previews; a write token (changes through the
#: Photo-z Server API) also downloads and reads.
GRANTS = {
    "download": {"download", "read"},
    "read": {"read"},
    "write": {"write", "download", "read"},
}
REVOKED_FILE = Path("tokens") / "revoked.yaml"
MAX_TOKEN_CHARS = 4096


class TokenError(PzcatError):
    """A token, link or secret problem; ``status`` is the HTTP status it maps to."""

    def __init__(self, code: str, message: str, status: int | None = None, **context) -> None:
        super().__init__(code, message, **context)
        self.status = status if status is not None else http_status(code)


@dataclass(frozen=True)
class TokenClaims:
    """What a valid token carries."""

    id: str
    user: str
    scope: str
    expires: int  # unix seconds
    issued: int

    def grants(self, scope: str) -> bool:
        return scope in GRANTS.get(self.scope, set())


@dataclass(frozen=True)
class LinkClaims:
    """What a valid signed link carries."""

    id: str
    product: str
    expires: int


# -- secret and keys ---------------------------------------------------------------------------------


def get_secret() -> bytes:
    """The server secret from ``$PZCAT_SECRET``.

    Raises
    ------
    TokenError
        ``token-secret-missing`` when unset or shorter than 16 characters.
    """
    value = os.environ.get(SECRET_ENV, "")
    if len(value) < MIN_SECRET_LENGTH:
        raise TokenError(
            "token-secret-missing",
            f"${SECRET_ENV} is {'too short' if value else 'not set'}: export a secret of "
            f"at least {MIN_SECRET_LENGTH} characters (e.g. `export {SECRET_ENV}=$(python -c "
            "'import secrets; print(secrets.token_hex(32))')`); never commit it",
        )
    return value.encode("utf-8")


def _key(purpose: str, secret: bytes | None = None) -> bytes:
    return hmac.new(secret or get_secret(), f"pzcat/{purpose}/v1".encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    pad = "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(text + pad)


def _sign(prefix: str, payload: dict, purpose: str) -> str:
    body = f"{prefix}.{_b64(json.dumps(payload, separators=(',', ':'), sort_keys=True).encode())}"
    sig = hmac.new(_key(purpose), body.encode("ascii"), hashlib.sha256).digest()
    return f"{body}.{_b64(sig)}"


_PART = re.compile(r"^[A-Za-z0-9_-]+$")


def _unsign(text: str, prefix: str, purpose: str, code: str) -> dict:
    """Check the signature (constant time) and return the payload."""
    bad = TokenError(
        code, f"the {'token' if prefix == TOKEN_PREFIX else 'link'} is malformed or forged"
    )
    if not isinstance(text, str) or len(text) > MAX_TOKEN_CHARS:
        raise bad
    parts = text.strip().split(".")
    if len(parts) != 3 or parts[0] != prefix or not all(_PART.match(p) for p in parts[1:]):
        raise bad
    body = f"{parts[0]}.{parts[1]}"
    expected = hmac.new(_key(purpose), body.encode("ascii"), hashlib.sha256).digest()
    try:
        given = _unb64(parts[2])
    except ValueError:
        raise bad from None
    if not hmac.compare_digest(expected, given):
        raise bad
    try:
        payload = json.loads(_unb64(parts[1]))
    except ValueError:
        raise bad from None
    if not isinstance(payload, dict):
        raise bad
    return payload


# -- durations ---------------------------------------------------------------------------------------

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(value: str | int | float | timedelta) -> int:
    """Seconds in ``30d``, ``12h``, ``15m``, ``45s``, ``2w`` (or an int / timedelta).

    Raises
    ------
    TokenError
        ``bad-duration``.
    """
    if isinstance(value, timedelta):
        seconds = int(value.total_seconds())
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = int(value)
    else:
        match = _DURATION.match(str(value).lower())
        if not match:
            raise TokenError(
                "bad-duration", f"cannot read duration {value!r}: use e.g. 30d, 12h, 15m"
            )
        seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if seconds <= 0:
        raise TokenError("bad-duration", f"duration {value!r} must be positive")
    return seconds


# -- tokens ------------------------------------------------------------------------------------------


def create_token(
    user: str,
    scope: str = "download",
    expires: str | int | timedelta = "30d",
    now: float | None = None,
) -> str:
    """Make a signed token for ``user``.

    Parameters
    ----------
    user : str
        Who the token is for (GitHub user name or e-mail).
    scope : {"download", "read", "write"}
        ``download`` grants downloads and previews, ``read`` previews only, ``write`` also
        changes through the API (``/api/``).
    expires : str, int or timedelta
        Lifetime: ``30d``, ``12h``... or seconds.
    """
    if scope not in SCOPES:
        raise TokenError("usage", f"scope must be one of {', '.join(SCOPES)} (got {scope!r})")
    user = (user or "").strip()
    if not user:
        raise TokenError("usage", "a token needs a user name")
    issued = int(now if now is not None else time.time())
    payload = {
        "id": secrets.token_hex(8),
        "u": user,
        "s": scope,
        "iat": issued,
        "exp": issued + parse_duration(expires),
    }
    return _sign(TOKEN_PREFIX, payload, "token")


def token_id(token: str) -> str | None:
    """The id of a well-signed token (None otherwise); for `pzcat token revoke`."""
    try:
        return str(_unsign(token, TOKEN_PREFIX, "token", "token-invalid").get("id"))
    except TokenError:
        return None


def verify_token(
    token: str,
    scope: str | None = None,
    revoked: set[str] | frozenset[str] | None = None,
    now: float | None = None,
) -> TokenClaims:
    """Check a token and return its claims.

    Raises
    ------
    TokenError
        ``token-invalid`` (forged or malformed, 401), ``token-expired`` (401), ``token-revoked``
        (401), ``token-scope`` (403), ``token-secret-missing`` (500).
    """
    payload = _unsign(token, TOKEN_PREFIX, "token", "token-invalid")
    try:
        claims = TokenClaims(
            id=str(payload["id"]),
            user=str(payload["u"]),
            scope=str(payload["s"]),
            expires=int(payload["exp"]),
            issued=int(payload.get("iat", 0)),
        )
    except (KeyError, TypeError, ValueError):
        raise TokenError("token-invalid", "the token is malformed or forged") from None
    if (now if now is not None else time.time()) >= claims.expires:
        raise TokenError(
            "token-expired", f"the token expired at {_iso(claims.expires)}", token_id=claims.id
        )
    if revoked and claims.id in revoked:
        raise TokenError("token-revoked", f"token {claims.id} was revoked", token_id=claims.id)
    if scope is not None and not claims.grants(scope):
        raise TokenError(
            "token-scope", f"a {claims.scope} token does not allow {scope}", token_id=claims.id
        )
    return claims


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


# -- revocation ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def tokens_lock(root: Path) -> Iterator[None]:
    """Hold the lock of ``tokens/`` (``fcntl.flock`` on the folder) for a read-modify-write.

    ``tokens/issued.yaml`` and ``tokens/revoked.yaml`` are read, changed and replaced atomically
    (:func:`pzcat.files.atomic_write_text`) by the server's workers and by ``pzcat token``: without
    the lock, two writers at the same instant would each write the list they read, and one entry
    would be lost. The lock is on the folder (not the file, which each write replaces), so no lock
    file appears in the repository; it is released when the block ends or the process dies.
    """
    folder = Path(root) / REVOKED_FILE.parent
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def revoked_path(root: Path) -> Path:
    return Path(root) / REVOKED_FILE


def load_revoked(root: Path) -> frozenset[str]:
    """Revoked token ids (``tokens/revoked.yaml``; empty when the file does not exist)."""
    path = revoked_path(root)
    if not path.exists():
        return frozenset()
    try:
        data = load_yaml(path.read_bytes(), str(path), error=TokenError) or {}
        entries = data.get("revoked") or []
        return frozenset(str(e["id"]) if isinstance(e, dict) else str(e) for e in entries)
    except (PzcatError, AttributeError, KeyError, TypeError, OSError) as exc:
        raise TokenError("revocation-list", f"{path}: {exc}", status=500, file=str(path)) from None


def revoke_token(
    root: Path, token_or_id: str, by: str | None = None, reason: str | None = None
) -> str:
    """Add a token id (or the id of a token) to ``tokens/revoked.yaml``; return the id."""
    tid = token_or_id.strip()
    if "link=" in tid:  # a whole signed URL
        tid = tid.split("link=", 1)[1].split("&", 1)[0]
    if tid.startswith((TOKEN_PREFIX + ".", LINK_PREFIX + ".")):
        found = token_id(tid) if tid.startswith(TOKEN_PREFIX + ".") else link_id(tid)
        if found is None:
            raise TokenError("token-invalid", "cannot revoke: the signature is wrong", status=400)
        tid = found
    if not re.fullmatch(r"[0-9a-f]{16}", tid):
        raise TokenError(
            "usage",
            f"{tid[:40]!r} is not a token or link id (16 hex digits, "
            "printed by `pzcat token create` and `pzcat link`)",
            status=400,
        )
    path = revoked_path(root)
    with tokens_lock(root):
        data = {}
        if path.exists():
            load_revoked(root)  # raises on a broken file
            data = load_yaml(path.read_bytes(), str(path), error=TokenError) or {}
        entries = list(data.get("revoked") or [])
        if any((e.get("id") if isinstance(e, dict) else str(e)) == tid for e in entries):
            return tid
        entry = {"id": tid, "revoked": _iso(int(time.time()))}
        if by:
            entry["by"] = by
        if reason:
            entry["reason"] = reason
        entries.append(entry)
        header = (
            "# Revoked pzcat tokens: ids only, never tokens. `pzcat token revoke ID` appends here;\n"
            "# the server rereads this file when it changes.\n"
        )
        atomic_write_text(path, header + yaml.safe_dump({"revoked": entries}, sort_keys=False))
    return tid


# -- tokens made at /-/tokens: their ids, never the tokens -----------------------------------------

ISSUED_FILE = Path("tokens") / "issued.yaml"


def load_issued(root: Path) -> list[dict]:
    """Tokens made at ``/-/tokens`` or with ``pzcat token create`` (id, user, scope, dates, note)."""
    path = Path(root) / ISSUED_FILE
    if not path.exists():
        return []
    try:
        data = load_yaml(path.read_bytes(), str(path), error=TokenError) or {}
        entries = data.get("issued") or []
        return [e for e in entries if isinstance(e, dict) and "id" in e]
    except (PzcatError, AttributeError, OSError) as exc:
        raise TokenError("revocation-list", f"{path}: {exc}", status=500, file=str(path)) from None


def record_issued(root: Path, token: str, note: str = "", by: str | None = None) -> dict:
    """Add a new token's id and claims to ``tokens/issued.yaml``; return the entry.

    Under :func:`tokens_lock` and written atomically: concurrent creations (server workers,
    ``pzcat token create``) all keep their entry. ``by`` names who made it when that is not the
    token's user (an admin at the command line).
    """
    claims = verify_token(token)
    entry = {
        "id": claims.id,
        "user": claims.user,
        "scope": claims.scope,
        "issued": _iso(claims.issued),
        "expires": _iso(claims.expires),
    }
    if note:
        entry["note"] = note[:100]
    if by and by != claims.user:
        entry["by"] = by
    header = (
        "# Tokens made at /-/tokens and by `pzcat token create`: ids and claims only, never\n"
        "# tokens. Revocations are in revoked.yaml.\n"
    )
    with tokens_lock(root):
        entries = [*load_issued(root), entry]
        atomic_write_text(
            Path(root) / ISSUED_FILE, header + yaml.safe_dump({"issued": entries}, sort_keys=False)
        )
    return entry


# -- signed links -------------------------------------------------------------------------------------


def make_link(
    internal_name: str,
    expires: str | int | timedelta = "1h",
    base_url: str | None = None,
    file: str | None = None,
    now: float | None = None,
) -> str:
    """A signed link to one product (its ZIP, or ``file``) valid until it expires.

    Returns the ``?link=`` value when ``base_url`` is None, else the full URL
    ``<base_url>-/download/<internal_name>.zip?link=...``.
    """
    issued = int(now if now is not None else time.time())
    payload = {
        "id": secrets.token_hex(8),
        "p": internal_name,
        "exp": issued + parse_duration(expires),
    }
    link = _sign(LINK_PREFIX, payload, "link")
    if base_url is None:
        return link
    return Links.absolute(base_url, Links.download_path(internal_name, file), f"link={link}")


def verify_link(
    link: str,
    internal_name: str,
    now: float | None = None,
    revoked: set[str] | frozenset[str] | None = None,
) -> LinkClaims:
    """Check a signed link for ``internal_name`` (its id may be revoked like a token's).

    Raises
    ------
    TokenError
        ``link-invalid`` (forged, malformed or for another product), ``token-expired`` or
        ``token-revoked``.
    """
    payload = _unsign(link, LINK_PREFIX, "link", "link-invalid")
    try:
        claims = LinkClaims(
            id=str(payload["id"]), product=str(payload["p"]), expires=int(payload["exp"])
        )
    except (KeyError, TypeError, ValueError):
        raise TokenError("link-invalid", "the link is malformed or forged") from None
    if not hmac.compare_digest(claims.product.encode(), internal_name.encode()):
        raise TokenError("link-invalid", "the link is for another product")
    if (now if now is not None else time.time()) >= claims.expires:
        raise TokenError("token-expired", f"the link expired at {_iso(claims.expires)}")
    if revoked and claims.id in revoked:
        raise TokenError("token-revoked", f"link {claims.id} was revoked", token_id=claims.id)
    return claims


def link_id(link: str) -> str | None:
    """The id of a well-signed link (None otherwise); for `pzcat token revoke`."""
    try:
        return str(_unsign(link, LINK_PREFIX, "link", "link-invalid").get("id"))
    except TokenError:
        return None
