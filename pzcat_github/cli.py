"""``pzcat pr ...`` and ``pzcat form ...``: the commands the workflows run.

Registered on the ``pzcat`` group like the site's and the pipeline's commands. Every command
takes GitHub's environment (``GITHUB_EVENT_PATH``, ``GITHUB_API_URL``, ``GITHUB_REPOSITORY``,
``GITHUB_TOKEN``, ``GITHUB_STEP_SUMMARY``, ``GITHUB_OUTPUT``) as on Actions, and options to
override it in tests or by hand.
"""

from __future__ import annotations

from pathlib import Path

import click


def register(cli: click.Group) -> None:
    """Add the ``pr`` and ``form`` groups to the ``pzcat`` command group (idempotent)."""
    from pzcat.clitools import coded, open_catalog, root_option

    if "pr" in cli.commands:
        return

    def judged(root: Path | None, trusted: str | None):
        from pzcat import changes

        catalog = open_catalog(root)
        if trusted:
            catalog.config = changes.judged_config(
                catalog.config, changes.trusted_config(catalog.root, trusted)
            )
        return catalog

    @cli.group("pr")
    def pr_group() -> None:
        """Pull-request workflow steps: report, comment, pipeline decision, reproduce."""

    @pr_group.command("report")
    @click.option("--base", required=True, metavar="GIT_REF", help="The pull request's base.")
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
    @click.option(
        "--trusted-config",
        metavar="FILE_OR_REF",
        help="catalog.yaml whose admins and limits judge the change (the base's).",
    )
    @click.option(
        "--event",
        "event_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Event payload (default $GITHUB_EVENT_PATH, optional).",
    )
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

        from pzcat_github.actions import append_summary, dig, load_event, set_outputs
        from pzcat_github.prreport import build_report

        event = (
            load_event(event_path) if (event_path or os.environ.get("GITHUB_EVENT_PATH")) else {}
        )
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
        append_summary(report.to_markdown(pictures=False))
        set_outputs(valid=str(report.valid).lower(), report=str(target))
        click.echo(
            f"report: {len(report.products)} products, "
            f"{'valid' if report.valid else 'INVALID'} -> {target}"
        )

    @pr_group.command("comment")
    @click.option(
        "--report",
        "report_dir",
        required=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="The downloaded report artifact (report.md, report.json).",
    )
    @click.option(
        "--event",
        "event_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="The workflow_run payload (default $GITHUB_EVENT_PATH).",
    )
    @click.option("--repo", default=None, help="owner/name (default $GITHUB_REPOSITORY).")
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
        from pzcat_github.actions import load_event, set_outputs
        from pzcat_github.api import GitHub
        from pzcat_github.comment import post_report

        try:
            config = open_catalog(root).config
        except PzcatError:
            config = None
        posted = post_report(
            GitHub(repo), load_event(event_path), report_dir, config=config, bot_login=bot_login
        )
        set_outputs(pr=str(posted.number), comment=str(posted.comment_id))
        click.echo(f"{posted.action} comment {posted.comment_id} on pull request {posted.number}")

    @pr_group.command("pipeline-decision")
    @click.option(
        "--trusted-config",
        required=True,
        metavar="FILE_OR_REF",
        help="The base branch's catalog.yaml (whose admins may apply the label).",
    )
    @click.option("--label", default="run-pipeline", show_default=True)
    @click.option(
        "--event",
        "event_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="The pull_request payload (default $GITHUB_EVENT_PATH).",
    )
    @root_option
    @coded
    def pr_pipeline_decision(
        trusted_config: str, label: str, event_path: Path | None, root: Path | None
    ) -> None:
        """Decide whether a pull request's pending runs execute (outputs run, push, reason)."""
        from pzcat import changes
        from pzcat_github.actions import append_summary, load_event, set_outputs
        from pzcat_github.pipeline import decide

        config = changes.trusted_config(Path(root or "."), trusted_config)
        d = decide(load_event(event_path), config, label)
        set_outputs(run=str(d.run).lower(), push=str(d.push).lower(), reason=d.reason)
        append_summary(f"Pipeline runs: {'run' if d.run else 'not run'} ({d.reason}).")
        click.echo(f"run={str(d.run).lower()} push={str(d.push).lower()}: {d.reason}")

    @pr_group.command("reproduce")
    @click.option("--base", required=True, metavar="GIT_REF")
    @root_option
    @coded
    def pr_reproduce(base: str, root: Path | None) -> None:
        """Rerun the pipeline products changed since BASE; exit 1 unless all are byte-identical."""
        import sys

        from pzcat_github.actions import append_summary
        from pzcat_github.pipeline import reproduce_changed

        results = reproduce_changed(open_catalog(root), base)
        lines = [
            f"{'identical' if r.identical else 'NOT REPRODUCED'}  {r.name}  {r.detail}"
            for r in results
        ] or ["no changed pipeline product"]
        click.echo("\n".join(lines))
        append_summary("### pzcat reproduce\n\n" + "\n".join(f"- {ln}" for ln in lines))
        if not all(r.identical for r in results):
            sys.exit(1)

    @pr_group.command("push-outputs")
    @click.option("--branch", required=True, help="The pull request's branch.")
    @click.option("--remote", default="origin", show_default=True)
    @root_option
    @coded
    def pr_push_outputs(branch: str, remote: str, root: Path | None) -> None:
        """Commit manifests/ and products/ and push them to the branch ($GITHUB_TOKEN for https)."""
        import os

        from pzcat_github.actions import set_outputs
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
        set_outputs(commit=commit or "")
        click.echo(f"pushed {commit} to {branch}" if commit else "nothing to push")

    @cli.group("form")
    def form_group() -> None:
        """Issue forms: submit a product, request a Combine Redshift Catalogs run."""

    @form_group.command("apply")
    @click.option(
        "--event",
        "event_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="The issues payload (default $GITHUB_EVENT_PATH).",
    )
    @click.option(
        "--base", default="main", show_default=True, help="Branch the pull request targets."
    )
    @click.option("--remote", default="origin", show_default=True)
    @click.option("--repo", default=None, help="owner/name (default $GITHUB_REPOSITORY).")
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
        from pzcat_github.actions import append_summary, load_event, set_outputs
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
        append_summary(answer_text(outcome))
        set_outputs(
            ok=str(outcome.ok).lower(),
            pr=outcome.pr_url or "",
            codes=",".join(e.code for e in outcome.errors),
        )
        if outcome.ok:
            click.echo(f"pull request {outcome.pr_url} for {outcome.product} ({outcome.branch})")
            return
        for err in outcome.errors:
            click.echo(f"error[{err.code}]: {err.message}", err=True)
        sys.exit(1)
