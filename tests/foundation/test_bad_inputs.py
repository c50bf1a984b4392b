"""The bad-input corpus (tests/bad_inputs/): every case gives its codes, no traceback, no write.

Each case is validated twice, with the library (``validate_catalog``) and with the command
(``pzcat validate --format json`` in a subprocess), on a private copy of the case folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from pzcat import codes as codes_module
from pzcat.catalog import Catalog
from pzcat.cli import cli
from pzcat.codes import CODES
from pzcat.errors import PzcatError
from pzcat.validate import validate_catalog

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "bad_inputs"
CASES = sorted(d.name for d in CORPUS.iterdir() if (d / "expected.yaml").is_file())
#: Groups whose every code must be produced by at least one corpus case.
CORPUS_GROUPS = ("manifest", "file", "table", "description", "catalog")
#: Codes of those groups that only commands produce; covered in test_products.py.
COMMAND_ONLY = {"product-not-found": "test_products.py::test_unknown_product"}
#: Cases also run through a real `pzcat` subprocess (the others use click's CliRunner, in-process).
SUBPROCESS_CASES = {
    "yaml_syntax",
    "catalog_config_invalid",
    "git_bad_ref",
    "symlink_escape",
    "truncated_parquet",
    "corrupt_fits",
    "hdf5_without_table",
    "html_script",
}


def expected_of(case: str) -> dict[str, Any]:
    return yaml.safe_load((CORPUS / case / "expected.yaml").read_text(encoding="utf-8"))


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        [
            "git",
            "-c",
            "user.name=corpus",
            "-c",
            "user.email=corpus@example.org",
            "-c",
            "commit.gpgsign=false",
            *args,
        ],
        cwd=root,
        check=True,
        capture_output=True,
    )


def materialize(case: str, dest: Path) -> tuple[Path, dict[str, Any]]:
    """Copy a case into ``dest`` as a repository, and do its run-time setup."""
    src = CORPUS / case
    expected = expected_of(case)
    setup = expected.get("setup") or {}
    root = dest / "repo"
    root.mkdir(parents=True)
    for item in src.iterdir():
        if item.name in ("expected.yaml", "base"):
            continue
        if item.is_dir():
            shutil.copytree(item, root / item.name, symlinks=True)
        else:
            shutil.copy2(item, root / item.name)
    if not (root / "catalog.yaml").exists():
        shutil.copy2(CORPUS / "_base" / "catalog.yaml", root / "catalog.yaml")
    for link in setup.get("symlinks", []):
        where = root / link["link"]
        if where.is_dir() and not where.is_symlink():
            shutil.rmtree(where)
        elif where.exists() or where.is_symlink():
            where.unlink()
        where.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(root / link["to"], where)
    if "git" in setup:
        after = dest / "after-manifests"
        shutil.move(root / "manifests", after)
        base = src / setup["git"]["base"] / "manifests"
        if base.is_dir():
            shutil.copytree(base, root / "manifests")
        _git(root, "init", "-q", "-b", "main")
        _git(root, "add", "-A")
        _git(root, "commit", "-qm", "base", "--allow-empty")
        if (root / "manifests").exists():
            shutil.rmtree(root / "manifests")
        shutil.move(after, root / "manifests")
    return root, expected


def _check(
    codes: set[str], issues: list[dict[str, Any]], expected: dict[str, Any], how: str
) -> None:
    want = set(expected["codes"])
    allowed = want | set(expected.get("also") or [])
    assert want <= codes, f"{how}: expected {sorted(want)}, got {sorted(codes)}"
    assert codes <= allowed, f"{how}: unexpected {sorted(codes - allowed)} (got {sorted(codes)})"
    for spec in expected.get("issues") or []:
        found = [i for i in issues if all(i.get(k) == v for k, v in spec.items())]
        assert found, f"{how}: no issue matches {spec}; issues: {issues}"


@pytest.mark.parametrize("case", CASES)
def test_case(case: str, tmp_path: Path, snapshot, pzcat) -> None:
    root, expected = materialize(case, tmp_path)
    git = (expected.get("setup") or {}).get("git") or {}
    before = snapshot(root)

    # the library
    try:
        report = validate_catalog(
            Catalog.open(root), changed_since=git.get("changed_since"), author=git.get("author")
        )
    except PzcatError as exc:
        lib_codes, lib_issues, lib_valid = {exc.code}, [exc.to_dict()], False
    else:
        lib_codes = report.codes()
        lib_issues = [i.to_dict() for i in report.all_issues]
        lib_valid = report.valid
        for issue in report.all_issues:
            assert issue.message and issue.severity in ("error", "warning")
            assert issue.code in CODES, f"{issue.code} is not a registered code"
    _check(lib_codes, lib_issues, expected, "library")
    assert lib_valid == (expected["exit"] == 0)
    assert snapshot(root) == before, "validation changed files on disk"

    # the command
    args = ["validate", "--root", str(root), "--format", "json"]
    if git:
        args += ["--changed-since", git["changed_since"], "--author", git["author"]]
    if case in SUBPROCESS_CASES:
        out = pzcat(*args)
        assert "Traceback" not in out.stderr, out.stderr
    else:
        out = CliRunner().invoke(cli, args, env={"PZCAT_ROOT": None, "GITHUB_ACTOR": None})
        assert out.exception is None or isinstance(out.exception, SystemExit), out.exc_info
        out.returncode = out.exit_code
    assert out.returncode == expected["exit"], (out.returncode, out.stdout[-2000:], out.stderr)
    if out.stdout.strip():
        data = json.loads(out.stdout)
        cli_issues = data["errors"] + [
            i for p in data["products"] for i in p["errors"] + p["warnings"]
        ]
        assert data["valid"] == (expected["exit"] == 0)
    else:
        first = out.stderr.strip().splitlines()[0]
        assert first.startswith("error[") and "]: " in first, out.stderr
        cli_issues = [{"code": first[len("error[") : first.index("]")]}]
    cli_codes = {i["code"] for i in cli_issues}
    _check(cli_codes, cli_issues, expected, "pzcat validate")
    assert cli_codes == lib_codes
    assert snapshot(root) == before, "pzcat validate changed files on disk"


def test_corpus_size_and_shape() -> None:
    assert len(CASES) >= 40
    for case in CASES:
        expected = expected_of(case)
        assert set(expected) <= {"description", "codes", "also", "exit", "issues", "setup"}, case
        assert expected["codes"], case
        assert expected["description"], case
        for code in expected["codes"] + (expected.get("also") or []):
            assert code in CODES, f"{case}: unknown code {code}"
        errors = [c for c in expected["codes"] if CODES[c].severity == "error"]
        assert expected["exit"] == (2 if expected["exit"] == 2 else int(bool(errors))), case


def test_every_code_has_a_case() -> None:
    covered = {c for case in CASES for c in expected_of(case)["codes"]}
    # the core's own codes (pzcat.codes._ALL): extensions register theirs in CODES when imported
    needed = {c.code for c in codes_module._ALL if c.group in CORPUS_GROUPS}
    missing = needed - covered - set(COMMAND_ONLY)
    assert not missing, f"codes without a bad-input case: {sorted(missing)}"


def test_corpus_is_what_the_script_makes(tmp_path: Path) -> None:
    """make_corpus.py reproduces the committed cases and their expectations."""
    out = tmp_path / "corpus"
    subprocess.run(
        [sys.executable, str(CORPUS / "make_corpus.py"), "--out", str(out)],
        check=True,
        capture_output=True,
        cwd=REPO,
    )
    made = sorted(d.name for d in out.iterdir() if (d / "expected.yaml").is_file())
    assert made == CASES
    for case in CASES:
        assert (out / case / "expected.yaml").read_text() == (
            CORPUS / case / "expected.yaml"
        ).read_text(), case
        files = sorted(
            p.relative_to(out / case).as_posix() for p in (out / case).rglob("*") if p.is_file()
        )
        committed = sorted(
            p.relative_to(CORPUS / case).as_posix()
            for p in (CORPUS / case).rglob("*")
            if p.is_file()
        )
        assert files == committed, case
