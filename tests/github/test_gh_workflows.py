"""The workflows, issue forms and Dockerfile pass zizmor (offline), actionlint, check-jsonschema
(vendored GitHub schemas) and hadolint with no finding, and follow the house rules of GUIDE.md."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
FORMS = sorted(
    p for p in (REPO / ".github" / "ISSUE_TEMPLATE").glob("*.yml") if p.name != "config.yml"
)
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)\s*(#.*)?$")


def tool(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    exe = BIN / name
    assert exe.exists(), f"{name} is a dev dependency: pip install -e '.[dev]'"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=REPO, timeout=300)


def test_zizmor_offline_finds_nothing() -> None:
    out = tool("zizmor", "--offline", "--persona=pedantic", "--no-progress", ".github/")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "No findings to report" in out.stdout + out.stderr


def test_actionlint_finds_nothing() -> None:
    out = tool("actionlint", "-no-color", *[str(p) for p in WORKFLOWS])
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize(
    ("schema", "files"),
    [
        ("vendor.github-workflows", WORKFLOWS),
        ("vendor.github-issue-forms", FORMS),
        ("vendor.github-issue-config", [REPO / ".github" / "ISSUE_TEMPLATE" / "config.yml"]),
    ],
)
def test_check_jsonschema_vendored_schemas(schema: str, files: list[Path]) -> None:
    assert files
    out = tool("check-jsonschema", "--builtin-schema", schema, *[str(p) for p in files])
    assert out.returncode == 0, out.stdout + out.stderr


def test_hadolint_finds_nothing() -> None:
    out = tool("hadolint", "--no-color", "Dockerfile")
    assert out.returncode == 0, out.stdout + out.stderr


def _jobs(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_house_rules(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    on = data.get(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    assert "pull_request_target" not in (on if isinstance(on, dict) else {on: None})
    assert data.get("permissions") == {}, "workflow-level permissions: {} (jobs ask for theirs)"
    assert "concurrency" in data
    for line in text.splitlines():
        m = USES.match(line)
        if m:
            ref = m.group(1)
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), (
                f"not pinned to a SHA: {ref}"
            )
            assert m.group(2) and re.match(r"#\s*v\d+\.\d+\.\d+", m.group(2)), f"no version: {line}"
    for name, job in data["jobs"].items():
        assert "permissions" in job, f"{path.name}:{name} has no permissions"
        for step in job.get("steps", []):
            run = step.get("run", "")
            assert "${{" not in run, f"{path.name}:{name}: event data inside run: (use env:)"
            uses = step.get("uses", "")
            if uses.startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, f"{path.name}:{name}"
            if uses.startswith("actions/setup-python@"):
                assert step["with"]["cache"] == "pip"


def test_only_trusted_code_runs_where_the_pull_request_is_data() -> None:
    """validate.yml and pipeline.yml install the BASE branch's pzcat, never the pull request's."""
    for name in ("validate.yml", "pipeline.yml"):
        for job in _jobs(REPO / ".github" / "workflows" / name).values():
            installs = [s["run"] for s in job["steps"] if "pip install" in s.get("run", "")]
            assert installs and all("./trusted" in r for r in installs), (name, installs)
    comment = _jobs(REPO / ".github" / "workflows" / "report-comment.yml")["comment"]
    checkouts = [s for s in comment["steps"] if s.get("uses", "").startswith("actions/checkout@")]
    assert all(
        "ref" not in s.get("with", {}) and "repository" not in s.get("with", {}) for s in checkouts
    )
