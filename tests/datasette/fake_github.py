"""A loopback stand-in of GitHub's OAuth and API endpoints, for the sign-in tests.

``/login/oauth/authorize`` approves at once as the user set in ``FakeGitHub.next_user`` (as if the
person clicked "Authorize") and redirects to ``redirect_uri`` with a code; ``/login/oauth/
access_token`` exchanges it (client id and secret checked); ``/user``, ``/user/orgs`` and
``/user/teams`` answer for the access token's user. Every request is recorded.
"""

from __future__ import annotations

import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse


class FakeGitHub:
    def __init__(
        self,
        client_id: str,
        client_secret: str,
        orgs: dict[str, list[str]],
        teams: dict[str, list[str]],
    ) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.orgs, self.teams = orgs, teams
        self.next_user = "carol"
        self.codes: dict[str, str] = {}
        self.tokens: dict[str, str] = {}
        self.requests: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _json(self, status: int, body) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _user(self) -> str | None:
                auth = self.headers.get("authorization", "")
                return fake.tokens.get(auth.partition(" ")[2])

            def do_GET(self) -> None:
                url = urlparse(self.path)
                fake.requests.append(f"GET {url.path}")
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/login/oauth/authorize":
                    if q.get("client_id") != fake.client_id:
                        self._json(400, {"error": "bad client"})
                        return
                    code = secrets.token_hex(8)
                    fake.codes[code] = fake.next_user
                    self.send_response(302)
                    self.send_header(
                        "location",
                        q["redirect_uri"]
                        + "?"
                        + urlencode({"code": code, "state": q.get("state", "")}),
                    )
                    self.end_headers()
                    return
                user = self._user()
                if user is None:
                    self._json(401, {"message": "Bad credentials"})
                elif url.path == "/user":
                    self._json(200, {"login": user, "id": 1})
                elif url.path == "/user/orgs":
                    self._json(200, [{"login": o} for o in fake.orgs.get(user, [])])
                elif url.path == "/user/teams":
                    self._json(
                        200,
                        [
                            {"slug": t.split("/")[1], "organization": {"login": t.split("/")[0]}}
                            for t in fake.teams.get(user, [])
                        ],
                    )
                else:
                    self._json(404, {"message": "Not Found"})

            def do_POST(self) -> None:
                url = urlparse(self.path)
                fake.requests.append(f"POST {url.path}")
                length = int(self.headers.get("content-length", "0"))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if url.path != "/login/oauth/access_token":
                    self._json(404, {"message": "Not Found"})
                elif (form.get("client_id"), form.get("client_secret")) != (
                    fake.client_id,
                    fake.client_secret,
                ):
                    self._json(200, {"error": "incorrect_client_credentials"})
                elif form.get("code") not in fake.codes:
                    self._json(200, {"error": "bad_verification_code"})
                else:
                    token = "gho_" + secrets.token_hex(8)
                    fake.tokens[token] = fake.codes.pop(form["code"])
                    self._json(200, {"access_token": token, "token_type": "bearer"})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeGitHub:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)
