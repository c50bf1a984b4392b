"""Issue forms -> a branch and a pull request: the Photo-z Server's upload and pipeline forms.

``.github/ISSUE_TEMPLATE/submit-product.yml`` and ``combine-run.yml`` render, when submitted, a
Markdown body of ``### <label>`` sections. :func:`parse_body` reads it (Python, never a shell);
:func:`apply_issue` checks every field, downloads the files (size limit and sha256 checked while
streaming; over the in-repository limit, a file is registered by its URL with its facts), builds
the product with the library's own :func:`pzcat.products.add_product` or
:func:`pipelines.combine.lifecycle.create_combine` in a temporary worktree on a new branch ``form/issue-<n>``,
commits, pushes, opens the pull request and answers on the issue. Any error: the worktree and the
branch are removed, nothing is pushed, and the answer lists the coded errors.

``official`` is granted only when the issue's author is an admin of the checked-out (default)
branch's ``catalog.yaml``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pzcat.catalog import Catalog
from pzcat.errors import PzcatError
from pzcat_github.actions import dig
from pzcat_github.fetch import DEFAULT_MAX_BYTES, download
from pzcat_github.pipeline import auth_env

SUBMIT_LABEL, COMBINE_LABEL = "submission", "combine-request"
#: Form labels (the ``label:`` of each field in the YAML forms) -> field names.
SUBMIT_FIELDS = {
    "Product name": "name",
    "Product type": "type",
    "Release": "release",
    "Description": "description",
    "Files": "files",
    "Format of the main file": "format",
    "Column association": "columns",
    "Licence": "license",
    "Citation": "citation",
    "Official": "official",
}
COMBINE_FIELDS = {
    "Name of the combined catalog": "name",
    "Input products": "inputs",
    "Duplicates": "duplicates",
    "Flag cut": "cut",
    "Output format": "format",
    "Description": "description",
}
REQUIRED = {
    SUBMIT_LABEL: ("name", "type", "description", "files"),
    COMBINE_LABEL: ("name", "inputs"),
}
NO_RESPONSE = "_No response_"
MAX_BODY = 65_536
_HEADING = re.compile(r"^###[ \t]+(.+?)[ \t]*$")
_SHA = re.compile(r"^[0-9a-fA-F]{64}$")
_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
_ROLE_COLUMN = re.compile(r"^([a-z_]+)\s*=\s*(\S.{0,199})$")


def parse_body(body: str) -> dict[str, str]:
    """The ``### label`` sections of an issue form's body: label -> value ("" for no response).

    Examples
    --------
    >>> parse_body("### Product name\\n\\nMy sample\\n\\n### Release\\n\\n_No response_\\n")
    {'Product name': 'My sample', 'Release': ''}
    """
    out: dict[str, str] = {}
    label, lines = None, []
    for line in (body or "")[:MAX_BODY].replace("\r\n", "\n").split("\n"):
        m = _HEADING.match(line)
        if m:
            if label is not None:
                out[label] = "\n".join(lines).strip()
            label, lines = m.group(1), []
        elif label is not None:
            lines.append(line)
    if label is not None:
        out[label] = "\n".join(lines).strip()
    return {k: ("" if v == NO_RESPONSE else v) for k, v in out.items()}


@dataclass
class FileRequest:
    """One line of the form's Files field: ``URL [sha256=HEX] [role=...]``."""

    url: str
    sha256: str | None
    role: str
    filename: str


@dataclass
class Outcome:
    """What :func:`apply_issue` did: a pull request, or coded errors (and no branch)."""

    kind: str
    branch: str
    errors: list[PzcatError] = field(default_factory=list)
    pr_url: str | None = None
    pr_number: int | None = None
    product: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


def _fields(kind: str, body: str) -> dict[str, str]:
    labels = SUBMIT_FIELDS if kind == SUBMIT_LABEL else COMBINE_FIELDS
    parsed = parse_body(body)
    return {name: parsed.get(label, "") for label, name in labels.items()}


