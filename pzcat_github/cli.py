"""``pzcat pr ...`` and ``pzcat form ...``: the commands the workflows run.

Registered on the ``pzcat`` group like the site's and the pipeline's commands. Every command
takes GitHub's environment (``GITHUB_EVENT_PATH``, ``GITHUB_API_URL``, ``GITHUB_REPOSITORY``,
``GITHUB_TOKEN``, ``GITHUB_STEP_SUMMARY``, ``GITHUB_OUTPUT``) as on Actions, and options to
override it in tests or by hand.
"""

from __future__ import annotations

from pathlib import Path

import click

from pzcat.catalog import Catalog
from pzcat.clitools import coded, open_catalog, root_option


def _event_option(help: str):
    return click.option(
        "--event",
        "event_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help=help,
    )


def _repo_option():
    return click.option("--repo", default=None, help="owner/name (default $GITHUB_REPOSITORY).")


def _trusted_config_option(required: bool, help: str):
    return click.option("--trusted-config", required=required, metavar="FILE_OR_REF", help=help)


def _base_option(**kwargs):
    return click.option("--base", metavar="GIT_REF", **kwargs)


def _remote_option():
    return click.option("--remote", default="origin", show_default=True)


def _step_end(line: str | None, summary: str | None = None, **outputs: object) -> None:
    """The end of a workflow step: the job summary, the step outputs (booleans as ``true``/
    ``false``, None as empty), one line on stdout."""
    from pzcat_github.actions import append_summary, set_outputs

    if summary is not None:
        append_summary(summary)
    if outputs:
        set_outputs(
            **{
                k: str(v).lower() if isinstance(v, bool) else "" if v is None else str(v)
                for k, v in outputs.items()
            }
        )
    if line is not None:
        click.echo(line)


def judged(root: Path | None, trusted: str | None) -> Catalog:
    """The catalog, judged by a trusted catalog.yaml's admins and limits when one is given."""
    from pzcat import changes

    catalog = open_catalog(root)
    if trusted:
        catalog.config = changes.judged_config(
            catalog.config, changes.trusted_config(catalog.root, trusted)
        )
    return catalog


@click.group("pr")
def pr_group() -> None:
    """Pull-request workflow steps: report, comment, pipeline decision, reproduce."""


@pr_group.command("report")
@_base_option(required=True, help="The pull request's base.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Report folder (default <root>/build/pr-report).",
)
@click.option(
    "--author",
    metavar="USER",
    help="The pull request's author (default: from the pull_request event).",
)
@_trusted_config_option(
    False, "catalog.yaml whose admins and limits judge the change (the base's)."
)
@_event_option("Event payload (default $GITHUB_EVENT_PATH, optional).")
@root_option
@coded
def pr_report(
    base: str,
    out_dir: Path | None,
    author: str | None,
    trusted_config: str | None,
    event_path: Path | None,
    root: Path | None,
) -> None:
    """Write the Markdown report of the changed products (and their pictures).

    Also appended to $GITHUB_STEP_SUMMARY; exit 0 whatever the verdict (the gate is
    `pzcat validate`), 2 when it could not run.

    \b
    Example:
      pzcat pr report --base origin/main --author octocat --out build/pr-report
    """
    import os

    from pzcat_github.actions import dig, load_event
    from pzcat_github.prreport import build_report

    event = load_event(event_path) if (event_path or os.environ.get("GITHUB_EVENT_PATH")) else {}
    pr = dig(event, "pull_request", default={})
    facts = {
        "number": pr.get("number"),
        "head_sha": dig(pr, "head", "sha"),
        "author": dig(pr, "user", "login"),
    }
    catalog = judged(root, trusted_config)
    target = out_dir or catalog.root / "build" / "pr-report"
    report = build_report(
        catalog,
        base,
        target,
        author=author or facts["author"],
        pr={k: v for k, v in facts.items() if v is not None},
    )
    _step_end(
        f"report: {len(report.products)} products, "
        f"{'valid' if report.valid else 'INVALID'} -> {target}",
        report.to_markdown(pictures=False),
        valid=report.valid,
        report=target,
    )


@pr_group.command("comment")
@click.option(
    "--report",
    "report_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The downloaded report artifact (report.md, report.json).",
)
@_event_option("The workflow_run payload (default $GITHUB_EVENT_PATH).")
@_repo_option()
@click.option(
    "--bot-login",
    default="github-actions[bot]",
    show_default=True,
    help="Login of the comment's author (to find it again).",
)
@root_option
@coded
def pr_comment(
    report_dir: Path,
    event_path: Path | None,
    repo: str | None,
    bot_login: str,
    root: Path | None,
) -> None:
    """Post the report as the pull request's one sticky comment (created or updated).

    Runs on workflow_run with the default branch's code; reads only the artifact.
    """
    from pzcat.errors import PzcatError
    from pzcat_github.actions import load_event
    from pzcat_github.api import GitHub
    from pzcat_github.comment import post_report

    try:
        config = open_catalog(root).config
    except PzcatError:
        config = None
    posted = post_report(
        GitHub(repo), load_event(event_path), report_dir, config=config, bot_login=bot_login
    )
    _step_end(
        f"{posted.action} comment {posted.comment_id} on pull request {posted.number}",
        pr=posted.number,
        comment=posted.comment_id,
    )


