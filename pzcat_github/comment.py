"""The report as one sticky comment on its pull request, posted from the artifact only.

The ``workflow_run`` job that calls :func:`post_report` runs the default branch's code with a
token that may write comments; it never checks out or runs the pull request's code. What it reads
of the pull request is data: the artifact's ``report.md`` (size-capped, made inert: the marker is
removed from it, mentions are broken) and the event's head sha. The pull request's number is
taken from GitHub (the event, else the open pull requests of the head branch whose head is that
sha), never from the artifact; the one comment is found again by a hidden marker and the bot's
login, updated, never duplicated. GitHub's own list of the pull request's files is checked
against the admin-only paths (:func:`pzcat.changes.admin_only_paths`), so a pull request that
rewrote its workflow to hide a failure still gets a trusted warning.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pzcat import changes
from pzcat.config import CatalogConfig
from pzcat.errors import PzcatError
from pzcat_github.actions import dig
from pzcat_github.api import GitHub
from pzcat_github.prreport import REPORT_JSON, REPORT_MD, cell

MARKER = "<!-- pzcat-report:sticky -->"
BOT_LOGIN = "github-actions[bot]"
#: GitHub refuses comments over 65,536 characters.
MAX_BODY = 60_000
MAX_REPORT_BYTES = 2 * 1024 * 1024
_IMAGE_RE = re.compile(r"!\[([^\]\n]{0,80})\]\(([A-Za-z0-9_.-]{1,200}\.(?:svg|png))\)")
_SHA_RE = re.compile(r"^[0-9a-f]{40}$")


@dataclass
class Posted:
    """What :func:`post_report` did."""

    number: int
    action: str  # created or updated
    comment_id: int
    url: str


def _read_capped(path: Path, limit: int) -> str:
    if path.is_symlink() or not path.is_file():
        raise PzcatError(
            "artifact-invalid",
            f"{path.name} is missing from the report artifact (or not a regular file)",
        )
    with open(path, "rb") as fh:
        raw = fh.read(limit + 1)
    if len(raw) > limit:
        raise PzcatError("artifact-invalid", f"{path.name} is over {limit:,} bytes")
    return raw.decode("utf-8", "replace")


def read_artifact(report_dir: Path) -> tuple[str, dict[str, Any]]:
    """``report.md`` and ``report.json`` of a downloaded report artifact.

    Raises
    ------
    PzcatError
        ``artifact-invalid``.
    """
    report_dir = Path(report_dir)
    markdown = _read_capped(report_dir / REPORT_MD, MAX_REPORT_BYTES)
    try:
        meta = json.loads(_read_capped(report_dir / REPORT_JSON, MAX_REPORT_BYTES))
    except json.JSONDecodeError as exc:
        raise PzcatError("artifact-invalid", f"{REPORT_JSON} is not JSON: {exc}") from None
    if not isinstance(meta, dict):
        raise PzcatError("artifact-invalid", f"{REPORT_JSON} is not a JSON object")
    return markdown, meta


def comment_body(markdown: str, run_url: str | None = None, warning: str | None = None) -> str:
    """The comment: the marker, a trusted warning if any, the report made inert, a footer."""
    text = markdown.replace(MARKER, "").replace("<!--", "&lt;!--")
    text = re.sub(r"(?<![\w`])@(?=[A-Za-z0-9])", "@\u200b", text)
    text = _IMAGE_RE.sub(
        lambda m: f"*{m.group(1) or 'picture'}: `{m.group(2)}` in the report artifact*", text
    )
    footer = "\n\n---\n<sub>Updated by the trusted `pzcat pr comment` job"
    footer += f" · [run and artifact]({run_url})</sub>\n" if run_url else ".</sub>\n"
    head = f"{MARKER}\n" + (f"> [!WARNING]\n> {warning}\n\n" if warning else "")
    room = MAX_BODY - len(head) - len(footer) - 40
    if len(text) > room:
        text = text[:room] + "\n\n… (cut: the whole report is in the artifact)"
    return head + text + footer


def find_pull_request(gh: GitHub, event: dict[str, Any]) -> int:
    """The open pull request whose head is the ``workflow_run``'s head sha.

    Raises
    ------
    PzcatError
        ``github-event`` (not a workflow_run of a pull request) or ``pr-not-found``.
    """
    run = dig(event, "workflow_run")
    if not isinstance(run, dict):
        raise PzcatError("github-event", "the event is not a workflow_run")
    sha = str(run.get("head_sha") or "")
    if not _SHA_RE.match(sha):
        raise PzcatError("github-event", "the workflow_run has no head_sha")
    for pr in run.get("pull_requests") or []:
        if dig(pr, "head", "sha") == sha and isinstance(pr.get("number"), int):
            return pr["number"]
    owner = dig(run, "head_repository", "owner", "login")
    branch = run.get("head_branch")
    if isinstance(owner, str) and isinstance(branch, str) and owner and branch:
        for pr in gh.pulls(head=f"{owner}:{branch}"):
            if dig(pr, "head", "sha") == sha and isinstance(pr.get("number"), int):
                return pr["number"]
    raise PzcatError(
        "pr-not-found",
        f"no open pull request has head {sha[:12]} "
        f"({owner}:{branch}); it may have been closed or pushed to since",
    )


def trusted_warning(gh: GitHub, number: int, config: CatalogConfig | None) -> str | None:
    """A warning from GitHub's own facts when the pull request touches admin-only paths."""
    pr = gh.pull(number)
    author = dig(pr, "user", "login")
    if config is not None and config.is_admin(author):
        return None
    names = {f.get("filename", "") for f in gh.pull_files(number) if isinstance(f, dict)}
    protected = changes.admin_only_paths({n for n in names if isinstance(n, str) and n})
    if not protected:
        return None
    shown = ", ".join(f"`{cell(p, 80)}`" for p in protected[:10])
    more = f" and {len(protected) - 10} more" if len(protected) > 10 else ""
    return (
        f"This pull request changes admin-only paths ({shown}{more}). An admin must review "
        "it; the report below was made by the pull request's own workflow run."
    )


