"""The gate: `pzcat validate --changed-since BASE --author USER --trusted-config BASE --format github`
on pull-request branches of a real git repository, judged by the base's catalog.yaml."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from gh_helpers import ADMIN, OUTSIDER, commit_all, git, write_csv

GATE = ("validate", "--changed-since", "main", "--trusted-config", "main", "--format", "github")


def add_product(
    run, root: Path, name: str = "Outsider sample", *extra: str, user: str = OUTSIDER
) -> str:
    csv = write_csv(root.parent / "incoming" / "sample.csv")
    out = run(
        "add",
        name,
        "--type",
        "redshift_catalog",
        "--main",
        str(csv),
        "--uploaded-by",
        user,
        "--root",
        str(root),
        *extra,
    )
    assert out.exit_code == 0, out.output
    return re.search(r"added (\S+)", out.output).group(1)


def annotations(output: str) -> list[tuple[str, dict[str, str]]]:
    """(title, properties) of every ::error/::warning line."""
    found = []
    for line in output.splitlines():
        m = re.match(r"::(error|warning) ([^:]*)::", line)
        if m:
            props = dict(p.split("=", 1) for p in m.group(2).split(","))
            found.append((props["title"], props))
    return found


def test_good_product_passes(run, repo, pr_branch) -> None:
    pr_branch("good")
    add_product(run, repo)
    commit_all(repo, "add a product")
    out = run(*GATE, "--author", OUTSIDER, "--root", str(repo))
    assert out.exit_code == 0, out.output
    assert not [t for t, _ in annotations(out.output)]


def test_outsider_setting_official_fails_on_its_line(run, repo, pr_branch) -> None:
    pr_branch("official")
    name = add_product(run, repo)
    path = repo / "manifests" / f"{name}.yaml"
    text = path.read_text().replace("official: false", "official: true")
    path.write_text(text)
    commit_all(repo, "official")
    out = run(*GATE, "--author", OUTSIDER, "--root", str(repo))
    assert out.exit_code == 1
    found = dict(annotations(out.output))
    assert "official-not-admin" in found
    line = int(found["official-not-admin"]["line"])
    assert text.splitlines()[line - 1].startswith("official:")
    # the same change by an admin of the base passes
    assert run(*GATE, "--author", ADMIN, "--root", str(repo)).exit_code == 0


def test_outsider_adding_himself_to_admins_still_fails(run, repo, pr_branch) -> None:
    pr_branch("self-admin")
    cfg = yaml.safe_load((repo / "catalog.yaml").read_text())
    cfg["admins"].append(OUTSIDER)
    (repo / "catalog.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    name = add_product(run, repo, "Self made official", "--official")  # the PR's own config says ok
    assert yaml.safe_load((repo / "manifests" / f"{name}.yaml").read_text())["official"] is True
    commit_all(repo, "make myself admin")
    out = run(*GATE, "--author", OUTSIDER, "--root", str(repo))
    assert out.exit_code == 1
    titles = {t for t, _ in annotations(out.output)}
    assert {"official-not-admin", "admin-only-path"} <= titles
    # without the trusted configuration the PR's own admin list would have let it through
    lax = run(
        "validate",
        "--changed-since",
        "main",
        "--author",
        OUTSIDER,
        "--format",
        "github",
        "--root",
        str(repo),
    )
    assert "official-not-admin" not in lax.output


def test_deleted_manifest_fails(run, repo, pr_branch) -> None:
    pr_branch("delete")
    git(repo, "rm", "-rq", "manifests/4_6dfgs_dr3_sample.yaml", "products/4_6dfgs_dr3_sample")
    commit_all(repo, "delete a product")
    out = run(*GATE, "--author", ADMIN, "--root", str(repo))
    assert out.exit_code == 1
    found = dict(annotations(out.output))
    assert found["product-deleted"]["file"] == "manifests/4_6dfgs_dr3_sample.yaml"


def test_outsider_touching_code_or_tokens_fails(run, repo, pr_branch) -> None:
    pr_branch("code")
    (repo / "pzcat").mkdir()
    (repo / "pzcat" / "validate.py").write_text("def validate_catalog(*a, **k):\n    return None\n")
    (repo / "tokens").mkdir(exist_ok=True)
    (repo / "tokens" / "revoked.yaml").write_text("revoked: []\n")
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "validate.yml").write_text("on: push\n")
    commit_all(repo, "touch code")
    out = run(*GATE, "--author", OUTSIDER, "--root", str(repo))
    assert out.exit_code == 1
    flagged = {p["file"] for t, p in annotations(out.output) if t == "admin-only-path"}
    assert flagged == {"pzcat/validate.py", "tokens/revoked.yaml", ".github/workflows/validate.yml"}
    assert run(*GATE, "--author", ADMIN, "--root", str(repo)).exit_code == 0


def test_trusted_config_that_is_not_there_cannot_run(run, repo) -> None:
    out = run(
        "validate",
        "--changed-since",
        "main",
        "--trusted-config",
        "no-such-ref",
        "--root",
        str(repo),
    )
    assert out.exit_code == 2
    assert "git-unavailable" in out.output