def check_name(name: str) -> str:
    """A product name as given in a form: one line of text, no path.

    Raises
    ------
    PzcatError
        ``form-bad-name``.
    """
    name = name.strip()
    if (
        "/" in name
        or "\\" in name
        or ".." in name
        or name.startswith(("~", "."))
        or any(ord(c) < 32 for c in name)
        or len(name) > 200
    ):
        raise PzcatError(
            "form-bad-name",
            f"the name {name[:80]!r} must be one line of text without "
            "a path ('/', '\\\\', '..', leading '.' or '~'), at most 200 characters",
            key="name",
        )
    return name


def parse_files(text: str) -> list[FileRequest]:
    """The Files field: one file a line, the first is the main file.

    Raises
    ------
    PzcatError
        ``bad-url`` or ``form-invalid``.
    """
    out: list[FileRequest] = []
    for n, line in enumerate(ln.strip() for ln in text.splitlines()):
        if not line or line.startswith("#"):
            continue
        tokens = line.split()
        url, opts = tokens[0].strip("<>"), {}
        for tok in tokens[1:]:
            key, sep, value = tok.partition("=")
            if not sep or key not in ("sha256", "role"):
                raise PzcatError(
                    "form-invalid",
                    f"Files, line {n + 1}: {tok!r} is not sha256=HEX or role=auxiliary|description",
                    key="files",
                )
            opts[key] = value
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise PzcatError(
                "bad-url", f"Files, line {n + 1}: {url[:200]!r} is not an http(s) URL", key="files"
            )
        sha = opts.get("sha256")
        if sha is not None and not _SHA.match(sha):
            raise PzcatError(
                "form-invalid", f"Files, line {n + 1}: sha256 must be 64 hex digits", key="files"
            )
        role = opts.get("role") or ("main" if not out else "auxiliary")
        if role not in ("main", "auxiliary", "description") or (role == "main" and out):
            raise PzcatError(
                "form-invalid",
                f"Files, line {n + 1}: role {role!r} (the first line is "
                "the main file; others are auxiliary or description)",
                key="files",
            )
        filename = urllib.parse.unquote(parts.path.rsplit("/", 1)[-1])
        if not _FILENAME.match(filename) or ".." in filename:
            raise PzcatError(
                "form-invalid",
                f"Files, line {n + 1}: the URL must end with a plain "
                f"file name (letters, digits, . _ -), got {filename[:80]!r}",
                key="files",
            )
        if any(f.filename == filename for f in out):
            raise PzcatError(
                "form-invalid", f"Files: two files are named {filename!r}", key="files"
            )
        out.append(FileRequest(url, sha.lower() if sha else None, role, filename))
    if not out:
        raise PzcatError(
            "form-field-missing", "Files: give at least the main file's URL", key="files"
        )
    return out


def parse_columns(text: str) -> list[str]:
    """The Column association field: ``ROLE=COLUMN`` a line (``z_flag=QUALITY``)."""
    out = []
    for line in (ln.strip() for ln in text.replace(",", "\n").splitlines()):
        if not line:
            continue
        m = _ROLE_COLUMN.match(line)
        if not m:
            raise PzcatError(
                "form-invalid",
                f"Column association: {line[:80]!r} is not ROLE=COLUMN",
                key="columns",
            )
        out.append(f"{m.group(1)}={m.group(2).strip()}")
    return out


def _checked(value: str) -> bool:
    return bool(re.search(r"^\s*-\s*\[[xX]\]", value, re.M))


