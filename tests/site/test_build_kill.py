"""Faults during `pzcat build-site`: kill -9 at any moment leaves the served folder whole.

The site is built in a staging copy swapped in atomically (:mod:`pzcat.staging`); the build state
is saved only after the swap, so the next build redoes what the killed one did not publish. Pool
workers die with their parent.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest
import yaml

from pzcat.staging import exchange, put_text, staged_folder

PZCAT = str(Path(sys.executable).with_name("pzcat"))


def _pages(site: Path) -> dict[str, str]:
    return {p.parent.name: p.read_text(encoding="utf-8")
            for p in (site / "product").glob("*/index.html")}


def _build(root: Path) -> subprocess.Popen:
    return subprocess.Popen([PZCAT, "build-site", "--root", str(root)], cwd=root,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.slow
def test_kill_during_build_leaves_the_served_site_whole(demo_root: Path) -> None:
    site = demo_root / "build" / "site"
    assert subprocess.run([PZCAT, "build-site", "--root", str(demo_root)], cwd=demo_root,
                          capture_output=True).returncode == 0
    before = _pages(site)
    assert before and all("<html" in t for t in before.values())
    for manifest in (demo_root / "manifests").glob("*.yaml"):  # every page must be redone
        data = yaml.safe_load(manifest.read_text(encoding="utf-8"))
        data["description"] = "KILLTEST " + data["description"]  # through YAML: stays valid
        manifest.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    for delay in (0.3, 0.8, 1.5, 2.5, 4.0):
        proc = _build(demo_root)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        pages = _pages(site)
        assert set(pages) == set(before), f"after a kill at {delay} s"
        for name, text in pages.items():
            assert "<html" in text, f"{name}: a bare fragment is served after a kill at {delay} s"
            assert "KILLTEST" not in text or all("KILLTEST" in t for t in pages.values()), \
                "a mix of old and new pages"
    assert subprocess.run([PZCAT, "build-site", "--root", str(demo_root)], cwd=demo_root,
                          capture_output=True).returncode == 0
    after = _pages(site)
    assert all("<html" in t and "KILLTEST" in t for t in after.values()), \
        "the build after the kills did not redo the pages (state saved before the swap?)"
    assert not [p for p in (demo_root / "build").iterdir() if ".staging" in p.name]


def test_staged_folder_is_all_or_nothing(tmp_path: Path) -> None:
    live = tmp_path / "site"
    live.mkdir()
    (live / "a.html").write_text("old a")
    (live / "b.html").write_text("old b")
    with pytest.raises(RuntimeError), staged_folder(live) as stage:
        put_text(stage / "a.html", "new a")
        raise RuntimeError("mid-build")
    assert (live / "a.html").read_text() == "old a"
    with staged_folder(live) as stage:
        put_text(stage / "a.html", "new a")
        assert (live / "a.html").read_text() == "old a"  # hard link replaced, not written into
    assert (live / "a.html").read_text() == "new a" and (live / "b.html").read_text() == "old b"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]
    other = tmp_path / "other"
    other.mkdir()
    exchange(live, other)
    assert (other / "a.html").exists() and not (live / "a.html").exists()


def test_pool_workers_die_with_their_parent(tmp_path: Path) -> None:
    script = tmp_path / "pool.py"
    script.write_text(textwrap.dedent("""
        import multiprocessing as mp, sys, time
        from concurrent.futures import ProcessPoolExecutor
        from pzcat.staging import die_with_parent
        with ProcessPoolExecutor(2, mp_context=mp.get_context("fork"),
                                 initializer=die_with_parent) as pool:
            list(pool.map(abs, [1, 2]))
            print("ready", flush=True)
            pool.submit(time.sleep, 600)
            time.sleep(600)
    """))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    workers = [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
    assert workers
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(psutil.pid_exists(p) and
                                              psutil.Process(p).status() != "zombie"
                                              for p in workers):
        time.sleep(0.1)
    alive = [p for p in workers if psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"]
    assert not alive, f"workers outlived their parent: {alive}"
