"""A synchronous wrapper over Datasette's own test client, plus raw ASGI requests (no URL
normalisation, so '..' reaches the server as sent)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import unquote


@dataclass
class RawResponse:
    status_code: int
    headers: dict
    content: bytes


class SyncClient:
    """Runs ``datasette.client`` calls on one event loop."""

    def __init__(self, ds) -> None:
        self.ds = ds
        self.loop = asyncio.new_event_loop()
        self.loop.run_until_complete(ds.invoke_startup())

    def get(self, path: str, **kwargs):
        return self.loop.run_until_complete(self.ds.client.get(path, **kwargs))

    def head(self, path: str, **kwargs):
        return self.loop.run_until_complete(self.ds.client.request("HEAD", path, **kwargs))

    def post(self, path: str, **kwargs):
        return self.loop.run_until_complete(self.ds.client.post(path, **kwargs))

    def raw(self, raw_path: str, headers: dict | None = None, method: str = "GET") -> RawResponse:
        return self.loop.run_until_complete(self._raw(raw_path, headers or {}, method))

    async def _raw(self, raw_path: str, headers: dict, method: str) -> RawResponse:
        path, _, query = raw_path.partition("?")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": unquote(path),
            "raw_path": path.encode("latin-1"),
            "query_string": query.encode("latin-1"),
            "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "client": ("127.0.0.1", 12345),
            "server": ("localhost", 80),
        }
        done = asyncio.Event()
        sent = []
        first = True

        async def receive():
            nonlocal first
            if first:
                first = False
                return {"type": "http.request", "body": b"", "more_body": False}
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message):
            sent.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                done.set()

        await self.ds.app()(scope, receive, send)
        start = next(m for m in sent if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        hdrs = {k.decode().lower(): v.decode() for k, v in start["headers"]}
        return RawResponse(start["status"], hdrs, body)

    def close(self) -> None:
        self.loop.close()
