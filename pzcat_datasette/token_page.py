"""``/-/token``: a browser pastes a token once and gets a signed, HttpOnly cookie."""

from __future__ import annotations

import time
from email.utils import formatdate

from datasette.utils.asgi import Response

from pzcat_datasette.auth import COOKIE, COOKIE_NAMESPACE, current_claims
from pzcat_datasette.responses import error_response
from pzcat_datasette.security import cross_site, same_origin_path
from pzcat_datasette.settings import state
from pzcat_datasette.tokens import TokenError, verify_token


def safe_next(value: str | None) -> str:
    """``value`` if it is a path of this server (no open redirect), else ``/``.

    >>> safe_next("/site/"), safe_next("//evil.example/"), safe_next("/\t/evil.example/")
    ('/site/', '/', '/')
    """
    return same_origin_path(value, "/")


async def token_page(datasette, request):
    """GET: the form (and who is signed in). POST: check a pasted token and set the cookie."""
    message, status = None, 200
    next_url = safe_next(request.args.get("next"))
    if request.method == "POST":
        if cross_site(request):
            return await error_response(
                datasette,
                request,
                "cross-site-request",
                "the token form must be posted from this server's own page",
                403,
            )
        form = await request.post_vars()
        next_url = safe_next(form.get("next"))
        if form.get("action") == "logout":
            response = Response.redirect(next_url)
            response.set_cookie(COOKIE, "", max_age=0, httponly=True)
            return response
        token = (form.get("token") or "").strip()
        try:
            claims = verify_token(token, scope="read", revoked=state(datasette).revoked())
        except TokenError as exc:
            message, status = f"[{exc.code}] {exc.message}", exc.status
        else:
            response = Response.redirect(next_url)
            secure = request.scheme == "https" or bool(datasette.setting("force_https_urls"))
            response.set_cookie(
                COOKIE,
                datasette.sign({"t": token}, COOKIE_NAMESPACE),
                max_age=max(1, claims.expires - int(time.time())),
                httponly=True,
                samesite="lax",
                secure=secure,
            )
            return response
    elif request.method != "GET":
        return await error_response(datasette, request, "usage", "use GET or POST", 405)
    current = current_claims(datasette, request)
    body = await datasette.render_template(
        "pzcat_token.html",
        {
            "message": message,
            "current": current,
            "next": next_url,
            "expires": formatdate(current.expires, usegmt=True) if current else None,
        },
        request=request,
    )
    return Response.html(body, status=status)


ROUTES = [(r"^/-/token$", token_page)]
