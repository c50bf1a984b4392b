"""Pipeline runs requested in a pull request: who may start them, checking the changed ones.

A pending manifest (written by ``pzcat combine`` or the "Request a Combine Redshift Catalogs run"
form) makes CI run code on data of the pull request's choosing, for minutes. So
:func:`decide` lets it run only

* on a branch of the repository itself (its authors have write access), or
* when an admin of the BASE branch's ``catalog.yaml`` applies the label (``run-pipeline``) to the
  pull request; that approves the commit it was applied to: a later push needs the label again.

Outputs are pushed back to the pull request's branch when it is a branch of the repository
(:func:`push_outputs`); a fork's token is read-only, so a fork's outputs are an artifact and the
run is repeated on main after merge. :func:`reproduce_changed` reruns every published pipeline
product the pull request changed and compares the bytes (``pzcat reproduce``).
"""

from __future__ import annotations

import base64
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pzcat import git
from pzcat.catalog import Catalog
from pzcat.config import CatalogConfig
from pzcat.errors import PzcatError
from pzcat_github.actions import dig

LABEL = "run-pipeline"


@dataclass
class Decision:
    """Whether the pending runs execute, whether outputs are pushed, and why."""

    run: bool
    push: bool
    reason: str


def decide(event: dict[str, Any], config: CatalogConfig, label: str = LABEL) -> Decision:
    """Decide from a ``pull_request`` event and the trusted configuration.

    Raises
    ------
    PzcatError
        ``github-event`` when the event is not a pull request's.
    """
    pr = dig(event, "pull_request")
    if not isinstance(pr, dict):
        raise PzcatError("github-event", "the event is not a pull_request event")
    head_repo = dig(pr, "head", "repo", "full_name")
    base_repo = dig(pr, "base", "repo", "full_name")
    same_repo = bool(head_repo) and head_repo == base_repo
    action = event.get("action")
    if action == "labeled":
        name = dig(event, "label", "name")
        sender = dig(event, "sender", "login")
        if name != label:
            return Decision(False, False, f"label {name!r} is not {label!r}")
        if not config.is_admin(sender):
            return Decision(
                False,
                False,
                f"{sender} applied {label!r} but is not an admin of the base branch's catalog.yaml",
            )
        return Decision(True, same_repo, f"{label!r} applied by admin {sender}")
    if action in ("opened", "synchronize", "reopened"):
        if same_repo:
            return Decision(True, True, f"a branch of {base_repo}")
        return Decision(False, False, f"a fork ({head_repo}): an admin applies {label!r} to run")
    return Decision(False, False, f"action {action!r} does not start runs")


@dataclass
class Reproduction:
    """One changed pipeline product rerun."""

    name: str
    identical: bool
    detail: str


def changed_pipeline_products(catalog: Catalog, base: str) -> list[str]:
    """Published pipeline products whose manifest or files changed since ``base``."""
    changed = git.changed_paths(catalog.root, base)
    out = []
    for m in catalog.manifests():
        if m.provenance is None or m.status != "published":
            continue
        rel = f"manifests/{m.internal_name}.yaml"
        if rel in changed or any(c.startswith(f"products/{m.internal_name}/") for c in changed):
            out.append(m.internal_name)
    return out


def reproduce_changed(catalog: Catalog, base: str, progress=None) -> list[Reproduction]:
    """Rerun every changed published pipeline product; byte-identical or not."""
    from pzcat.runs import reproduce

    results = []
    for name in changed_pipeline_products(catalog, base):
        try:
            files = reproduce(catalog, name, progress)
        except PzcatError as exc:
            results.append(Reproduction(name, False, f"error[{exc.code}]: {exc.message}"))
            continue
        same = bool(files) and all(f.identical for f in files)
        results.append(
            Reproduction(
                name,
                same,
                ", ".join(f"{f.path} {'identical' if f.identical else 'DIFFERENT'}" for f in files),
            )
        )
    return results


def _git(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        ["git", "-C", str(root), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        env=env,
    )
    if proc.returncode != 0:
        raise PzcatError("git-unavailable", f"git {args[0]} failed: {proc.stderr.strip()[:500]}")
    return proc.stdout.strip()


def auth_env(token: str | None, remote_url: str) -> dict[str, str]:
    """The environment that lets git push to an https remote with ``token`` (never on the
    command line, never written to .git/config)."""
    env = dict(os.environ)
    if token and remote_url.startswith("https://"):
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        n = int(env.get("GIT_CONFIG_COUNT", "0") or 0)
        env.update(
            {
                "GIT_CONFIG_COUNT": str(n + 1),
                f"GIT_CONFIG_KEY_{n}": "http.extraheader",
                f"GIT_CONFIG_VALUE_{n}": f"AUTHORIZATION: basic {basic}",
            }
        )
    return env


def commit_and_push(
    root: Path,
    branch: str,
    message: str,
    paths: list[str],
    remote: str = "origin",
    token: str | None = None,
    author: str = "pzcat-bot <pzcat-bot@users.noreply.github.com>",
) -> str | None:
    """Commit ``paths`` (when they changed) and push the commit to ``remote``'s ``branch``.

    Returns
    -------
    str or None
        The new commit, or None when nothing changed.
    """
    _git(root, "add", "-A", "--", *paths)
    if (
        subprocess.run(
            ["git", "-C", str(root), "diff", "--cached", "--quiet"], check=False
        ).returncode
        == 0
    ):
        return None
    name, _, email = author.partition(" <")
    _git(
        root,
        "-c",
        f"user.name={name}",
        "-c",
        f"user.email={email.rstrip('>')}",
        "commit",
        "-q",
        "-m",
        message,
    )
    url = _git(root, "remote", "get-url", remote)
    _git(root, "push", "-q", remote, f"HEAD:refs/heads/{branch}", env=auth_env(token, url))
    return _git(root, "rev-parse", "HEAD")