@pr_group.command("pipeline-decision")
@_trusted_config_option(True, "The base branch's catalog.yaml (whose admins may apply the label).")
@click.option("--label", default="run-pipeline", show_default=True)
@_event_option("The pull_request payload (default $GITHUB_EVENT_PATH).")
@root_option
@coded
def pr_pipeline_decision(
    trusted_config: str, label: str, event_path: Path | None, root: Path | None
) -> None:
    """Decide whether a pull request's pending runs execute (outputs run, push, reason)."""
    from pzcat import changes
    from pzcat_github.actions import load_event
    from pzcat_github.pipeline import decide

    config = changes.trusted_config(Path(root or "."), trusted_config)
    d = decide(load_event(event_path), config, label)
    _step_end(
        f"run={str(d.run).lower()} push={str(d.push).lower()}: {d.reason}",
        f"Pipeline runs: {'run' if d.run else 'not run'} ({d.reason}).",
        run=d.run,
        push=d.push,
        reason=d.reason,
    )


@pr_group.command("reproduce")
@_base_option(required=True, help="The pull request's base.")
@root_option
@coded
def pr_reproduce(base: str, root: Path | None) -> None:
    """Rerun the pipeline products changed since BASE; exit 1 unless all are byte-identical."""
    import sys

    from pzcat_github.pipeline import reproduce_changed

    results = reproduce_changed(open_catalog(root), base)
    lines = [
        f"{'identical' if r.identical else 'NOT REPRODUCED'}  {r.name}  {r.detail}" for r in results
    ] or ["no changed pipeline product"]
    _step_end("\n".join(lines), "### pzcat reproduce\n\n" + "\n".join(f"- {ln}" for ln in lines))
    if not all(r.identical for r in results):
        sys.exit(1)


@pr_group.command("push-outputs")
@click.option("--branch", required=True, help="The pull request's branch.")
@_remote_option()
@root_option
@coded
def pr_push_outputs(branch: str, remote: str, root: Path | None) -> None:
    """Commit manifests/ and products/ and push them to the branch ($GITHUB_TOKEN for https)."""
    import os

    from pzcat_github.pipeline import commit_and_push

    catalog = open_catalog(root)
    commit = commit_and_push(
        catalog.root,
        branch,
        "Run the pending pipeline products",
        ["manifests", "products"],
        remote=remote,
        token=os.environ.get("GITHUB_TOKEN"),
    )
    _step_end(f"pushed {commit} to {branch}" if commit else "nothing to push", commit=commit)


@click.group("form")
def form_group() -> None:
    """Issue forms: submit a product, request a Combine Redshift Catalogs run."""


@form_group.command("apply")
@_event_option("The issues payload (default $GITHUB_EVENT_PATH).")
@click.option("--base", default="main", show_default=True, help="Branch the pull request targets.")
@_remote_option()
@_repo_option()
@click.option(
    "--max-download-bytes",
    type=click.IntRange(min=1),
    default=2 * 1024**3,
    show_default=True,
    help="Largest file a form may name (fetched to be checked).",
)
@click.option(
    "--allow-loopback", is_flag=True, hidden=True, help="Accept URLs on 127.0.0.1 (tests only)."
)
@root_option
@coded
def form_apply(
    event_path: Path | None,
    base: str,
    remote: str,
    repo: str | None,
    max_download_bytes: int,
    allow_loopback: bool,
    root: Path | None,
) -> None:
    """Turn a submitted issue form into a branch and a pull request, answer on the issue.

    Exit 0 with a pull request, 1 with coded errors (then no branch exists).
    """
    import os
    import sys

    from pzcat.catalog import find_root
    from pzcat_github.actions import load_event
    from pzcat_github.api import GitHub
    from pzcat_github.forms import answer_text, apply_issue

    outcome = apply_issue(
        Path(root) if root else find_root(),
        load_event(event_path),
        GitHub(repo),
        base=base,
        remote=remote,
        token=os.environ.get("GITHUB_TOKEN"),
        max_bytes=max_download_bytes,
        allow_loopback=allow_loopback,
    )
    _step_end(
        f"pull request {outcome.pr_url} for {outcome.product} ({outcome.branch})"
        if outcome.ok
        else None,
        answer_text(outcome),
        ok=outcome.ok,
        pr=outcome.pr_url,
        codes=",".join(e.code for e in outcome.errors),
    )
    if outcome.ok:
        return
    for err in outcome.errors:
        click.echo(f"error[{err.code}]: {err.message}", err=True)
    sys.exit(1)


COMMANDS = [pr_group, form_group]


def register(cli: click.Group) -> None:
    """Add the ``pr`` and ``form`` groups to the ``pzcat`` command group (idempotent)."""
    for command in COMMANDS:
        cli.add_command(command)
