"""A flood of slow download readers against a running ``pzcat serve`` (a test and a benchmark).

Each reader opens a plain socket to 127.0.0.1 with a small receive buffer, asks for one large
download and then reads ``rate`` bytes a second, so the server has to keep every response
paused. Meanwhile a legitimate client asks for a page in a loop and the server's resident memory
(the process and its children) is sampled. Used by ``test_slow_readers.py`` (asserts) and
``benchmarks/hostile.py`` (prints and saves the figure).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import asdict, dataclass, field

import httpx
import psutil


def server_rss(pid: int) -> int:
    """Resident bytes of the server process and its children."""
    proc = psutil.Process(pid)
    total = proc.memory_info().rss
    for child in proc.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            total += child.memory_info().rss
    return total


def tcp_kernel_bytes() -> int:
    """Bytes the kernel holds in TCP buffers, machine-wide (``/proc/net/sockstat``, pages)."""
    with open("/proc/net/sockstat") as fh:
        for line in fh:
            if line.startswith("TCP:"):
                parts = line.split()
                return int(parts[parts.index("mem") + 1]) * 4096
    return 0


@dataclass
class FloodResult:
    readers: int
    rate: int
    seconds: float
    rss_before_mb: float
    rss_peak_mb: float
    rss_after_mb: float
    kernel_tcp_before_mb: float
    kernel_tcp_peak_mb: float
    readers_alive: int
    bytes_read: int
    answered: int
    failed: int
    slowest_s: float
    samples: list[float] = field(default_factory=list)

    @property
    def growth_mb(self) -> float:
        return self.rss_peak_mb - self.rss_before_mb

    def as_dict(self) -> dict:
        return {**asdict(self), "growth_mb": round(self.growth_mb, 1)}


def _legit(url: str, stop: threading.Event, counts: dict) -> None:
    while not stop.is_set():
        t = time.monotonic()
        try:
            r = httpx.get(url + "site/", timeout=30)
            counts["ok" if r.status_code == 200 else "failed"] += 1
        except httpx.HTTPError:
            counts["failed"] += 1
        counts["slowest"] = max(counts["slowest"], time.monotonic() - t)
        time.sleep(0.1)


def slow_reader_flood(
    url: str,
    pid: int,
    target: str,
    headers: dict[str, str],
    readers: int = 200,
    rate: int = 1024,
    seconds: float = 10.0,
    rcvbuf: int = 16 * 1024,
) -> FloodResult:
    """Open ``readers`` sockets downloading ``target`` at ``rate`` bytes/s for ``seconds``."""
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    head = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in headers.items()
    )
    request = (head + "\r\n").encode()
    rss_before = server_rss(pid)
    kernel_before = tcp_kernel_bytes()
    socks: list[socket.socket] = []
    stop = threading.Event()
    counts = {"ok": 0, "failed": 0, "slowest": 0.0}
    legit = threading.Thread(target=_legit, args=(url, stop, counts), daemon=True)
    peak, kernel_peak, samples, read = rss_before, kernel_before, [], 0
    try:
        for _ in range(readers):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)  # before connect
            s.settimeout(10)
            s.connect(("127.0.0.1", port))
            s.sendall(request)
            socks.append(s)
        for s in socks:  # every response has started
            first = s.recv(rate)
            if not first.startswith(b"HTTP/1.1 200"):
                raise AssertionError(f"a reader got {first[:200]!r}")
            read += len(first)
        legit.start()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            tick = time.monotonic()
            for s in socks:
                with contextlib.suppress(OSError):
                    read += len(s.recv(rate))
            rss = server_rss(pid)
            peak = max(peak, rss)
            kernel_peak = max(kernel_peak, tcp_kernel_bytes())
            samples.append(round(rss / 1e6, 1))
            time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
        alive = 0
        for s in socks:  # still served: a paused response, not a dropped one
            s.settimeout(5)
            with contextlib.suppress(OSError):
                alive += len(s.recv(rate)) > 0
    finally:
        stop.set()
        if legit.is_alive():
            legit.join(30)
        for s in socks:
            s.close()
    time.sleep(1.0)
    return FloodResult(
        readers=readers,
        rate=rate,
        seconds=seconds,
        rss_before_mb=round(rss_before / 1e6, 1),
        rss_peak_mb=round(peak / 1e6, 1),
        rss_after_mb=round(server_rss(pid) / 1e6, 1),
        kernel_tcp_before_mb=round(kernel_before / 1e6, 1),
        kernel_tcp_peak_mb=round(kernel_peak / 1e6, 1),
        readers_alive=alive,
        bytes_read=read,
        answered=counts["ok"],
        failed=counts["failed"],
        slowest_s=round(counts["slowest"], 2),
        samples=samples,
    )
