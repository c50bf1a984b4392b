"""One atomic write: every file the packages write goes through :mod:`pzcat.files` or :mod:`pzcat.staging`.

A lint over the source (like tests/test_layout.py): a raw write (``write_bytes``, ``write_text``,
``open(..., "w")``, ``to_parquet``, ``os.replace``...) anywhere else fails, naming the file, line and
function. The few writes that are already inside an atomic temporary are listed in ``ALLOWED`` with
the reason; a new raw write must use ``atomic_write_*``, ``atomic_open``, ``atomic_path`` or
``publish`` instead (or, if it truly is inside one, be added there with its reason).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pzcat.files import atomic_open, atomic_path, atomic_write_bytes, temp_sibling
from pzcat.staging import remove_dead_temps

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["pzcat", "pzcat_datasette", "pzcat_github", "pipelines", "site_builder"]
HOMES = {"pzcat/files.py", "pzcat/staging.py"}

# (file, function) -> why its raw write is atomic anyway
ALLOWED = {
    ("pzcat/readers/compressed.py", "decompressed_copy"): "a scratch file in the system temp "
    "folder (tempfile.mkstemp), removed by the caller; never a catalog file",
    ("pzcat_github/actions.py", "append_summary"): "appends to the file GitHub Actions gives "
    "($GITHUB_STEP_SUMMARY): the runner's protocol is an append",
    ("pzcat_github/actions.py", "set_outputs"): "same ($GITHUB_OUTPUT)",
    ("pzcat/products.py", "add_product"): "copies the files into the Staging folder, which is "
    "moved into place whole",
    ("pzcat/products.py", "_edit_files"): "same (edit/attach/detach)",
    ("pzcat_datasette/previews.py", "_open_work_copy"): "copies the database to its temp_sibling, "
    "published by pzcat.files.publish",
    ("pzcat_datasette/launch.py", "start_serve"): "the log a server subprocess writes as it runs",
    ("pzcat_datasette/api/processes.py", "_file_lock"): "a lock file (opened to flock, never "
    "written)",
    ("pzcat_datasette/api/processes.py", "_run"): "the log a run subprocess writes as it runs",
    ("site_builder/build.py", "_build_site"): "an empty .nojekyll inside the staged site folder",
    ("pipelines/combine/writers.py", "_write_csv"): "writes the temporary path that "
    "write_output's atomic_path publishes",
    ("pipelines/combine/writers.py", "_write_fits"): "same",
}

METHODS = {
    "write_bytes",
    "write_text",
    "to_parquet",
    "to_csv",
    "to_hats",
    "writeto",
    "to_hdf",
    "touch",
}
FUNCTIONS = {
    ("os", "replace"),
    ("os", "rename"),
    ("shutil", "move"),
    ("shutil", "copy"),
    ("shutil", "copy2"),
    ("shutil", "copyfile"),
    ("shutil", "copytree"),
    ("tempfile", "mkstemp"),
}
OPENERS = {("os", "fdopen"), ("io", "open")}


def _mode(call: ast.Call) -> str | None:
    node = call.args[1] if len(call.args) > 1 else None
    for kw in call.keywords:
        if kw.arg == "mode":
            node = kw.value
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _writes(tree: ast.AST) -> list[tuple[int, str, str]]:
    """(line, function, what) of every raw write in a module."""
    found: list[tuple[int, str, str]] = []

    def visit(node: ast.AST, func: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = func
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = child.name
            if isinstance(child, ast.Call):
                f = child.func
                what = None
                if isinstance(f, ast.Attribute):
                    base = f.value.id if isinstance(f.value, ast.Name) else None
                    if (base, f.attr) in FUNCTIONS:
                        what = f"{base}.{f.attr}"
                    elif (base, f.attr) in OPENERS:
                        mode = _mode(child) or "r"
                        what = (
                            f"{base}.{f.attr}(mode={mode!r})" if set(mode) & set("wax+") else None
                        )
                    elif f.attr in METHODS:
                        what = f".{f.attr}()"
                elif isinstance(f, ast.Name) and f.id == "open":
                    mode = _mode(child) or "r"
                    what = f"open(mode={mode!r})" if set(mode) & set("wax+") else None
                if what:
                    found.append((child.lineno, func, what))
            visit(child, name)

    visit(tree, "<module>")
    return found


def test_no_raw_write_outside_the_atomic_homes():
    stray, used = [], set()
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel in HOMES:
                continue
            for line, func, what in _writes(ast.parse(path.read_text(encoding="utf-8"))):
                if (rel, func) in ALLOWED:
                    used.add((rel, func))
                else:
                    stray.append(f"{rel}:{line} in {func}: {what}")
    assert stray == [], "raw writes outside pzcat.files/pzcat.staging:\n" + "\n".join(stray)
    assert used == set(ALLOWED), f"stale ALLOWED entries: {set(ALLOWED) - used}"


def test_the_lint_finds_raw_writes():
    src = (
        "def f(p):\n"
        "    p.write_text('x')\n"
        "    open(p, 'wb')\n"
        "    open(p)\n"
        "    os.replace(p, p)\n"
        "    df.to_parquet(p)\n"
    )
    assert [(line, what) for line, _, what in _writes(ast.parse(src))] == [
        (2, ".write_text()"),
        (3, "open(mode='wb')"),
        (5, "os.replace"),
        (6, ".to_parquet()"),
    ]


def test_atomic_writes_leave_nothing_on_failure(tmp_path):
    target = tmp_path / "x.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_open(target) as fh:
        fh.write(b"half")
        raise RuntimeError("killed half-way")
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "folder") as tmp:
        tmp.mkdir()
        (tmp / "part").write_bytes(b"x")
        raise RuntimeError("killed half-way")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.bin"]
    atomic_write_bytes(target, b"new")
    with atomic_path(tmp_path / "folder") as tmp:  # a folder is published whole
        tmp.mkdir()
        (tmp / "part").write_bytes(b"x")
    assert target.read_bytes() == b"new" and (tmp_path / "folder" / "part").is_file()


def test_temporaries_name_their_process(tmp_path):
    """A killed write leaves a pid-named temporary that the next run removes."""
    mine = temp_sibling(tmp_path / "a.parquet")
    mine.write_bytes(b"running")
    dead = tmp_path / ".a.parquet.4000000.deadbeef.tmp"  # above pid_max: never alive
    dead.write_bytes(b"killed")
    assert remove_dead_temps(tmp_path) == [dead]
    assert mine.exists()