def form_kind(issue: dict[str, Any]) -> str:
    """``submission`` or ``combine-request`` from the issue's labels.

    Raises
    ------
    PzcatError
        ``form-unknown``.
    """
    labels = {dig(lb, "name") for lb in issue.get("labels") or [] if isinstance(lb, dict)}
    for kind in (SUBMIT_LABEL, COMBINE_LABEL):
        if kind in labels:
            return kind
    raise PzcatError(
        "form-unknown",
        f"the issue has neither label {SUBMIT_LABEL!r} nor "
        f"{COMBINE_LABEL!r}: it is not one of the catalog's forms",
    )


def check_form(
    catalog: Catalog, kind: str, values: dict[str, str], author: str
) -> list[PzcatError]:
    """Every problem of the form's fields that can be seen before downloading anything."""
    errors: list[PzcatError] = []
    for name in REQUIRED[kind]:
        if not values.get(name, "").strip():
            errors.append(
                PzcatError("form-field-missing", f"the field {name!r} is required", key=name)
            )
    if values.get("name"):
        try:
            check_name(values["name"])
        except PzcatError as exc:
            errors.append(exc)
    if kind == SUBMIT_LABEL:
        ptype = values.get("type", "").strip()
        if ptype and catalog.config.product_type(ptype) is None:
            errors.append(
                PzcatError(
                    "unknown-product-type",
                    f"product type {ptype[:80]!r} is not "
                    f"one of {[t.display_name for t in catalog.config.product_types]}",
                    key="type",
                )
            )
        for parse, key in ((parse_files, "files"), (parse_columns, "columns")):
            if values.get(key):
                try:
                    parse(values[key])
                except PzcatError as exc:
                    errors.append(exc)
        if _checked(values.get("official", "")) and not catalog.config.is_admin(author):
            errors.append(
                PzcatError(
                    "official-not-admin",
                    f"only admins ({catalog.config.admins}) "
                    f"may submit official products; {author} is not one",
                    key="official",
                )
            )
    else:
        cut = values.get("cut", "").strip().lower()
        if cut not in ("", "none") and not cut.isdigit():
            errors.append(
                PzcatError(
                    "form-invalid",
                    f"Flag cut {cut[:20]!r} is not none or a homogenized flag (1-4)",
                    key="cut",
                )
            )
    return errors


# -- git ------------------------------------------------------------------------------------------


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


def _branch_exists(root: Path, remote: str, branch: str, token: str | None) -> bool:
    """Whether ``branch`` exists here or on ``remote``."""
    local = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--verify", "-q", f"refs/heads/{branch}"],
        capture_output=True,
        check=False,
    )
    if local.returncode == 0:
        return True
    url = _git(root, "remote", "get-url", remote)
    return bool(
        _git(root, "ls-remote", "--heads", remote, f"refs/heads/{branch}", env=auth_env(token, url))
    )


# -- building the product -------------------------------------------------------------------------


