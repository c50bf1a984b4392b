"""`pzcat pr report` (Markdown, pictures, step summary) and `pzcat pr comment` (one sticky comment
posted from the artifact only, against the loopback API stand-in)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from gh_helpers import ADMIN, OUTSIDER, commit_all, git, outputs, pull_request_event, write_csv
from test_gh_gate import add_product

from pzcat_github.comment import MARKER


@pytest.fixture
def reported(run, repo, pr_branch, actions_env, tmp_path):
    """A fork pull request adding one product and editing another; its report artifact."""
    base = git(repo, "rev-parse", "main")
    pr_branch("forker-branch")
    name = add_product(run, repo, "Forked sample")
    out = run(
        "edit",
        "1",
        "--description",
        "A new | description with @someone",
        "--author",
        OUTSIDER,
        "--root",
        str(repo),
    )
    assert out.exit_code == 0, out.output
    extra = write_csv(tmp_path / "extra.csv", n=5)
    assert run("attach", "1", str(extra), "--root", str(repo)).exit_code == 0
    head = commit_all(repo, "fork changes")
    env = actions_env(pull_request_event(7, OUTSIDER, head, base, head_owner="forker"))
    art = tmp_path / "artifact"
    out = run(
        "pr",
        "report",
        "--base",
        base,
        "--out",
        str(art),
        "--trusted-config",
        base,
        "--root",
        str(repo),
        env=env,
    )
    assert out.exit_code == 0, out.output
    return {"name": name, "art": art, "env": env, "head": head, "base": base}


def test_report_describes_each_changed_product(reported) -> None:
    art = reported["art"]
    md = (art / "report.md").read_text()
    meta = json.loads((art / "report.json").read_text())
    assert meta["valid"] is True and meta["pr"] == {
        "number": 7,
        "head_sha": reported["head"],
        "author": OUTSIDER,
    }
    states = {p["name"]: p for p in meta["products"]}
    new, edited = states[reported["name"]], states["1_vvds_final_release_sample"]
    assert new["state"] == "new" and edited["state"] == "changed"
    assert edited["version"][1] == edited["version"][0] + 2
    assert [f["change"] for f in edited["files"]] == ["added"]
    assert {m["key"] for m in edited["metadata"]} == {"description"}
    # pictures from the site's plot code, beside the report
    assert set(new["pictures"].values()) <= {p.name for p in art.iterdir()}
    assert (art / f"{reported['name']}-sky.png").read_bytes().startswith(b"\x89PNG")
    assert (art / f"{reported['name']}-nz.svg").read_text().startswith("<svg")
    assert f"![sky map]({reported['name']}-sky.svg)" in md
    # untrusted values are escaped: no table broken by |, no mention
    assert "A new \\| description with @\u200bsomeone" in md
    summary = Path(reported["env"]["GITHUB_STEP_SUMMARY"]).read_text()
    assert "pzcat report" in summary and "![" not in summary
    assert outputs(reported["env"])["valid"] == "true"


def test_report_of_a_failing_pull_request_lists_codes_and_fixes(
    run, repo, pr_branch, actions_env, tmp_path
) -> None:
    pr_branch("bad")
    git(repo, "rm", "-rq", "manifests/4_6dfgs_dr3_sample.yaml", "products/4_6dfgs_dr3_sample")
    name = add_product(run, repo)
    p = repo / "manifests" / f"{name}.yaml"
    p.write_text(p.read_text().replace("official: false", "official: true"))
    commit_all(repo, "bad")
    out = run(
        "pr",
        "report",
        "--base",
        "main",
        "--out",
        str(tmp_path / "a"),
        "--author",
        OUTSIDER,
        "--trusted-config",
        "main",
        "--root",
        str(repo),
        env=actions_env({}),
    )
    assert out.exit_code == 0
    md = (tmp_path / "a" / "report.md").read_text()
    assert "❌ the gate fails" in md
    assert "`official-not-admin`" in md and "`product-deleted`" in md and "(deleted)" in md
    assert "Ask an admin" in md  # the code's fix


def workflow_run_event(reported: dict, pull_requests: list | None = None) -> dict:
    return {
        "action": "completed",
        "workflow_run": {
            "id": 99,
            "event": "pull_request",
            "conclusion": "success",
            "head_sha": reported["head"],
            "head_branch": "forker-branch",
            "head_repository": {"full_name": "forker/pzcat", "owner": {"login": "forker"}},
            "html_url": "https://github.test/lsst-pz/pzcat/actions/runs/99",
            "pull_requests": pull_requests or [],
        },
    }


def test_fork_report_is_posted_once_from_the_artifact_only(
    run, reported, github, actions_env, tmp_path
) -> None:
    github.add_pull(
        7,
        head_sha=reported["head"],
        head_ref="forker-branch",
        head_owner="forker",
        author=OUTSIDER,
        files=["manifests/x.yaml"],
    )
    github.add_comment(7, f"{MARKER} I am not the bot", "mallory")
    for i in range(3):
        github.add_comment(7, f"chatter {i}", "someone")
    github.page_size = 2  # the comment listing needs pagination to find the bot's
    # the artifact alone, moved away from the repository: no checkout is needed
    art = tmp_path / "downloaded"
    shutil.copytree(reported["art"], art)
    env = actions_env(
        workflow_run_event(reported), GITHUB_API_URL=github.url, GITHUB_TOKEN=github.token
    )
    for expected in ("created", "updated", "updated"):
        out = run(
            "pr", "comment", "--report", str(art), "--root", str(tmp_path / "nowhere"), env=env
        )
        assert out.exit_code == 0, out.output
        assert out.output.startswith(expected)
    mine = [c for c in github.comments[7] if c["user"]["login"] == "github-actions[bot]"]
    assert len(mine) == 1
    body = mine[0]["body"]
    assert body.startswith(MARKER) and body.count(MARKER) == 1
    assert "pzcat report" in body and "in the report artifact" in body and "![" not in body
    assert github.comments[7][0]["body"] == f"{MARKER} I am not the bot"  # not touched
    assert all(r["auth"] == f"Bearer {github.token}" for r in github.requests)
    assert outputs(env)["pr"] == "7"


def test_admin_only_paths_get_a_trusted_warning(run, reported, github, actions_env) -> None:
    github.add_pull(
        7,
        head_sha=reported["head"],
        head_ref="forker-branch",
        head_owner="forker",
        author=OUTSIDER,
        files=[".github/workflows/validate.yml", "manifests/a.yaml"],
    )
    env = actions_env(
        workflow_run_event(reported), GITHUB_API_URL=github.url, GITHUB_TOKEN=github.token
    )
    assert run("pr", "comment", "--report", str(reported["art"]), env=env).exit_code == 0
    body = github.comments[7][0]["body"]
    assert "[!WARNING]" in body and ".github/workflows/validate.yml" in body


def test_comment_refuses_an_artifact_for_another_pull_request(
    run, reported, github, actions_env
) -> None:
    github.add_pull(
        8, head_sha=reported["head"], head_ref="forker-branch", head_owner="forker", author=ADMIN
    )
    env = actions_env(
        workflow_run_event(reported), GITHUB_API_URL=github.url, GITHUB_TOKEN=github.token
    )
    out = run("pr", "comment", "--report", str(reported["art"]), env=env)
    assert out.exit_code == 1 and "artifact-invalid" in out.output
    assert not github.comments.get(8)


def test_comment_without_a_matching_pull_request(run, reported, github, actions_env) -> None:
    github.add_pull(
        7, head_sha="f" * 40, head_ref="forker-branch", head_owner="forker", author=OUTSIDER
    )  # pushed to since: the head moved on
    env = actions_env(
        workflow_run_event(reported), GITHUB_API_URL=github.url, GITHUB_TOKEN=github.token
    )
    out = run("pr", "comment", "--report", str(reported["art"]), env=env)
    assert out.exit_code == 1 and "pr-not-found" in out.output


def test_a_run_without_artifact_gets_a_trusted_comment(
    run, reported, github, actions_env, tmp_path
) -> None:
    github.add_pull(
        7,
        head_sha=reported["head"],
        head_ref="forker-branch",
        head_owner="forker",
        author=OUTSIDER,
        files=[".github/workflows/validate.yml"],
    )
    event = workflow_run_event(reported)
    event["workflow_run"]["conclusion"] = "failure"
    env = actions_env(event, GITHUB_API_URL=github.url, GITHUB_TOKEN=github.token)
    empty = tmp_path / "no-artifact"
    empty.mkdir()
    out = run("pr", "comment", "--report", str(empty), env=env)
    assert out.exit_code == 0, out.output
    body = github.comments[7][0]["body"]
    assert "no report" in body and "`failure`" in body and "[!WARNING]" in body
