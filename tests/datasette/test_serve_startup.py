"""`pzcat serve` start-up: a busy port is a coded message, not a traceback; the site URL is printed."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys

from ds_catalog import SECRET


def test_busy_port_is_a_coded_error(built) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        env = {**os.environ, "PZCAT_SECRET": SECRET}
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pzcat.cli",
                "serve",
                "--root",
                str(built.root),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--quiet",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
    assert proc.returncode != 0
    assert f"error[serve-port-busy]: port {port}" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_serve_prints_the_site_url(built) -> None:
    lines: list[str] = []

    class Stop(Exception):
        pass

    def echo(line: str) -> None:
        lines.append(line)
        if line.startswith("Open the catalog site"):
            raise Stop

    from pzcat_datasette.serve import serve

    with contextlib.suppress(Stop):  # stop once the URLs are printed, before serving
        serve(built, host="127.0.0.1", port=0, echo=echo)
    root = next(ln for ln in lines if ln.startswith("http://127.0.0.1:"))
    assert lines[-1] == f"Open the catalog site: {root}site/"