def _build_submission(
    work: Catalog,
    values: dict[str, str],
    author: str,
    downloads: Path,
    max_bytes: int,
    allow_loopback: bool,
) -> str:
    from pzcat.products import add_product, attach_file, describe_file, suggest_columns
    from pzcat.validate import validate_manifest

    files = parse_files(values["files"])
    got = {
        f.filename: download(f.url, downloads / f.filename, max_bytes, f.sha256, allow_loopback)
        for f in files
    }
    limit = work.config.limits.max_file_bytes
    main = files[0]
    big = got[main.filename].size > limit
    fmt = values.get("format", "").strip().lower()
    fmt = None if fmt in ("", "guess from the file name") else fmt
    local_aux = [f for f in files[1:] if got[f.filename].size <= limit]
    desc = next((f for f in local_aux if f.role == "description"), None)
    columns = parse_columns(values.get("columns", ""))
    facts = None
    if big:
        # registered by URL, with the facts of the downloaded bytes (read here, not kept)
        facts = describe_file(got[main.filename].path, None, "main", fmt or _guess(main.filename))
        given = {c.split("=", 1)[0] for c in columns}
        columns = [
            f"{r}={c}" for r, c in suggest_columns(facts.columns or []).items() if r not in given
        ] + columns
    m = add_product(
        work,
        name=check_name(values["name"]),
        product_type=values["type"].strip(),
        uploaded_by=author,
        main_file=None if big else got[main.filename].path,
        url=main.url if big else None,
        fmt=fmt or (None if not big else _guess(main.filename)),
        release=values.get("release", "").strip() or None,
        description=values.get("description", ""),
        description_file=got[desc.filename].path if desc else None,
        aux_files=[got[f.filename].path for f in local_aux if f is not desc],
        columns=columns,
        official=_checked(values.get("official", "")) and work.config.is_admin(author),
        license=values.get("license", "").strip() or "CC-BY-4.0",
        citation=values.get("citation", "").strip() or None,
    )
    if facts is not None:
        entry = m.files[0]
        entry.size, entry.sha256 = facts.size, facts.sha256
        entry.columns, entry.n_rows = facts.columns, facts.n_rows
        path = work.save(m)
        report = validate_manifest(work, path)
        if not report.valid:
            first = report.errors[0]
            raise PzcatError(first.code, first.message, file=first.file)
    for f in files[1:]:
        if got[f.filename].size > limit:
            m = attach_file(work, m.internal_name, url=f.url, role=f.role)
    return m.internal_name


def _guess(filename: str) -> str:
    from pzcat.tables import guess_format

    return guess_format(Path(filename))


def _build_combine(work: Catalog, values: dict[str, str], author: str) -> str:
    from pipelines.combine.lifecycle import create_combine

    inputs = [
        ln.strip().lstrip("-* ").strip()
        for ln in values["inputs"].replace(",", "\n").splitlines()
        if ln.strip()
    ]
    cut = values.get("cut", "").strip().lower()
    fmt = values.get("format", "").strip().lower() or None
    dup = values.get("duplicates", "").strip().lower() or None
    config = {"cut": int(cut)} if cut.isdigit() else {}
    m = create_combine(
        work,
        name=check_name(values["name"]),
        inputs=inputs,
        uploaded_by=author,
        duplicates=dup,
        fmt=fmt,
        description=values.get("description", ""),
        config=config,
    )
    return m.internal_name


def apply_issue(
    root: Path,
    event: dict[str, Any],
    gh: Any,
    base: str = "main",
    remote: str = "origin",
    token: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    allow_loopback: bool = False,
) -> Outcome:
    """Turn an ``issues`` event's form into a pushed branch and a pull request.

    Parameters
    ----------
    root : Path
        The checked-out repository (the default branch: trusted code and configuration).
    event : dict
        The ``issues`` payload.
    gh : pzcat_github.api.GitHub
        Opens the pull request and answers on the issue.
    base : str
        The branch the pull request targets.

    Returns
    -------
    Outcome
        With ``errors`` (coded) and no branch anywhere, or the pull request's URL.
    """
    issue = dig(event, "issue")
    if not isinstance(issue, dict) or not isinstance(issue.get("number"), int):
        raise PzcatError("github-event", "the event is not an issues event")
    number = issue["number"]
    author = str(dig(issue, "user", "login", default="") or "")
    branch = f"form/issue-{number}"
    kind = form_kind(issue)
    outcome = Outcome(kind, branch)
    catalog = Catalog.open(root)
    values = _fields(kind, str(issue.get("body") or ""))
    outcome.errors = check_form(catalog, kind, values, author)
    if not outcome.errors and _branch_exists(catalog.root, remote, branch, token):
        outcome.errors = [
            PzcatError(
                "file-exists",
                f"branch {branch} exists already: the form was "
                "applied before (see its pull request)",
            )
        ]
    if not outcome.errors:
        _make_branch(
            catalog,
            kind,
            values,
            author,
            branch,
            base,
            remote,
            token,
            max_bytes,
            allow_loopback,
            outcome,
            number,
            gh,
        )
    _answer(gh, number, outcome)
    return outcome


