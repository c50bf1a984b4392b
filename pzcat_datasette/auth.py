"""Who is asking: the request's token (Bearer header or the signed cookie) or signed link.

Used by the downloads, the token page and, when ``previews_require_token`` is set, the previews
(``actor_from_request`` and ``forbidden`` hooks in :mod:`pzcat_datasette.plugin`).
"""

from __future__ import annotations

from pzcat_datasette.responses import error_response
from pzcat_datasette.settings import state
from pzcat_datasette.signin import current_session
from pzcat_datasette.tokens import TokenClaims, TokenError, verify_link, verify_token

COOKIE = "pzcat_token"
COOKIE_NAMESPACE = "pzcat-token"


def request_token(datasette, request) -> str | None:
    """The token of ``request`` (``""`` for a forged cookie, ``None`` when there is none)."""
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    cookie = request.cookies.get(COOKIE)
    if cookie:
        try:
            return datasette.unsign(cookie, COOKIE_NAMESPACE).get("t")
        except Exception:  # noqa: BLE001 - itsdangerous raises BadSignature and decoding errors
            return ""
    return None


def authorize(datasette, request, scope: str, product: str | None = None):
    """Claims of the request's signed link (for ``product``) or token; raises TokenError."""
    link = request.args.get("link")
    if link and product:
        return verify_link(link, product, revoked=state(datasette).revoked())
    token = request_token(datasette, request)
    if token is None:
        session = current_session(datasette, request)
        if session is not None:
            return session_claims(session, scope)
        raise TokenError(
            "token-missing",
            "this needs a token: send `Authorization: Bearer <token>`, "
            "paste it at /-/token, or use a signed link (ask an admin: "
            "`pzcat token create USER` / `pzcat link INTERNAL_NAME`)",
        )
    return verify_token(token, scope=scope, revoked=state(datasette).revoked())


#: What a GitHub sign-in grants in the browser (tokens made at /-/tokens can also write).
SESSION_SCOPE = "download"


def session_claims(session, scope: str | None = None) -> TokenClaims:
    """A signed-in session as token claims (id ``session``); raises ``token-scope``."""
    claims = TokenClaims(
        id="session", user=session.user, scope=SESSION_SCOPE, expires=session.expires, issued=0
    )
    if scope is not None and not claims.grants(scope):
        raise TokenError(
            "token-scope",
            f"signing in does not allow {scope}: make a {scope} token at /-/tokens",
            status=403,
        )
    return claims


def current_claims(datasette, request) -> TokenClaims | None:
    """The valid token's claims of ``request``, or None."""
    token = request_token(datasette, request)
    if not token:
        return None
    try:
        return verify_token(token, revoked=state(datasette).revoked())
    except TokenError:
        return None


def actor(datasette, request) -> dict | None:
    """Datasette's actor for a request with a valid token."""
    claims = current_claims(datasette, request)
    if claims is None:
        session = current_session(datasette, request)
        if session is None:
            return None
        return {
            "id": session.user,
            "pzcat_scope": SESSION_SCOPE,
            "pzcat_session": True,
            "pzcat_admin": session.admin,
        }
    return {"id": claims.user, "pzcat_scope": claims.scope, "pzcat_token": claims.id}


def forbidden_response(datasette, request, message: str):
    """Token errors instead of Datasette's page when previews need a token (else None)."""
    if not state(datasette).settings.previews_require_token:
        return None

    async def inner():
        if request.actor is None:
            return await error_response(
                datasette,
                request,
                "token-missing",
                "previews need a token: paste it at /-/token or send "
                "`Authorization: Bearer <token>`",
                401,
            )
        return await error_response(datasette, request, "token-scope", message, 403)

    return inner
