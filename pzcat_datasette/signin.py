"""Sign in with GitHub at the server: the OAuth web flow, who may get in, the session cookie.

Routes
------
- ``/-/login?next=PATH``: redirects to GitHub's ``/login/oauth/authorize`` with a random ``state``
  kept in a signed, HttpOnly cookie (with ``next``).
- ``/-/auth/callback?code=&state=``: checks the state, exchanges the code at
  ``/login/oauth/access_token``, asks ``/user`` (and ``/user/orgs``, ``/user/teams`` when
  ``catalog.yaml`` restricts who may get in), then sets the session cookie and returns to ``next``.
- ``/-/logout`` (POST): drops the session and the pasted-token cookie, returns to ``next``.

Who may get in: ``access.github`` in ``catalog.yaml`` (``orgs``, ``teams`` as ``org/team-slug``,
``users``; none set: any GitHub user). The client id is ``access.github.client_id`` or
``$PZCAT_GITHUB_CLIENT_ID``; the secret only ``$PZCAT_GITHUB_CLIENT_SECRET``. GitHub's base URLs
(``oauth_url``, ``api_url``) are configurable, so a GitHub Enterprise host or a loopback stand-in
(the tests) works the same way. GitHub's access token is used once and never stored: the session
is a Datasette-signed cookie ``{"u": login, "exp": ..., "admin": ...}``.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx
from datasette.utils.asgi import Response

from pzcat.errors import PzcatError
from pzcat_datasette.responses import error_response
from pzcat_datasette.security import same_origin_path
from pzcat_datasette.settings import state

SESSION_COOKIE = "pzcat_session"
SESSION_NAMESPACE = "pzcat-session"
STATE_COOKIE = "pzcat_oauth_state"
STATE_NAMESPACE = "pzcat-oauth-state"
STATE_SECONDS = 600
HTTP_TIMEOUT = 20.0


@dataclass(frozen=True)
class Session:
    """A signed-in GitHub user."""

    user: str
    expires: int
    admin: bool


def safe_next(value: str | None) -> str:
    """``value`` if it is a path of this server (no open redirect), else ``/site/``.

    >>> safe_next("/site/product/x/"), safe_next("//evil.example/"), safe_next("https://e.x/")
    ('/site/product/x/', '/site/', '/site/')
    """
    return same_origin_path(value, "/site/")


def _secure(datasette, request) -> bool:
    return request.scheme == "https" or bool(datasette.setting("force_https_urls"))


def current_session(datasette, request) -> Session | None:
    """The request's valid session, or None."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        data = datasette.unsign(raw, SESSION_NAMESPACE)
        session = Session(
            user=str(data["u"]), expires=int(data["exp"]), admin=bool(data.get("admin"))
        )
    except Exception:  # noqa: BLE001 - itsdangerous raises BadSignature and decoding errors
        return None
    if session.expires <= time.time():
        return None
    return session


def _github(datasette):
    cfg = state(datasette).catalog().config
    return cfg, cfg.access.github


def _client_id(gh) -> str:
    return gh.client_id or os.environ.get("PZCAT_GITHUB_CLIENT_ID", "")


def configured(datasette) -> bool:
    """Whether sign-in with GitHub is set up (client id and secret)."""
    try:
        _, gh = _github(datasette)
    except PzcatError:
        return False
    return bool(_client_id(gh) and os.environ.get("PZCAT_GITHUB_CLIENT_SECRET"))


def _callback_url(request) -> str:
    return f"{request.scheme}://{request.host}/-/auth/callback"


async def login(datasette, request):
    """Start the OAuth web flow (``next`` is where the user returns)."""
    next_url = safe_next(request.args.get("next"))
    try:
        _, gh = _github(datasette)
    except PzcatError as exc:
        return await error_response(datasette, request, exc.code, exc.message, 500)
    client_id = _client_id(gh)
    if not client_id or not os.environ.get("PZCAT_GITHUB_CLIENT_SECRET"):
        return await error_response(
            datasette,
            request,
            "auth-not-configured",
            "sign-in with GitHub is not set up on this server (access.github.client_id in "
            "catalog.yaml and $PZCAT_GITHUB_CLIENT_SECRET); paste a token at /-/token instead",
            501,
        )
    nonce = secrets.token_urlsafe(24)
    query = urlencode(
        {
            "client_id": client_id,
            "redirect_uri": _callback_url(request),
            "scope": "read:org" if (gh.orgs or gh.teams) else "",
            "state": nonce,
            "allow_signup": "false",
        }
    )
    response = Response.redirect(f"{gh.oauth_url.rstrip('/')}/login/oauth/authorize?{query}")
    response.set_cookie(
        STATE_COOKIE,
        datasette.sign({"s": nonce, "n": next_url, "t": int(time.time())}, STATE_NAMESPACE),
        max_age=STATE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=_secure(datasette, request),
    )
    return response


