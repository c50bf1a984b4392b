"""``/-/tokens``: a signed-in user makes their own tokens, lists and revokes them; admins revoke any.

The page says who is signed in and until when, signs out, and returns to the page the user came
from (``?next=``). A new token is shown once (with a copy button) and never stored: only its id
and claims go to ``tokens/issued.yaml``; revocations go to ``tokens/revoked.yaml`` as with
``pzcat token revoke``. The same tokens work for the API, downloads and the Python clients.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.utils import formatdate

from datasette.utils.asgi import Response

from pzcat.errors import PzcatError
from pzcat_datasette.auth import current_claims
from pzcat_datasette.responses import error_response
from pzcat_datasette.settings import state
from pzcat_datasette.signin import configured as signin_configured
from pzcat_datasette.signin import current_session, safe_next
from pzcat_datasette.tokens import (
    SCOPES,
    TokenError,
    create_token,
    load_issued,
    record_issued,
    revoke_token,
)

#: Expiry choices of the form (days).
EXPIRY_DAYS = (1, 7, 30, 90, 365)


def _status(entry: dict, revoked: frozenset[str], now: float) -> str:
    if entry["id"] in revoked:
        return "revoked"
    try:
        if datetime.fromisoformat(str(entry["expires"]).replace("Z", "+00:00")).timestamp() <= now:
            return "expired"
    except ValueError:
        return "?"
    return "active"


async def tokens_page(datasette, request):
    """GET: who is signed in, the form, the tokens. POST: create or revoke."""
    session = current_session(datasette, request)
    next_url = safe_next(request.args.get("next"))
    if session is None:
        if request.method == "POST":
            return await error_response(
                datasette, request, "auth-required", "sign in to manage tokens", 401
            )
        body = await datasette.render_template(
            "pzcat_tokens.html",
            {
                "session": None,
                "next": next_url,
                "signin": signin_configured(datasette),
                "pasted": current_claims(datasette, request),
            },
            request=request,
        )
        return Response.html(body)
    st = state(datasette)
    root = st.settings.root
    try:
        cfg = st.catalog().config
    except PzcatError as exc:
        return await error_response(datasette, request, exc.code, exc.message, 500)
    max_days = cfg.access.max_token_days
    message, new_token, new_entry, status = None, None, None, 200
    if request.method == "POST":
        form = await request.post_vars()
        next_url = safe_next(form.get("next") or next_url)
        action = form.get("action")
        try:
            if action == "create":
                scope = form.get("scope") or "read"
                if scope not in SCOPES:
                    raise TokenError(
                        "usage", f"scope must be one of {', '.join(SCOPES)}", status=400
                    )
                try:
                    days = int(form.get("days") or "30")
                except ValueError:
                    raise TokenError(
                        "usage", "expiry must be a number of days", status=400
                    ) from None
                if not 1 <= days <= max_days:
                    raise TokenError("usage", f"expiry must be 1 to {max_days} days", status=400)
                new_token = create_token(session.user, scope=scope, expires=f"{days}d")
                new_entry = record_issued(root, new_token, note=(form.get("note") or "").strip())
            elif action == "revoke":
                tid = (form.get("id") or "").strip()
                owner = next((e["user"] for e in load_issued(root) if e["id"] == tid), None)
                if owner is None or (owner.lower() != session.user.lower() and not session.admin):
                    raise TokenError(
                        "token-scope",
                        "you can revoke only your own tokens (admins: any)",
                        status=403,
                    )
                revoke_token(root, tid, by=session.user, reason="revoked at /-/tokens")
                message = f"Token {tid} revoked."
            else:
                raise TokenError("usage", "unknown action", status=400)
        except TokenError as exc:
            message, status = f"[{exc.code}] {exc.message}", exc.status
    issued = load_issued(root)
    revoked = st.revoked()
    now = time.time()
    mine = [
        dict(e, status=_status(e, revoked, now))
        for e in issued
        if e["user"].lower() == session.user.lower()
    ]
    others = (
        [
            dict(e, status=_status(e, revoked, now))
            for e in issued
            if e["user"].lower() != session.user.lower()
        ]
        if session.admin
        else []
    )
    body = await datasette.render_template(
        "pzcat_tokens.html",
        {
            "session": session,
            "until": formatdate(session.expires, usegmt=True),
            "until_iso": datetime.fromtimestamp(session.expires, UTC).strftime(
                "%Y-%m-%d %H:%M UTC"
            ),
            "next": next_url,
            "message": message,
            "new_token": new_token,
            "new_entry": new_entry,
            "mine": list(reversed(mine)),
            "others": list(reversed(others)),
            "scopes": SCOPES,
            "days": [d for d in EXPIRY_DAYS if d <= max_days],
            "pasted": None,
        },
        request=request,
    )
    return Response.html(body, status=status)


ROUTES = [(r"^/-/tokens$", tokens_page)]
