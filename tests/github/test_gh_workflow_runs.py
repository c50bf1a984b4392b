"""The workflow files themselves, run step by step here (tests/github/workflow_runner.py): the
commands as the YAML writes them, with the environment the YAML gives them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gh_helpers import ADMIN, OUTSIDER, commit_all, git, pull_request_event
from test_gh_gate import add_product
from workflow_runner import Runner, write_event

from pzcat.catalog import Catalog

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"


def cloner(source: Path, workspace: Path, default_ref: str):
    """The checkout action: clone ``source`` into workspace/<path> at <ref> (or ``default_ref``)."""

    def checkout(with_: dict) -> None:
        dest = workspace / (with_.get("path") or "")
        if dest.exists() and any(dest.iterdir()):
            return
        git(workspace.parent, "clone", "-q", str(source), str(dest))
        git(dest, "checkout", "-q", str(with_.get("ref") or default_ref))
        assert with_["persist-credentials"] is False

    return checkout


@pytest.fixture
def origin(repo, tmp_path) -> Path:
    bare = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    git(repo, "remote", "add", "origin", str(bare))
    return bare


def env_for(tmp_path: Path, event: dict, github) -> dict[str, str]:
    summary = tmp_path / "summary.md"
    summary.touch()
    return {
        "GITHUB_EVENT_PATH": str(write_event(tmp_path / "event.json", event)),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_REPOSITORY": "lsst-pz/pzcat",
        "GITHUB_API_URL": github.url,
        "GITHUB_TOKEN": github.token,
    }


def test_fork_pull_request_gate_then_sticky_comment(run, repo, pr_branch, github, tmp_path) -> None:
    base = git(repo, "rev-parse", "main")
    pr_branch("forker-branch")
    name = add_product(run, repo, "Fork official")
    path = repo / "manifests" / f"{name}.yaml"
    path.write_text(path.read_text().replace("official: false", "official: true"))
    head = commit_all(repo, "official from a fork")
    event = pull_request_event(9, OUTSIDER, head, base, head_owner="forker")
    artifacts = tmp_path / "artifacts"
    ws = tmp_path / "ws"
    ws.mkdir()
    gate = Runner(
        WORKFLOWS / "validate.yml",
        event,
        ws,
        artifacts,
        cloner(repo, ws, head),
        env_for(tmp_path, event, github),
    ).run_job("gate")
    step = gate.step("Validate")
    assert step.returncode == 1, step.output
    assert "::error file=manifests/" in step.output and "title=official-not-admin" in step.output
    assert ",line=" in step.output
    assert gate.step("Report").returncode == 0, gate.step("Report").output
    assert (artifacts / "pzcat-report" / "report.md").is_file()
    assert json.loads((artifacts / "pzcat-report" / "report.json").read_text())["pr"]["number"] == 9
    assert "pzcat report" in (tmp_path / "summary.md").read_text()

    # the trusted job: default branch code, the artifact only
    github.add_pull(
        9,
        head_sha=head,
        head_ref="forker-branch",
        head_owner="forker",
        author=OUTSIDER,
        files=[f"manifests/{name}.yaml"],
    )
    wr = {
        "action": "completed",
        "workflow_run": {
            "id": 77,
            "event": "pull_request",
            "head_sha": head,
            "head_branch": "forker-branch",
            "head_repository": {"full_name": "forker/pzcat", "owner": {"login": "forker"}},
            "html_url": "https://github.test/runs/77",
            "pull_requests": [],
        },
    }
    ws2 = tmp_path / "ws2"
    ws2.mkdir()
    (tmp_path / "e2").mkdir()
    for _ in range(2):
        job = Runner(
            WORKFLOWS / "report-comment.yml",
            wr,
            ws2,
            artifacts,
            cloner(repo, ws2, "main"),
            env_for(tmp_path / "e2", wr, github),
        ).run_job("comment")
        assert not job.failed, [s.output for s in job.steps]
    bodies = [c["body"] for c in github.comments[9]]
    assert len(bodies) == 1 and "official-not-admin" in bodies[0]


def test_combine_form_through_forms_yml(repo, origin, github, tmp_path) -> None:
    body = (
        "### Name of the combined catalog\n\nWorkflow combination\n\n### Input products\n\n1\n2"
        "\n\n### Duplicates\n\nmark\n\n### Flag cut\n\nnone\n\n### Output format\n\nparquet\n\n"
        "### Description\n\n_No response_\n"
    )
    event = {
        "action": "opened",
        "repository": {"full_name": "lsst-pz/pzcat", "default_branch": "main"},
        "issue": {
            "number": 41,
            "user": {"login": OUTSIDER},
            "labels": [{"name": "combine-request"}],
            "body": body,
        },
    }
    ws = tmp_path / "ws"
    ws.mkdir()
    job = Runner(
        WORKFLOWS / "forms.yml",
        event,
        ws,
        tmp_path / "artifacts",
        cloner(origin, ws, "main"),
        env_for(tmp_path, event, github),
    ).run_job("apply")
    assert not job.failed, [s.output for s in job.steps]
    assert (
        git(origin, "for-each-ref", "--format=%(refname:short)", "refs/heads/form")
        == "form/issue-41"
    )
    assert any(p["head"]["ref"] == "form/issue-41" for p in github.pulls.values())
    assert "Pull request" in github.comments[41][-1]["body"]


@pytest.mark.slow
def test_pipeline_yml_runs_the_pending_run_and_pushes(
    run, repo, origin, pr_branch, github, tmp_path
) -> None:
    base = git(repo, "rev-parse", "main")
    pr_branch("run-branch")
    out = run(
        "combine",
        "--name",
        "Workflow run",
        "--input",
        "1",
        "--input",
        "2",
        "--uploaded-by",
        ADMIN,
        "--root",
        str(repo),
    )
    assert out.exit_code == 0, out.output
    head = commit_all(repo, "request a run")
    git(repo, "push", "-q", "origin", "run-branch")
    event = pull_request_event(
        12,
        ADMIN,
        head,
        base,
        action="labeled",
        label={"name": "run-pipeline"},
        sender={"login": ADMIN},
    )
    event["pull_request"]["head"]["ref"] = "run-branch"
    env = env_for(tmp_path, event, github)
    ws = tmp_path / "ws"
    ws.mkdir()
    decide = Runner(
        WORKFLOWS / "pipeline.yml", event, ws, tmp_path / "artifacts", cloner(origin, ws, head), env
    ).run_job("decide")
    assert decide.outputs == {"run": "true", "push": "true"}
    ws2 = tmp_path / "ws2"
    ws2.mkdir()
    job = Runner(
        WORKFLOWS / "pipeline.yml",
        event,
        ws2,
        tmp_path / "artifacts",
        cloner(origin, ws2, head),
        env,
        needs={"decide": decide.outputs},
    ).run_job("run")
    assert not job.failed, [s.output for s in job.steps]
    assert not job.step("Keep a fork's outputs").ran
    pushed = tmp_path / "pushed"
    git(tmp_path, "clone", "-q", "--branch", "run-branch", str(origin), str(pushed))
    m = Catalog.open(pushed).get(13)
    assert m.status == "published" and m.files[0].n_rows
