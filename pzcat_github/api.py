"""A small client of GitHub's REST API: issue comments and pull requests.

The base URL is ``$GITHUB_API_URL`` (as on Actions; ``https://api.github.com`` by default), the
token ``$GITHUB_TOKEN``, the repository ``$GITHUB_REPOSITORY`` (``owner/name``). Tests point the
base URL at a loopback server that speaks the same documented protocol.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from pzcat.errors import PzcatError

DEFAULT_API = "https://api.github.com"
#: At most this many pages of a listing are read (100 items a page).
MAX_PAGES = 50
_NEXT_RE = re.compile(r'<([^>]+)>\s*;\s*rel="next"')
_REPO_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_.-]+$")


class GitHub:
    """One repository's REST API.

    Parameters
    ----------
    repo : str, optional
        ``owner/name`` (default ``$GITHUB_REPOSITORY``).
    token : str, optional
        Default ``$GITHUB_TOKEN``.
    base_url : str, optional
        Default ``$GITHUB_API_URL``, else ``https://api.github.com``.
    """

    def __init__(
        self,
        repo: str | None = None,
        token: str | None = None,
        base_url: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.repo = repo or os.environ.get("GITHUB_REPOSITORY", "")
        if not _REPO_RE.match(self.repo):
            raise PzcatError(
                "github-api",
                f"repository {self.repo!r} is not owner/name "
                "(set GITHUB_REPOSITORY or pass --repo)",
            )
        self.token = token if token is not None else os.environ.get("GITHUB_TOKEN", "")
        self.base_url = (base_url or os.environ.get("GITHUB_API_URL") or DEFAULT_API).rstrip("/")
        self.timeout = timeout

    # -- transport ---------------------------------------------------------------------------------

    def _send(self, method: str, url: str, body: Any = None) -> tuple[Any, dict[str, str]]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Accept", "application/vnd.github+json")
        req.add_header("X-GitHub-Api-Version", "2022-11-28")
        req.add_header("User-Agent", "pzcat")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
                headers = {k.lower(): v for k, v in resp.headers.items()}
        except urllib.error.HTTPError as exc:
            detail = exc.read(2000).decode("utf-8", "replace")
            raise PzcatError(
                "github-api", f"{method} {url} answered {exc.code}: {detail}", status=exc.code
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            raise PzcatError("github-api", f"{method} {url} failed: {exc}") from None
        try:
            return (json.loads(raw) if raw else None), headers
        except json.JSONDecodeError:
            raise PzcatError("github-api", f"{method} {url} did not answer JSON") from None

    def url(self, path: str, **params: Any) -> str:
        """The full URL of an API path under the repository (``/issues/1/comments``)."""
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        return f"{self.base_url}/repos/{self.repo}{path}" + (f"?{query}" if query else "")

    def request(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        """One request; the decoded JSON answer."""
        if not self.base_url.startswith(("https://", "http://")):
            raise PzcatError("github-api", f"API base URL {self.base_url!r} is not http(s)")
        return self._send(method, self.url(path, **params), body)[0]

    def paginate(self, path: str, **params: Any) -> list[Any]:
        """Every item of a listing, following ``Link: rel="next"`` within the same API."""
        url, items = self.url(path, per_page=100, **params), []
        for _ in range(MAX_PAGES):
            page, headers = self._send("GET", url)
            if not isinstance(page, list):
                raise PzcatError("github-api", f"GET {url} did not answer a list")
            items.extend(page)
            match = _NEXT_RE.search(headers.get("link", ""))
            if not match or not match.group(1).startswith(self.base_url + "/"):
                break
            url = match.group(1)
        return items

    # -- the few calls pzcat makes -----------------------------------------------------------------

    def comments(self, number: int) -> list[dict[str, Any]]:
        return self.paginate(f"/issues/{int(number)}/comments")

    def create_comment(self, number: int, body: str) -> dict[str, Any]:
        return self.request("POST", f"/issues/{int(number)}/comments", {"body": body})

    def update_comment(self, comment_id: int, body: str) -> dict[str, Any]:
        return self.request("PATCH", f"/issues/comments/{int(comment_id)}", {"body": body})

    def pull(self, number: int) -> dict[str, Any]:
        return self.request("GET", f"/pulls/{int(number)}")

    def pulls(self, head: str | None = None, state: str = "open") -> list[dict[str, Any]]:
        return self.paginate("/pulls", head=head, state=state)

    def pull_files(self, number: int) -> list[dict[str, Any]]:
        return self.paginate(f"/pulls/{int(number)}/files")

    def create_pull(self, title: str, head: str, base: str, body: str) -> dict[str, Any]:
        return self.request(
            "POST",
            "/pulls",
            {
                "title": title,
                "head": head,
                "base": base,
                "body": body,
                "maintainer_can_modify": True,
            },
        )