class _GitHubFailed(Exception):
    pass


async def _get(client: httpx.AsyncClient, url: str, token: str):
    resp = await client.get(
        url, headers={"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"}
    )
    if resp.status_code != 200:
        raise _GitHubFailed(f"GET {url}: HTTP {resp.status_code}")
    return resp.json()


async def _who(gh, code: str, redirect_uri: str) -> tuple[str, set[str], set[str]]:
    """Exchange ``code``; return the login, its organisations and its teams (``org/slug``)."""
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT, follow_redirects=False) as client:
        resp = await client.post(
            f"{gh.oauth_url.rstrip('/')}/login/oauth/access_token",
            data={
                "client_id": _client_id(gh),
                "client_secret": os.environ.get("PZCAT_GITHUB_CLIENT_SECRET", ""),
                "code": code,
                "redirect_uri": redirect_uri,
            },
            headers={"Accept": "application/json"},
        )
        try:
            token = resp.json().get("access_token") if resp.status_code == 200 else None
        except ValueError:
            token = None
        if not token:
            raise _GitHubFailed(f"the code exchange failed (HTTP {resp.status_code})")
        api = gh.api_url.rstrip("/")
        user = await _get(client, f"{api}/user", token)
        login_name = str(user.get("login") or "")
        if not login_name:
            raise _GitHubFailed("GitHub's /user answer has no login")
        orgs: set[str] = set()
        teams: set[str] = set()
        if gh.orgs:
            orgs = {
                str(o.get("login", "")).lower()
                for o in await _get(client, f"{api}/user/orgs", token)
            }
        if gh.teams:
            teams = {
                f"{t.get('organization', {}).get('login', '')}/{t.get('slug', '')}".lower()
                for t in await _get(client, f"{api}/user/teams", token)
            }
        return login_name, orgs, teams


def allowed(gh, login_name: str, orgs: set[str], teams: set[str]) -> bool:
    """Whether ``access.github`` lets this user in."""
    if gh.allows_everyone():
        return True
    if login_name.lower() in {u.lower() for u in gh.users}:
        return True
    if orgs & {o.lower() for o in gh.orgs}:
        return True
    return bool(teams & {t.lower() for t in gh.teams})


async def callback(datasette, request):
    """GitHub sends the user back here with ``code`` and ``state``."""
    raw = request.cookies.get(STATE_COOKIE)
    try:
        saved = datasette.unsign(raw, STATE_NAMESPACE) if raw else None
    except Exception:  # noqa: BLE001 - itsdangerous raises BadSignature and decoding errors
        saved = None
    given = request.args.get("state") or ""
    if (
        not saved
        or not secrets.compare_digest(str(saved.get("s", "")), given)
        or time.time() - int(saved.get("t", 0)) > STATE_SECONDS
    ):
        return await error_response(
            datasette,
            request,
            "auth-github-failed",
            "the sign-in expired or did not start here: sign in again from /-/login",
            400,
        )
    if request.args.get("error"):
        return await error_response(
            datasette,
            request,
            "auth-github-failed",
            f"GitHub said: {request.args.get('error')}",
            400,
        )
    cfg, gh = _github(datasette)
    try:
        login_name, orgs, teams = await _who(
            gh, request.args.get("code") or "", _callback_url(request)
        )
    except (_GitHubFailed, httpx.HTTPError, ValueError) as exc:
        return await error_response(
            datasette, request, "auth-github-failed", f"sign-in with GitHub failed: {exc}", 502
        )
    if not allowed(gh, login_name, orgs, teams):
        return await error_response(
            datasette,
            request,
            "auth-not-allowed",
            f"{login_name} is not among the users, organisations or teams "
            "this catalog lets in (access.github in catalog.yaml); ask an "
            "admin",
            403,
        )
    expires = int(time.time()) + cfg.access.session_hours * 3600
    response = Response.redirect(safe_next(saved.get("n")))
    response.set_cookie(
        SESSION_COOKIE,
        datasette.sign(
            {"u": login_name, "exp": expires, "admin": cfg.is_admin(login_name)}, SESSION_NAMESPACE
        ),
        max_age=cfg.access.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=_secure(datasette, request),
    )
    response.set_cookie(STATE_COOKIE, "", max_age=0, httponly=True)
    return response


async def logout(datasette, request):
    """Sign out (POST with the CSRF token): both cookies go; back to ``next``."""
    if request.method != "POST":
        return await error_response(datasette, request, "usage", "sign out with POST", 405)
    form = await request.post_vars()
    from pzcat_datasette.auth import COOKIE

    response = Response.redirect(safe_next(form.get("next")))
    response.set_cookie(SESSION_COOKIE, "", max_age=0, httponly=True)
    response.set_cookie(COOKIE, "", max_age=0, httponly=True)
    return response


ROUTES = [(r"^/-/login$", login), (r"^/-/auth/callback$", callback), (r"^/-/logout$", logout)]
