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
    from pzcat.cli import coded, open_catalog, root_option

    if "pr" in cli.commands:
        return

    def judged(root: Path | None, trusted: str | None):
        from pzcat import changes

        catalog = open_catalog(root)
        if trusted:
            catalog.config = changes.judged_config(
                catalog.config, changes.trusted_config(catalog.root, trusted))
        return catalog

    @cli.group("pr")
    def pr_group() -> None:
        """Pull-request workflow steps: report, comment, pipeline decision, reproduce."""

    @pr_group.command("report")
    @click.option("--base", required=True, metavar="GIT_REF", help="The pull request's base.")
    @click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
                  default=None, help="Report folder (default <root>/build/pr-report).")
    @click.option("--author", metavar="USER", help="The pull request's author "
                  "(default: from the pull_request event).")
    @click.option("--trusted-config", metavar="FILE_OR_REF",
                  help="catalog.yaml whose admins and limits judge the change (the base's).")
    @click.option("--event", "event_path", type=click.Path(dir_okay=False, path_type=Path),
                  default=None, help="Event payload (default $GITHUB_EVENT_PATH, optional).")
    @root_option
    @coded
    def pr_report(base: str, out_dir: Path | None, author: str | None,
                  trusted_config: str | None, event_path: Path | None, root: Path | None) -> None:
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

        event = load_event(event_path) if (event_path or os.environ.get("GITHUB_EVENT_PATH")) \
            else {}
        pr = dig(event, "pull_request", default={})
        facts = {"number": pr.get("number"), "head_sha": dig(pr, "head", "sha"),
                 "author": dig(pr, "user", "login")}
        catalog = judged(root, trusted_config)
        target = out_dir or catalog.root / "build" / "pr-report"
        report = build_report(catalog, base, target, author=author or facts["author"],
                              pr={k: v for k, v in facts.items() if v is not None})
        append_summary(report.to_markdown(pictures=False))
        set_outputs(valid=str(report.valid).lower(), report=str(target))
        click.echo(f"report: {len(report.products)} products, "
                   f"{'valid' if report.valid else 'INVALID'} -> {target}")

    @pr_group.command("comment")
    @click.option("--report", "report_dir", required=True,
                  type=click.Path(file_okay=False, path_type=Path),
                  help="The downloaded report artifact (report.md, report.json).")
    @click.option("--event", "event_path", type=click.Path(dir_okay=False, path_type=Path),
                  default=None, help="The workflow_run payload (default $GITHUB_EVENT_PATH).")
    @click.option("--repo", default=None, help="owner/name (default $GITHUB_REPOSITORY).")
    @click.option("--bot-login", default="github-actions[bot]", show_default=True,
                  help="Login of the comment's author (to find it again).")
    @root_option
    @coded
    def pr_comment(report_dir: Path, event_path: Path | None, repo: str | None, bot_login: str,
                   root: Path | None) -> None:
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
        posted = post_report(GitHub(repo), load_event(event_path), report_dir, config=config,
                             bot_login=bot_login)
        set_outputs(pr=str(posted.number), comment=str(posted.comment_id))
        click.echo(f"{posted.action} comment {posted.comment_id} on pull request {posted.number}")
