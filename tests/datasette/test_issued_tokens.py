"""``tokens/issued.yaml`` and ``tokens/revoked.yaml`` under concurrent writers, and CLI-made tokens.

Several real processes create and revoke tokens at the same instant (as the server's workers and
an admin's ``pzcat token create`` would): no entry is lost, the files stay valid YAML.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

from ds_catalog import SECRET

from pzcat_datasette.tokens import load_issued, load_revoked, tokens_lock

WRITERS, EACH = 6, 8
WORKER = textwrap.dedent(
    """
    import sys, time
    from pzcat_datasette.tokens import create_token, record_issued, revoke_token, verify_token
    root, who, start, each = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    while time.time() < start:          # every writer starts at the same instant
        time.sleep(0.001)
    for i in range(each):
        token = create_token(f"{who}", scope="read", expires="1h")
        record_issued(root, token, note=f"{who}-{i}")
        if i % 2:
            revoke_token(root, verify_token(token).id, by=who, reason="test")
    """
)


def test_concurrent_creations_and_revocations_lose_nothing(tmp_path: Path, secret) -> None:
    env = {"PZCAT_SECRET": SECRET, "PATH": "/usr/bin:/bin"}
    start = time.time() + 2.0  # all processes are up and importing by then
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(tmp_path), f"user{k}", str(start), str(EACH)],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in range(WRITERS)
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    issued = load_issued(tmp_path)
    notes = sorted(e["note"] for e in issued)
    assert notes == sorted(f"user{k}-{i}" for k in range(WRITERS) for i in range(EACH))
    assert len({e["id"] for e in issued}) == WRITERS * EACH
    revoked = load_revoked(tmp_path)
    expected = {e["id"] for e in issued if int(e["note"].rsplit("-", 1)[1]) % 2}
    assert revoked == expected
    assert not list((tmp_path / "tokens").glob(".*"))  # no lock or temporary file left behind


def test_the_lock_excludes_another_process(tmp_path: Path) -> None:
    """While one process holds tokens_lock, another one's write waits for it."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from pzcat_datasette.tokens import tokens_lock\n"
            "with tokens_lock(sys.argv[1]):\n"
            "    print('locked', flush=True)\n"
            "    time.sleep(1.5)\n",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    t0 = time.monotonic()
    with tokens_lock(tmp_path):
        waited = time.monotonic() - t0
    holder.wait(timeout=30)
    assert waited > 0.5, waited


def test_cli_tokens_are_recorded_for_the_tokens_page(built, secret) -> None:
    env = {"PZCAT_SECRET": SECRET, "PATH": "/usr/bin:/bin", "GITHUB_ACTOR": "julia-gschwend"}
    out = subprocess.run(
        [sys.executable, "-m", "pzcat.cli", "token", "create", "carol", "--root", str(built.root)]
        + ["--scope", "read", "--expires", "2d", "--note", "from the admin"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    token = out.stdout.strip()
    assert token.startswith("pzc1.") and "listed at /-/tokens" in out.stderr
    (entry,) = load_issued(built.root)
    assert entry["user"] == "carol" and entry["scope"] == "read"
    assert entry["note"] == "from the admin" and entry["by"] == "julia-gschwend"
    assert token not in (built.root / "tokens" / "issued.yaml").read_text()  # ids only
    # outside a catalog the token is still made, and said not to be listed
    elsewhere = subprocess.run(
        [sys.executable, "-m", "pzcat.cli", "token", "create", "dave"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=built.root.parent,
    )
    assert elsewhere.stdout.startswith("pzc1.") and "not listed" in elsewhere.stderr
