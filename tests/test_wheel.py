"""pzcat as a user installs it: a wheel built from the repository, in a fresh virtual environment
outside the checkout, runs ``pzcat build``, ``pzcat serve`` and a token-gated download.

To stay fast (and offline) the fresh environment borrows the dependencies of the project's own
environment: a ``.pth`` file points at a folder of links to every entry of its site-packages except
pzcat's own (the editable install), then the wheel is installed with ``pip install --no-deps``. The
test checks that ``pzcat``, ``pzcat_datasette`` and ``site_builder`` import from the wheel's copy.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
import venv
import zipfile
from pathlib import Path

import pytest
from demo_copy import REPO, copy_catalog

pytestmark = pytest.mark.slow

SECRET = "wheel-test-secret-0123456789abcdef"
#: What the wheel is built from (the packages and their metadata; the catalog is not in the wheel).
SOURCES = (
    "pyproject.toml",
    "README.md",
    "pzcat",
    "pzcat_datasette",
    "pipelines",
    "site_builder",
    "pzcat_github",
)
OWN = ("pzcat", "pzcat_datasette", "pipelines", "site_builder", "pzcat_github")


def _tracked(repo: Path, dest: Path) -> None:
    """Copy the files of SOURCES git knows or would add (every file when git is not there)."""
    try:
        out = (
            subprocess.run(
                ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", *SOURCES],
                cwd=repo,
                capture_output=True,
                check=True,
            )
            .stdout.decode()
            .split("\0")
        )
        files = [f for f in out if f and (repo / f).is_file()]
    except (OSError, subprocess.CalledProcessError):
        files = [
            str(p.relative_to(repo))
            for s in SOURCES
            for p in ([repo / s] if (repo / s).is_file() else (repo / s).rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts
        ]
    for rel in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo / rel, target)


def _borrowed_site_packages(dest: Path) -> Path:
    """Links to the current environment's site-packages entries, pzcat's own left out."""
    site = Path(sysconfig.get_paths()["purelib"])
    dest.mkdir()
    for entry in site.iterdir():
        name = entry.name
        if (
            name.startswith(("__editable__", "pzcat-", "pzcat.", "_pzcat"))
            or name.endswith(".pth")
            or name in OWN
            or name == "__pycache__"
        ):
            continue
        (dest / name).symlink_to(entry)
    return dest


def _bin(env: Path, name: str) -> Path:
    return env / ("Scripts" if os.name == "nt" else "bin") / name


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh environment (outside the checkout) with the wheel installed; returns its folder."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    _tracked(REPO, src)
    dist = tmp / "dist"
    env_vars = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(dist),
            str(src),
        ],
        check=True,
        capture_output=True,
        env=env_vars,
        cwd=tmp,
    )
    wheel = next(dist.glob("pzcat-*.whl"))
    env = tmp / "venv"
    venv.EnvBuilder(with_pip=False).create(env)
    py = _bin(env, "python")
    purelib = Path(
        subprocess.run(
            [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    borrowed = _borrowed_site_packages(tmp / "borrowed")
    (purelib / "zz_borrowed.pth").write_text(f"{borrowed}\n", encoding="utf-8")
    # the borrowed pip installs the wheel into the fresh environment
    subprocess.run(
        [str(py), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
        env=env_vars,
        cwd=tmp,
    )
    return env


def _clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PZCAT_ROOT", "PYTHONPATH", "VIRTUAL_ENV", "GITHUB_ACTOR")
    }
    env.update(extra)
    return env


def test_wheel_has_the_package_data(installed: Path, tmp_path: Path) -> None:
    py = _bin(installed, "python")
    out = subprocess.run(
        [
            str(py),
            "-c",
            (
                "import json, pathlib, pzcat, pzcat_datasette, site_builder, pipelines, datasette\n"
                "from importlib.metadata import entry_points\n"
                "print(json.dumps({'files': [m.__file__ for m in (pzcat, pzcat_datasette, site_builder,"
                " pipelines)], 'datasette': datasette.__file__,"
                " 'plugins': [e.value for e in entry_points(group='datasette')],"
                " 'commands': sorted(e.name for e in entry_points(group='pzcat.commands'))}))"
            ),
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_clean_env(),
    ).stdout
    found = json.loads(out)
    for path in found["files"]:  # the wheel's copies
        assert Path(path).resolve().is_relative_to(installed.resolve()), path
    # the repository's datasette/ folder (configuration) never shadows the library, even from its root
    lib = subprocess.run(
        [str(py), "-c", "import datasette.app; print(datasette.app.__file__)"],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
        env=_clean_env(),
    ).stdout.strip()
    assert Path(lib).parent.name == "datasette" and not Path(lib).is_relative_to(
        REPO / "datasette"
    ), lib
    assert found["plugins"] == ["pzcat_datasette.plugin"]
    assert found["commands"] == ["combine", "github", "runs", "serve", "site"]


def test_installed_pzcat_builds_serves_and_downloads(installed: Path, tmp_path: Path) -> None:
    root = copy_catalog(tmp_path / "catalog", git=True)
    pzcat = str(_bin(installed, "pzcat"))
    env = _clean_env(PZCAT_SECRET=SECRET, PYTHONUNBUFFERED="1")
    built = subprocess.run(
        [pzcat, "build", "--root", str(root)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    assert (root / "build" / "site" / "index.html").is_file()
    assert (root / "build" / "previews.db").is_file()
    token = subprocess.run(
        [pzcat, "token", "create", "wheel-user", "--expires", "1h"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env=env,
    ).stdout.strip()
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [pzcat, "serve", "--root", str(root), "--host", "127.0.0.1", "--port", "0", "--quiet"],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
            env=env,
        )
    try:
        base = None
        deadline = time.monotonic() + 60
        while base is None and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            base = next(
                (
                    ln.strip()
                    for ln in log.read_text().splitlines()
                    if ln.startswith("http://127.0.0.1:")
                ),
                None,
            )
            time.sleep(0.1)
        assert base, log.read_text()
        name = sorted(p.stem for p in (root / "manifests").glob("*.yaml"))[0]
        url = f"{base}-/download/{name}.zip"
        with pytest.raises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(url, timeout=30)
        assert denied.value.code == 401
        assert json.loads(denied.value.read())["error"]["code"] == "token-missing"
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.status == 200
            body = response.read()
        with zipfile.ZipFile(io.BytesIO(body)) as zf:
            assert zf.testzip() is None
            assert "product_metadata.yaml" in {Path(n).name for n in zf.namelist()}
        with urllib.request.urlopen(f"{base}site/", timeout=30) as response:
            assert response.status == 200
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _dockerfile() -> tuple[list[str], dict[str, str], list[list[str]]]:
    """CMD, ENV and the `pzcat` RUN commands of the Dockerfile's final stage."""
    text = (REPO / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    final = text.split("\nFROM ")[-1]
    cmd, env, runs = [], {}, []
    for line in final.splitlines():
        word, _, rest = line.strip().partition(" ")
        if word == "CMD":
            cmd = json.loads(rest)
        elif word == "ENV":
            env.update(dict(pair.split("=", 1) for pair in rest.split()))
        elif word == "RUN":
            runs += [part.split() for part in rest.split("&&") if part.strip().startswith("pzcat ")]
    return cmd, env, runs


def test_dockerfile_cmd_serves_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    """The container's recipe without a Docker daemon: its build commands and its CMD, run with
    the wheel's pzcat and the environment the Dockerfile sets (the host and port made loopback)."""
    cmd, image_env, runs = _dockerfile()
    assert cmd[:2] == ["sh", "-c"] and "pzcat serve" in cmd[2]
    assert image_env["PZCAT_ROOT"] == "/catalog" and runs == [["pzcat", "build"]]
    root = copy_catalog(tmp_path / "catalog")
    public = "https://pz.example.org/"
    env = _clean_env(
        **{
            **image_env,
            "PZCAT_ROOT": str(root),
            "PZCAT_HOST": "127.0.0.1",
            "PZCAT_PORT": "0",
            "PZCAT_SECRET": SECRET,
            "PZCAT_DATASETTE_URL": public,
            "PYTHONUNBUFFERED": "1",
            "PATH": f"{_bin(installed, 'pzcat').parent}{os.pathsep}{os.environ['PATH']}",
        }
    )
    for run in runs:
        done = subprocess.run(
            run, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300
        )
        assert done.returncode == 0, done.stdout + done.stderr
    # the public URL comes from the environment, not catalog.yaml
    name = sorted(p.stem for p in (root / "manifests").glob("*.yaml"))[0]
    link = subprocess.run(
        ["pzcat", "link", name], capture_output=True, text=True, cwd=tmp_path, env=env, check=True
    ).stdout.strip()
    assert link.startswith(public), link
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path, env=env)
    try:
        base, deadline = None, time.monotonic() + 60
        while base is None and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            base = next(
                (
                    ln.strip()
                    for ln in log.read_text().splitlines()
                    if ln.startswith("http://127.0.0.1:")
                ),
                None,
            )
            time.sleep(0.1)
        assert base, log.read_text()
        with urllib.request.urlopen(f"{base}site/", timeout=30) as response:
            assert response.status == 200
        with urllib.request.urlopen(f"{base}-/versions.json", timeout=30) as response:
            assert response.status == 200
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