def post_report(
    gh: GitHub,
    event: dict[str, Any],
    report_dir: Path,
    config: CatalogConfig | None = None,
    bot_login: str = BOT_LOGIN,
) -> Posted:
    """Post or update the one sticky report comment of the pull request of ``event``."""
    if Path(report_dir, REPORT_MD).exists() or Path(report_dir, REPORT_JSON).exists():
        markdown, meta = read_artifact(report_dir)
    else:
        # the run left no report (it failed early, or the pull request changed its workflow)
        conclusion = dig(event, "workflow_run", "conclusion", default="unknown")
        markdown = (
            f"## pzcat report: ❌ no report\n\nThe validate run ended with conclusion "
            f"`{cell(str(conclusion), 30)}` and left no `pzcat-report` artifact. Open the "
            "run's log; an admin must look at this pull request before it is merged.\n"
        )
        meta = {}
    number = find_pull_request(gh, event)
    claimed = dig(meta, "pr", "number")
    if claimed is not None and claimed != number:
        raise PzcatError(
            "artifact-invalid",
            f"the artifact says pull request {claimed!r}, GitHub says {number}: refusing to post",
        )
    run_url = dig(event, "workflow_run", "html_url")
    body = comment_body(
        markdown, run_url if isinstance(run_url, str) else None, trusted_warning(gh, number, config)
    )
    mine = [
        c
        for c in gh.comments(number)
        if isinstance(c, dict)
        and MARKER in (c.get("body") or "")
        and dig(c, "user", "login") == bot_login
    ]
    if mine:
        done = gh.update_comment(mine[0]["id"], body)
        return Posted(number, "updated", int(done["id"]), str(done.get("html_url", "")))
    done = gh.create_comment(number, body)
    return Posted(number, "created", int(done["id"]), str(done.get("html_url", "")))
