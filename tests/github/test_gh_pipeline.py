"""Pending runs of a pull request: who may start them (`pzcat pr pipeline-decision`), pushing
outputs to the branch (`pzcat pr push-outputs`), reproducing changed pipeline products."""

from __future__ import annotations

import pytest
from gh_helpers import ADMIN, OUTSIDER, commit_all, git, outputs, pull_request_event

PIPELINE_PRODUCT = "12_combined_reference_redshifts"


def event(
    action: str, head_owner: str = "lsst-pz", label: str | None = None, sender: str = OUTSIDER
) -> dict:
    e = pull_request_event(
        5,
        OUTSIDER,
        "a" * 40,
        "b" * 40,
        head_owner=head_owner,
        action=action,
        sender={"login": sender},
    )
    if label is not None:
        e["label"] = {"name": label}
    return e


@pytest.mark.parametrize(
    ("payload", "run_", "push"),
    [
        (event("synchronize"), "true", "true"),  # a branch of the repository
        (event("opened", head_owner="forker"), "false", "false"),  # a fork: waits for the label
        (event("labeled", "forker", "run-pipeline", ADMIN), "true", "false"),
        (event("labeled", "forker", "run-pipeline", OUTSIDER), "false", "false"),
        (event("labeled", "forker", "bug", ADMIN), "false", "false"),
        (event("labeled", "lsst-pz", "run-pipeline", ADMIN), "true", "true"),
        (event("closed"), "false", "false"),
    ],
)
def test_pipeline_decision(run, repo, actions_env, payload, run_, push) -> None:
    env = actions_env(payload)
    out = run(
        "pr",
        "pipeline-decision",
        "--trusted-config",
        str(repo / "catalog.yaml"),
        "--root",
        str(repo),
        env=env,
    )
    assert out.exit_code == 0, out.output
    got = outputs(env)
    assert (got["run"], got["push"]) == (run_, push), got["reason"]


def test_the_label_is_judged_by_the_trusted_admins(run, repo, pr_branch, actions_env) -> None:
    """A fork that lists its author as admin in its own catalog.yaml is still refused."""
    pr_branch("fork")
    (repo / "catalog.yaml").write_text(
        (repo / "catalog.yaml").read_text().replace("admins:\n", f"admins:\n  - {OUTSIDER}\n")
    )
    commit_all(repo, "self admin")
    env = actions_env(event("labeled", "forker", "run-pipeline", OUTSIDER))
    out = run("pr", "pipeline-decision", "--trusted-config", "main", "--root", str(repo), env=env)
    assert out.exit_code == 0 and outputs(env)["run"] == "false"


def test_push_outputs_to_the_branch(run, repo, pr_branch, tmp_path) -> None:
    bare = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    git(repo, "remote", "add", "origin", str(bare))
    pr_branch("pr-5")
    git(repo, "push", "-q", "origin", "pr-5")
    assert (
        run("pr", "push-outputs", "--branch", "pr-5", "--root", str(repo)).output.strip()
        == "nothing to push"
    )
    manifest = repo / "manifests" / f"{PIPELINE_PRODUCT}.yaml"
    manifest.write_text(manifest.read_text() + "\n")
    out = run("pr", "push-outputs", "--branch", "pr-5", "--root", str(repo))
    assert out.exit_code == 0, out.output
    assert git(bare, "rev-parse", "pr-5") == git(repo, "rev-parse", "HEAD")
    assert git(bare, "log", "-1", "--format=%an", "pr-5") == "pzcat-bot"


@pytest.mark.slow
def test_changed_pipeline_products_are_reproduced(run, repo, pr_branch, actions_env) -> None:
    pr_branch("edit-run")
    out = run(
        "edit",
        PIPELINE_PRODUCT,
        "--description",
        "Same run, new words.",
        "--author",
        ADMIN,
        "--root",
        str(repo),
    )
    assert out.exit_code == 0, out.output
    commit_all(repo, "describe the run")
    env = actions_env({})
    out = run("pr", "reproduce", "--base", "main", "--root", str(repo), env=env)
    assert out.exit_code == 0, out.output
    assert out.output.startswith(f"identical  {PIPELINE_PRODUCT}")
    # an output that is not what its provenance makes
    main = next((repo / "products" / PIPELINE_PRODUCT).iterdir())
    main.write_bytes(main.read_bytes()[:-10] + b"0123456789")
    out = run("pr", "reproduce", "--base", "main", "--root", str(repo), env=env)
    assert out.exit_code == 1 and "NOT REPRODUCED" in out.output


def test_no_changed_pipeline_product(run, repo, pr_branch, actions_env) -> None:
    pr_branch("nothing")
    out = run("pr", "reproduce", "--base", "main", "--root", str(repo), env=actions_env({}))
    assert out.exit_code == 0 and "no changed pipeline product" in out.output