def _make_branch(
    catalog: Catalog,
    kind: str,
    values: dict[str, str],
    author: str,
    branch: str,
    base: str,
    remote: str,
    token: str | None,
    max_bytes: int,
    allow_loopback: bool,
    outcome: Outcome,
    number: int,
    gh: Any,
) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=f"pzcat-form-{number}-"))
    work_dir = tmp / "work"
    pushed = False
    try:
        _git(catalog.root, "worktree", "add", "-q", "-b", branch, str(work_dir), base)
        work = Catalog.open(work_dir)
        (tmp / "downloads").mkdir()
        try:
            if kind == SUBMIT_LABEL:
                outcome.product = _build_submission(
                    work, values, author, tmp / "downloads", max_bytes, allow_loopback
                )
            else:
                outcome.product = _build_combine(work, values, author)
        except PzcatError as exc:
            outcome.errors = [exc]
            return
        _git(work_dir, "add", "-A", "--", "manifests", "products")
        _git(
            work_dir,
            "-c",
            "user.name=pzcat-bot",
            "-c",
            "user.email=pzcat-bot@users.noreply.github.com",
            "commit",
            "-q",
            "-m",
            f"{'Add' if kind == SUBMIT_LABEL else 'Request'} {outcome.product} (form, issue "
            f"#{number}, by {author})",
        )
        url = _git(work_dir, "remote", "get-url", remote)
        _git(work_dir, "push", "-q", remote, f"HEAD:refs/heads/{branch}", env=auth_env(token, url))
        pushed = True
        what = "a product" if kind == SUBMIT_LABEL else "a Combine Redshift Catalogs run"
        pr = gh.create_pull(
            title=f"{'Add' if kind == SUBMIT_LABEL else 'Run'} {outcome.product} (from #{number})",
            head=branch,
            base=base,
            body=f"Made from the form of #{number} (by @{author}): {what}, `{outcome.product}`.\n\n"
            f"Closes #{number}.",
        )
        outcome.pr_url, outcome.pr_number = pr.get("html_url"), pr.get("number")
    except PzcatError as exc:
        outcome.errors = [exc]
    finally:
        subprocess.run(
            ["git", "-C", str(catalog.root), "worktree", "remove", "--force", str(work_dir)],
            capture_output=True,
            check=False,
        )
        subprocess.run(
            ["git", "-C", str(catalog.root), "branch", "-D", branch],
            capture_output=True,
            check=False,
        )
        if outcome.errors and pushed:  # pushed but no pull request: take the branch back
            url = _git(catalog.root, "remote", "get-url", remote)
            subprocess.run(
                ["git", "-C", str(catalog.root), "push", "-q", remote, f":refs/heads/{branch}"],
                capture_output=True,
                check=False,
                env=auth_env(token, url),
            )
        shutil.rmtree(tmp, ignore_errors=True)


def answer_text(outcome: Outcome) -> str:
    """The comment on the issue: the pull request, or the coded errors with their fixes."""
    from pzcat.codes import fix_for
    from pzcat_github.prreport import cell

    if outcome.ok:
        return (
            f"Thank you! Pull request {outcome.pr_url} adds `{outcome.product}` on branch "
            f"`{outcome.branch}`. Its checks and report appear there; an admin reviews and "
            "merges it."
        )
    lines = [
        "The form could not be turned into a pull request; nothing was created. Please edit "
        "the issue's fields (or open a new one) after fixing:",
        "",
        "| code | what | how to fix |",
        "| --- | --- | --- |",
    ]
    for err in outcome.errors:
        lines.append(
            f"| `{err.code}` | {cell(err.message, 400)} | {cell(fix_for(err.code), 200)} |"
        )
    return "\n".join(lines) + "\n"


def _answer(gh: Any, number: int, outcome: Outcome) -> None:
    gh.create_comment(number, answer_text(outcome))
