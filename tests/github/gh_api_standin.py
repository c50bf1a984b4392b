"""A loopback stand-in for the part of GitHub's REST API pzcat uses (documented protocol).

Issue comments (list with ``Link`` pagination, create, update), pull requests (get, list with
``head=owner:branch``, create, files). Runs on 127.0.0.1 on a free port in a thread; every request
is recorded (method, path, query, Authorization header, JSON body).
"""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeGitHub:
    """State of one repository and a server answering for it."""

    def __init__(
        self, repo: str = "lsst-pz/pzcat", token: str = "test-token", page_size: int = 100
    ) -> None:
        self.repo, self.token, self.page_size = repo, token, page_size
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.pulls: dict[int, dict[str, Any]] = {}
        self.files: dict[int, list[str]] = {}
        self.requests: list[dict[str, Any]] = []
        self._next_id = 1000
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeGitHub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- state helpers ----------------------------------------------------------------------------

    def new_id(self) -> int:
        with self._lock:
            self._next_id += 1
            return self._next_id

    def add_pull(
        self,
        number: int,
        *,
        head_sha: str,
        head_ref: str,
        head_owner: str,
        author: str,
        base_ref: str = "main",
        files: list[str] | None = None,
    ) -> None:
        owner, name = self.repo.split("/")
        self.pulls[number] = {
            "number": number,
            "state": "open",
            "user": {"login": author},
            "html_url": f"https://github.test/{self.repo}/pull/{number}",
            "head": {
                "sha": head_sha,
                "ref": head_ref,
                "label": f"{head_owner}:{head_ref}",
                "repo": {"full_name": f"{head_owner}/{name}", "owner": {"login": head_owner}},
            },
            "base": {"ref": base_ref, "repo": {"full_name": self.repo}},
        }
        self.files[number] = list(files or [])

    def add_comment(self, number: int, body: str, login: str) -> dict[str, Any]:
        c = {
            "id": self.new_id(),
            "body": body,
            "user": {"login": login},
            "html_url": f"https://github.test/{self.repo}/issues/{number}#c",
        }
        self.comments.setdefault(number, []).append(c)
        return c

    # -- the protocol -----------------------------------------------------------------------------

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _answer(
                self, status: int, data: Any, headers: dict[str, str] | None = None
            ) -> None:
                raw = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(raw)

            def _page(self, items: list[Any], query: dict[str, str]) -> None:
                size = min(int(query.get("per_page", 30)), fake.page_size)
                page = int(query.get("page", 1))
                chunk = items[(page - 1) * size : page * size]
                headers = {}
                if page * size < len(items):
                    q = dict(query, page=str(page + 1))
                    path = self.path.split("?")[0]
                    headers["Link"] = f'<{fake.url}{path}?{urllib.parse.urlencode(q)}>; rel="next"'
                self._answer(200, chunk, headers)

            def _route(self, method: str) -> None:
                parsed = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parsed.query))
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                fake.requests.append(
                    {
                        "method": method,
                        "path": parsed.path,
                        "query": query,
                        "auth": self.headers.get("Authorization"),
                        "body": body,
                    }
                )
                if self.headers.get("Authorization") != f"Bearer {fake.token}":
                    return self._answer(401, {"message": "Bad credentials"})
                prefix = f"/repos/{fake.repo}"
                if not parsed.path.startswith(prefix + "/"):
                    return self._answer(404, {"message": "Not Found"})
                path = parsed.path[len(prefix) :]
                m = re.fullmatch(r"/issues/(\d+)/comments", path)
                if m and method == "GET":
                    return self._page(fake.comments.get(int(m[1]), []), query)
                if m and method == "POST":
                    return self._answer(
                        201, fake.add_comment(int(m[1]), body["body"], "github-actions[bot]")
                    )
                m = re.fullmatch(r"/issues/comments/(\d+)", path)
                if m and method == "PATCH":
                    for items in fake.comments.values():
                        for c in items:
                            if c["id"] == int(m[1]):
                                c["body"] = body["body"]
                                return self._answer(200, c)
                    return self._answer(404, {"message": "Not Found"})
                m = re.fullmatch(r"/pulls/(\d+)", path)
                if m and method == "GET":
                    pr = fake.pulls.get(int(m[1]))
                    return (
                        self._answer(200, pr) if pr else self._answer(404, {"message": "Not Found"})
                    )
                m = re.fullmatch(r"/pulls/(\d+)/files", path)
                if m and method == "GET":
                    return self._page(
                        [{"filename": f} for f in fake.files.get(int(m[1]), [])], query
                    )
                if path == "/pulls" and method == "GET":
                    items = [
                        p
                        for p in fake.pulls.values()
                        if p["state"] == query.get("state", "open")
                        and ("head" not in query or p["head"]["label"] == query["head"])
                    ]
                    return self._page(items, query)
                if path == "/pulls" and method == "POST":
                    if any(p["head"]["ref"] == body["head"] for p in fake.pulls.values()):
                        return self._answer(422, {"message": "A pull request already exists"})
                    number = max([*fake.pulls, *fake.comments, 0]) + 1
                    fake.add_pull(
                        number,
                        head_sha="0" * 40,
                        head_ref=body["head"],
                        head_owner=fake.repo.split("/")[0],
                        author="github-actions[bot]",
                        base_ref=body["base"],
                    )
                    fake.pulls[number].update(title=body["title"], body=body["body"])
                    return self._answer(201, fake.pulls[number])
                return self._answer(404, {"message": "Not Found"})

            def do_GET(self) -> None:
                self._route("GET")

            def do_POST(self) -> None:
                self._route("POST")

            def do_PATCH(self) -> None:
                self._route("PATCH")

        return Handler
