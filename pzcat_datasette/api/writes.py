"""Writes through the API, the Git way: every change is a submission on a branch of its own.

The original server writes products into its database. pzcat's catalog is the repository, so a
write through ``/api/`` becomes what a contributor would do by hand: the same library functions as
``pzcat add / attach / detach / edit / deprecate`` (:mod:`pzcat.products`), applied in a git work
tree of the submission's own (``build/api/worktrees/<id>``, never the served checkout), on the branch
``pzcat-api/<id>-<user>``, committed as the token's user and pushed to the configured remote; when a
GitHub repository and credentials are configured a pull request is opened. Until the branch is
merged (and the served checkout pulls it), the product is visible by id with status 0 "Registering".

The upload flow of the ``pzserver`` client maps onto it like this:

==============================  ==================================================================
client call                     here
==============================  ==================================================================
``POST products/``              a submission record (``build/api/submissions/<id>.json``), id allocated
``POST product-files/``         the file staged (size limit of catalog.yaml, bare file names only)
``GET products/<id>/registry/``  the main file read: its columns become product-contents
``PATCH product-contents/<c>/`` the column association (alias RA, Dec, z...) recorded
``PATCH products/<id>/``        ``status=1``: ``pzcat add`` in the work tree, commit, push, PR;
                                ``description=``: ``pzcat edit``; ``official_product``: admins only
``DELETE product-files/<f>/``   ``pzcat detach``
``DELETE products/<id>/``       ``pzcat deprecate`` (a delete never removes a product)
==============================  ==================================================================

Only the uploader or an admin may change a product; writes need a token of scope ``write``.
Configuration (environment of ``pzcat serve``): ``PZCAT_API_REMOTE`` (git remote URL or path; default
the checkout's ``origin``, none: commits stay local), ``PZCAT_API_BASE`` (base branch, default the
checkout's current branch), ``PZCAT_GITHUB_REPO`` (``owner/name``), ``PZCAT_GITHUB_TOKEN`` and
``PZCAT_GITHUB_API`` (default ``https://api.github.com``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import urllib.error
import urllib.request
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from pzcat.catalog import Catalog
from pzcat.errors import PzcatError
from pzcat.files import atomic_write_bytes, atomic_write_text
from pzcat.ids import product_of_file, split_content_id
from pzcat.manifest import ColumnRole, Manifest, make_internal_name, now_utc
from pzcat.records import (
    ALIAS_ROLES,
    ROLE_NUMBERS,
    STATUS_DELETED,
    STATUS_FAILED,
    STATUS_PROCESSING,
    STATUS_PUBLISHED,
    STATUS_REGISTERING,
    can_change,
    content_records,
    file_by_id,
    file_records,
    release_records,
    required_aliases,
)
from pzcat_datasette.api.errors import ApiError, json_response
from pzcat_datasette.api.routes import (
    Ctx,
    authenticate,
    product_json,
    product_or_404,
    route,
    run_sync,
)

API_DIR = Path("build") / "api"
ROLE_BY_NUMBER = {str(v): k for k, v in ROLE_NUMBERS.items()}
_BAD_NAME = re.compile(r"[/\\\x00-\x1f]")
_LOCK = threading.RLock()


# -- the submissions store -----------------------------------------------------------------------------


class Submissions:
    """The submissions of one served checkout (JSON records under ``build/api/submissions``)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.dir = self.root / API_DIR / "submissions"

    def path(self, pid: int) -> Path:
        return self.dir / f"{pid}.json"

    def get(self, pid: int) -> dict | None:
        try:
            return json.loads(self.path(pid).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def all(self) -> list[dict]:
        if not self.dir.is_dir():
            return []
        out = []
        for p in sorted(self.dir.glob("*.json")):
            try:
                out.append(json.loads(p.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                continue
        return out

    def put(self, sub: dict) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path(sub["id"]), json.dumps(sub, indent=1, sort_keys=True))

    def signature(self) -> Any:
        try:
            st = os.stat(self.dir)
        except OSError:
            return None
        return (st.st_mtime_ns, len(os.listdir(self.dir)))

    def staging(self, pid: int) -> Path:
        return self.root / API_DIR / "uploads" / str(pid)

    def worktree(self, pid: int) -> Path:
        return self.root / API_DIR / "worktrees" / str(pid)


def submission_manifest(store: Submissions, sub: dict) -> Manifest:
    """The product a submission makes, as it stands (the work tree's manifest once saved)."""
    internal = sub["internal_name"]
    if sub.get("saved"):
        return Catalog.open(store.worktree(sub["id"])).get(internal)
    from pzcat.products import describe_file

    staged = store.staging(sub["id"])
    files = []
    for f in sub["files"]:
        rel = f"products/{internal}/{f['name']}"
        files.append(describe_file(staged / rel, rel, f["role"]))
    files.sort(key=lambda e: ROLE_NUMBERS[e.role])
    columns = {role: ColumnRole(column=col) for col, role in sub.get("roles", {}).items()}
    return Manifest(
        id=sub["id"],
        internal_name=internal,
        name=sub["name"],
        product_type=sub["product_type"],
        release=sub.get("release"),
        official=sub.get("official", False),
        pz_code=sub.get("pz_code"),
        description=sub.get("description") or "",
        uploaded_by=sub["user"],
        created=sub["created"],
        updated=sub["created"],
        status="pending",
        files=files,
        columns=columns,
    )


class Overlay:
    """Unmerged new products for :class:`ApiState`: status 0, or 2 once deleted."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.store = Submissions(root)

    def signature(self):
        sig = self.store.signature()
        return None if sig is None else (sig, _served_sig(self.root))

    def items(self) -> list[tuple[Manifest, int]]:
        if self.store.signature() is None:
            return []
        served = _served_ids(self.root)
        items = []
        for sub in self.store.all():
            if sub.get("kind") != "new" or sub["id"] in served:
                continue
            try:
                m = submission_manifest(self.store, sub)
            except PzcatError:
                continue
            items.append((m, _overlay_status(sub)))
        return items


def _overlay_status(sub: dict) -> int:
    """Registering (0) until merged, Deleted (2); a process output: Processing (3) while it runs,
    Published (1) once it succeeded (in its branch), Failed (9)."""
    if sub.get("deleted"):
        return STATUS_DELETED
    proc = sub.get("process")
    if proc is not None:
        return {"Successful": STATUS_PUBLISHED, "Failed": STATUS_FAILED}.get(
            proc.get("status"), STATUS_PROCESSING
        )
    return STATUS_REGISTERING


def overlay_for(datasette, root: Path) -> Overlay:
    return Overlay(root)


def _served_sig(root: Path):
    try:
        return os.stat(Path(root) / "manifests").st_mtime_ns
    except OSError:
        return None


def _served_ids(root: Path) -> set[int]:
    out = set()
    for p in (Path(root) / "manifests").glob("*.yaml"):
        head = p.stem.split("_", 1)[0]
        if head.isdigit():
            out.add(int(head))
    return out


def _store(ctx: Ctx) -> Submissions:
    return Submissions(ctx.state.root)


def _submission(ctx: Ctx, pid: int) -> dict | None:
    sub = _store(ctx).get(pid)
    if sub is None or (sub.get("kind") == "new" and pid not in ctx.index.extra_status):
        return None
    return sub


def files_root(ctx: Ctx, manifest) -> Path:
    """Where the files of ``manifest`` live: the checkout, a submission's staging or work tree."""
    if manifest.id in ctx.index.extra_status:
        sub = _store(ctx).get(manifest.id)
        if sub is not None:
            store = _store(ctx)
            return store.worktree(sub["id"]) if sub.get("saved") else store.staging(sub["id"])
    return ctx.state.root


def catalog_for(ctx: Ctx, manifest):
    """The catalog holding the files of ``manifest`` (a saved submission's work tree, or the checkout)."""
    if manifest.id in ctx.index.extra_status:
        sub = _store(ctx).get(manifest.id)
        if sub is None or not sub.get("saved"):
            raise ApiError(
                "api-submission-unsaved",
                "This product is still being registered: "
                "finish the upload (save) before downloading it.",
                409,
            )
        return Catalog.open(_store(ctx).worktree(manifest.id))
    return ctx.index.catalog


# -- git ------------------------------------------------------------------------------------------------


def _git(cwd: Path, *args: str, user: str | None = None) -> str:
    env = dict(os.environ)
    if user:
        env.update(
            GIT_AUTHOR_NAME=user,
            GIT_COMMITTER_NAME=user,
            GIT_AUTHOR_EMAIL=f"{user}@users.noreply.github.com",
            GIT_COMMITTER_EMAIL=f"{user}@users.noreply.github.com",
        )
    try:
        proc = subprocess.run(
            ["git", "-C", str(cwd), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ApiError("api-git-failed", f"git {args[0]}: {exc}", 500) from None
    if proc.returncode != 0:
        raise ApiError(
            "api-git-failed", f"git {' '.join(args[:2])}: {proc.stderr.strip()[:500]}", 500
        )
    return proc.stdout.strip()


def _branch(pid: int, user: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]", "-", user)[:40] or "user"
    return f"pzcat-api/{pid}-{slug}"


def _open_worktree(ctx: Ctx, sub: dict) -> Path:
    """The submission's work tree (made on first use from the checkout's HEAD)."""
    store = _store(ctx)
    tree = store.worktree(sub["id"])
    if (tree / ".git").exists():
        return tree
    root = ctx.state.root
    try:
        _git(root, "rev-parse", "--verify", "-q", "HEAD")
    except ApiError:
        raise ApiError(
            "api-writes-unavailable",
            "The served catalog is not a git repository: writes "
            "through the API need one (they become branches).",
            503,
        ) from None
    tree.parent.mkdir(parents=True, exist_ok=True)
    _git(root, "worktree", "add", "-q", "-b", sub["branch"], str(tree), "HEAD")
    return tree


def _remote(root: Path) -> str | None:
    configured = os.environ.get("PZCAT_API_REMOTE")
    if configured:
        return configured
    try:
        return _git(root, "remote", "get-url", "origin") or None
    except ApiError:
        return None


def _commit_and_push(ctx: Ctx, sub: dict, tree: Path, message: str) -> None:
    """Commit everything of the work tree as the token's user; push; open a PR once."""
    paths = [p for p in ("manifests", "products", "pipelines/data/api") if (tree / p).exists()]
    _git(tree, "add", "-A", "--", *paths)
    status = _git(tree, "status", "--porcelain", "--", *paths)
    if status:
        _git(tree, "commit", "-q", "-m", message, user=ctx.user)
    sub.setdefault("commits", []).append(_git(tree, "rev-parse", "HEAD"))
    remote = _remote(ctx.state.root)
    if remote:
        _git(tree, "push", "-q", remote, f"HEAD:refs/heads/{sub['branch']}")
        sub["pushed"] = True
    if remote and not sub.get("pull_request"):
        sub["pull_request"] = _pull_request(ctx, sub, message)


def _base_branch(root: Path) -> str:
    return os.environ.get("PZCAT_API_BASE") or _git(root, "rev-parse", "--abbrev-ref", "HEAD")


def _pull_request(ctx: Ctx, sub: dict, title: str) -> str | None:
    repo, token = os.environ.get("PZCAT_GITHUB_REPO"), os.environ.get("PZCAT_GITHUB_TOKEN")
    if not repo or not token:
        return None
    api = os.environ.get("PZCAT_GITHUB_API", "https://api.github.com").rstrip("/")
    body = json.dumps(
        {
            "title": title,
            "head": sub["branch"],
            "base": _base_branch(ctx.state.root),
            "body": f"Submitted through the Photo-z Server API by @{ctx.user}.\n\n"
            "CI validates the product; merging publishes it.",
        }
    ).encode()
    request = urllib.request.Request(
        f"{api}/repos/{repo}/pulls",
        data=body,
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "Content-Type": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return json.load(resp).get("html_url")
    except (urllib.error.URLError, ValueError, OSError) as exc:
        raise ApiError(
            "api-pull-request-failed",
            f"the branch {sub['branch']} was pushed but the "
            f"pull request could not be opened: {exc}",
            502,
        ) from None


# -- request bodies ------------------------------------------------------------------------------------


async def read_body(ctx: Ctx, limit: int) -> bytes:
    """The request body, refused past ``limit`` bytes (``api-upload-too-large``, 413)."""
    declared = ctx.request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(
            "api-upload-too-large",
            f"The request is larger than {limit} bytes (limits.max_file_bytes of catalog.yaml).",
            413,
        )
    chunks, size = [], 0
    while True:
        message = await ctx.request.receive()
        if message["type"] != "http.request":
            break
        data = message.get("body", b"")
        size += len(data)
        if size > limit:
            raise ApiError(
                "api-upload-too-large",
                f"The request is larger than {limit} bytes "
                "(limits.max_file_bytes of catalog.yaml).",
                413,
            )
        chunks.append(data)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def form(
    ctx: Ctx, limit: int = 1 << 20
) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    """Fields and files of a JSON, urlencoded or multipart body."""
    body = await read_body(ctx, limit)
    ctype = ctx.request.headers.get("content-type", "")
    if ctype.startswith("application/json"):
        try:
            data = json.loads(body or b"null")
        except ValueError:
            raise ApiError("api-bad-body", "The body is not JSON.", 400) from None
        if data is None:
            return {}, {}
        if not isinstance(data, dict):
            raise ApiError("api-bad-body", "The body must be a JSON object.", 400)
        return data, {}
    if ctype.startswith("multipart/form-data"):
        msg = BytesParser(policy=policy.HTTP).parsebytes(
            b"Content-Type: " + ctype.encode("latin-1") + b"\r\n\r\n" + body
        )
        fields: dict[str, Any] = {}
        files: dict[str, tuple[str, bytes]] = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
            payload = part.get_payload(decode=True) or b""
            if filename is not None:
                files[name] = (filename, payload)
            elif name is not None:
                value = payload.decode("utf-8", errors="replace")
                if name in fields:  # a repeated field (requests sends lists so) is a list
                    prev = fields[name]
                    fields[name] = [*(prev if isinstance(prev, list) else [prev]), value]
                else:
                    fields[name] = value
        return fields, files
    return dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)), {}


def _may_change(ctx: Ctx, m: Manifest) -> None:
    if not can_change(ctx.index.catalog.config, m, ctx.user):
        raise ApiError(
            "api-not-owner",
            "Only the uploader or an admin may change this product.",
            403,
            product=m.internal_name,
        )


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("true", "1", "yes", "on")


def _new_id(ctx: Ctx) -> int:
    taken = [m.id for m in ctx.index.manifests.values()]
    taken += [s["id"] for s in _store(ctx).all()]
    return max([ctx.index.catalog.next_id() - 1, *taken], default=0) + 1


# -- routes ----------------------------------------------------------------------------------------------


@route("POST", "/products")
async def create_product(ctx: Ctx):
    ctx.claims = authenticate(ctx.state, ctx.request, scope="write")
    fields, _ = await form(ctx)
    cfg = ctx.index.catalog.config
    name = str(fields.get("display_name") or "").strip()
    if not name:
        raise ApiError(
            "api-bad-body",
            "display_name: This field is required.",
            400,
            extra={"display_name": "This field is required."},
        )
    tid = str(fields.get("product_type") or "")
    ptype = next(
        (t for i, t in enumerate(cfg.product_types, 1) if str(i) == tid or t.name == tid), None
    )
    if ptype is None:
        raise ApiError(
            "api-bad-body",
            f'product_type: Invalid pk "{tid}" - object does not exist.',
            400,
            extra={"product_type": f'Invalid pk "{tid}" - object does not exist.'},
        )
    rid = fields.get("release")
    release = None
    if rid not in (None, "", "null"):
        release = next(
            (
                r["name"]
                for r in release_records(cfg)
                if str(r["id"]) == str(rid) or r["name"] == rid
            ),
            None,
        )
        if release is None:
            raise ApiError(
                "api-bad-body",
                f'release: Invalid pk "{rid}".',
                400,
                extra={"release": f'Invalid pk "{rid}" - object does not exist.'},
            )
    if release and not ptype.release:  # the type's rules of catalog.yaml
        raise ApiError(
            "api-bad-body",
            "Release must be null on Redshift Catalogs products.",
            400,
            extra={"release": ["Release must be null on Redshift Catalogs products."]},
        )
    pz_code = fields.get("pz_code") or None
    if pz_code and not ptype.pz_code:
        raise ApiError(
            "api-bad-body",
            f"Pz Code must be null on {ptype.display_name} products.",
            400,
            extra={"pz_code": [f"Pz Code must be null on {ptype.display_name} products."]},
        )
    official = _truthy(fields.get("official_product", False))
    if official and not cfg.is_admin(ctx.user):
        raise ApiError(
            "official-not-admin",
            "Not allowed. Only users with admin permissions can create official products.",
            403,
        )
    with _LOCK:
        pid = _new_id(ctx)
        sub = {
            "id": pid,
            "kind": "new",
            "user": ctx.user,
            "name": name,
            "internal_name": make_internal_name(pid, name),
            "product_type": ptype.name,
            "release": release,
            "pz_code": pz_code,
            "official": official,
            "description": fields.get("description") or "",
            "files": [],
            "roles": {},
            "created": now_utc().isoformat(),
            "branch": _branch(pid, ctx.user),
            "saved": False,
        }
        _store(ctx).put(sub)
    index = ctx.index
    return json_response(product_json(ctx, index, index.manifests[pid]), 201)


def _file_name(raw: str) -> str:
    name = (raw or "").strip()
    if not name or name in (".", "..") or _BAD_NAME.search(name) or name.startswith("."):
        raise ApiError(
            "api-bad-file-name",
            f"{raw!r} is not a bare file name (no folders, no leading dot).",
            400,
        )
    return name


@route("POST", "/product-files")
async def upload_file(ctx: Ctx):
    ctx.claims = authenticate(ctx.state, ctx.request, scope="write")
    cfg = ctx.index.catalog.config
    fields, files = await form(ctx, limit=cfg.limits.max_file_bytes + (1 << 20))
    pid = str(fields.get("product") or "")
    index, m = product_or_404(ctx, pid)
    _may_change(ctx, m)
    role = ROLE_BY_NUMBER.get(str(fields.get("role")))
    if role is None:
        raise ApiError("api-bad-body", "role: 0 (main), 1 (description) or 2 (auxiliary).", 400)
    if "file" not in files:
        raise ApiError(
            "api-bad-body",
            "file: No file was submitted.",
            400,
            extra={"file": ["No file was submitted."]},
        )
    filename, data = files["file"]
    name = _file_name(filename)
    if len(data) > cfg.limits.max_file_bytes:
        raise ApiError(
            "api-upload-too-large",
            f"{name} is larger than {cfg.limits.max_file_bytes} bytes (limits.max_file_bytes).",
            413,
        )
    store = _store(ctx)
    sub = _submission(ctx, m.id)

    def work() -> Manifest:
        with _LOCK:
            if sub is not None and not sub.get("saved"):
                if any(f["name"] == name for f in sub["files"]):
                    raise ApiError("file-exists", f"{name} is uploaded already.", 400)
                if role == "main" and any(f["role"] == "main" for f in sub["files"]):
                    raise ApiError("api-bad-body", "The product has a main file already.", 400)
                dest = store.staging(m.id) / "products" / sub["internal_name"] / name
                atomic_write_bytes(dest, data)
                sub["files"].append({"role": role, "name": name})
                store.put(sub)
                return submission_manifest(store, sub)
            return _edit(
                ctx,
                m,
                lambda cat, tmp: _attach(cat, m, tmp, name, data, role),
                f"Attach {name} to {m.internal_name}",
            )

    new = await run_sync(work)
    rec = next(f for f in file_records(new, True) if f["name"] == name)
    return json_response(rec, 201)


def _attach(catalog: Catalog, m: Manifest, tmp: Path, name: str, data: bytes, role: str) -> None:
    from pzcat.products import attach_file

    src = tmp / name
    atomic_write_bytes(src, data, durable=False)  # a scratch copy: attach_file stages it
    attach_file(catalog, m.internal_name, file=src, role=role)


def _edit(ctx: Ctx, m: Manifest, change, message: str) -> Manifest:
    """Apply ``change(catalog, tmpdir)`` in the product's submission work tree; commit and push."""
    import tempfile

    store = _store(ctx)
    sub = store.get(m.id)
    if sub is None or sub.get("kind") == "new" and m.id not in ctx.index.extra_status:
        sub = {
            "id": m.id,
            "kind": "edit",
            "user": ctx.user,
            "internal_name": m.internal_name,
            "branch": _branch(m.id, ctx.user),
            "saved": True,
        }
    tree = _open_worktree(ctx, sub)
    catalog = Catalog.open(tree)
    with tempfile.TemporaryDirectory() as tmp:
        change(catalog, Path(tmp))
    _commit_and_push(ctx, sub, tree, message)
    store.put(sub)
    return Catalog.open(tree).get(m.internal_name)


@route("DELETE", r"/product-files/(?P<fid>\d+)")
async def delete_file(ctx: Ctx, fid: str):
    ctx.claims = authenticate(ctx.state, ctx.request, scope="write")
    index, m = product_or_404(ctx, str(product_of_file(int(fid))))
    entry = file_by_id(m, int(fid))
    if entry is None:
        raise ApiError("api-not-found", "No ProductFile matches the given query.", 404)
    _may_change(ctx, m)
    if entry.role == "main":
        raise ApiError("api-main-file", "The main file cannot be removed; delete the product.", 400)
    store = _store(ctx)
    sub = _submission(ctx, m.id)

    def work():
        with _LOCK:
            if sub is not None and not sub.get("saved"):
                sub["files"] = [f for f in sub["files"] if f["name"] != entry.filename]
                path = store.staging(m.id) / "products" / sub["internal_name"] / entry.filename
                path.unlink(missing_ok=True)
                store.put(sub)
                return

            def change(cat, tmp):
                from pzcat.products import detach_file

                detach_file(cat, m.internal_name, entry.filename)

            _edit(ctx, m, change, f"Detach {entry.filename} from {m.internal_name}")

    await run_sync(work)
    return json_response(None, 204)


@route("GET", r"/products/(?P<pid>\d+)/registry")
async def registry(ctx: Ctx, pid: str):
    ctx.claims = authenticate(ctx.state, ctx.request, scope="write")
    index, m = product_or_404(ctx, pid)
    _may_change(ctx, m)
    sub = _submission(ctx, m.id)
    if sub is None or sub.get("saved"):
        return json_response({"success": True, "message": "registered"})
    if m.main_file is None:
        raise ApiError("api-no-main-file", "Upload the main file first (role 0).", 400)
    if m.main_file.is_table and not m.main_file.columns:
        raise ApiError(
            "unreadable-table", f"{m.main_file.filename} could not be read as a table.", 400
        )
    from pzcat.products import suggest_columns

    # The original registers the columns without an association; pzcat suggests one from the
    # names and UCDs, which the client's column association then overrides.
    with _LOCK:
        sub["roles"] = {
            col: role for role, col in suggest_columns(m.main_file.columns or []).items()
        }
        _store(ctx).put(sub)
    return json_response({"success": True, "message": "registered"})


@route("PATCH", r"/product-contents/(?P<cid>\d+)")
async def update_content(ctx: Ctx, cid: str):
    ctx.claims = authenticate(ctx.state, ctx.request, scope="write")
    pid, pos = split_content_id(int(cid))
    index, m = product_or_404(ctx, str(pid))
    _may_change(ctx, m)
    fields, _ = await form(ctx)
    contents = {c["id"]: c for c in content_records(m)}
    if int(cid) not in contents:
        raise ApiError("api-not-found", "No ProductContent matches the given query.", 404)
    column = contents[int(cid)]["column_name"]
    alias = (fields.get("alias") or "").strip()
    role = ALIAS_ROLES.get(alias.lower(), alias) if alias else None
    sub = _submission(ctx, m.id)

    def work() -> Manifest:
        with _LOCK:
            if sub is not None and not sub.get("saved"):
                roles = {c: r for c, r in sub.get("roles", {}).items() if c != column and r != role}
                if role:
                    roles[column] = role
                sub["roles"] = roles
                _store(ctx).put(sub)
                return submission_manifest(_store(ctx), sub)
            old_role = m.role_of(column)

            def change(cat, tmp):
                from pzcat.products import edit_product

                edit_product(
                    cat,
                    m.internal_name,
                    author=ctx.user,
                    columns=[f"{role}={column}"] if role else [f"{old_role}="],
                )

            return _edit(ctx, m, change, f"Associate {column} in {m.internal_name}")

    new = await run_sync(work)
    return json_response(next(c for c in content_records(new) if c["id"] == int(cid)))


@route("PATCH PUT", r"/products/(?P<pid>\d+)")
async def update_product(ctx: Ctx, pid: str):
    ctx.claims = authenticate(ctx.state, ctx.request, scope="write")
    index, m = product_or_404(ctx, pid)
    _may_change(ctx, m)
    fields, _ = await form(ctx)
    cfg = index.catalog.config
    if (
        "official_product" in fields
        and _truthy(fields["official_product"]) != m.official
        and not cfg.is_admin(ctx.user)
    ):
        raise ApiError("official-not-admin", "Only admins may set or change official_product.", 403)
    unknown = set(fields) - {"status", "description", "official_product", "pz_code"}
    if unknown:
        raise ApiError(
            "api-bad-body", f"These fields cannot be changed here: {sorted(unknown)}", 400
        )
    sub = _submission(ctx, m.id)
    store = _store(ctx)

    def work():
        with _LOCK:
            if sub is not None and not sub.get("saved"):
                for key in ("description", "pz_code"):
                    if key in fields:
                        sub[key] = fields[key]
                if "official_product" in fields:
                    sub["official"] = _truthy(fields["official_product"])
                store.put(sub)
                if str(fields.get("status", "")) == "1":
                    _save(ctx, sub)
                return
            edits: dict[str, Any] = {}
            if "description" in fields:
                edits["description"] = fields["description"]
            if "pz_code" in fields:
                edits["pz_code"] = fields["pz_code"]
            if "official_product" in fields:
                edits["official"] = _truthy(fields["official_product"])
            if not edits:
                return

            def change(cat, tmp):
                from pzcat.products import edit_product

                edit_product(cat, m.internal_name, author=ctx.user, **edits)

            _edit(ctx, m, change, f"Edit {m.internal_name} ({', '.join(sorted(edits))})")

    await run_sync(work)
    index = ctx.index
    return json_response(product_json(ctx, index, index.manifests[m.id]))


def _save(ctx: Ctx, sub: dict) -> None:
    """``pzcat add`` of a submission in its work tree, committed and pushed (406 when the
    association misses a required role, as the original)."""
    store = _store(ctx)
    have = {role for role in sub.get("roles", {}).values()}
    missing = [
        a
        for a in required_aliases(sub["product_type"], ctx.index.catalog.config)
        if ALIAS_ROLES.get(a.lower(), a) not in have
    ]
    if missing:
        raise ApiError(
            "api-missing-columns",
            "The column(s) was not filled in: " + ",".join(sorted(missing)),
            406,
        )
    tree = _open_worktree(ctx, sub)
    catalog = Catalog.open(tree)
    staged = store.staging(sub["id"]) / "products" / sub["internal_name"]
    main = next((staged / f["name"] for f in sub["files"] if f["role"] == "main"), None)
    if main is None:
        raise ApiError("api-no-main-file", "Upload the main file first (role 0).", 400)
    from pzcat.products import add_product

    desc = next((staged / f["name"] for f in sub["files"] if f["role"] == "description"), None)
    aux = [staged / f["name"] for f in sub["files"] if f["role"] == "auxiliary"]
    add_product(
        catalog,
        name=sub["name"],
        product_type=sub["product_type"],
        uploaded_by=sub["user"],
        main_file=main,
        release=sub.get("release"),
        description=sub.get("description") or "",
        description_file=desc,
        aux_files=aux,
        columns=[f"{r}={c}" for c, r in sub.get("roles", {}).items()],
        official=sub.get("official", False),
        pz_code=sub.get("pz_code"),
        product_id=sub["id"],
    )
    sub["saved"] = True
    _commit_and_push(ctx, sub, tree, f"Add product {sub['internal_name']}")
    store.put(sub)
    shutil.rmtree(store.staging(sub["id"]), ignore_errors=True)


@route("DELETE", r"/products/(?P<pid>\d+)")
async def delete_product(ctx: Ctx, pid: str):
    ctx.claims = authenticate(ctx.state, ctx.request, scope="write")
    index, m = product_or_404(ctx, pid)
    _may_change(ctx, m)
    sub = _submission(ctx, m.id)
    store = _store(ctx)

    def work():
        with _LOCK:
            if sub is not None and not sub.get("saved"):
                sub["deleted"] = True
                store.put(sub)
                return

            def change(cat, tmp):
                from pzcat.products import deprecate_product

                deprecate_product(cat, m.internal_name, f"deleted through the API by {ctx.user}")

            _edit(ctx, m, change, f"Deprecate {m.internal_name}")
            if sub is not None:
                fresh = store.get(m.id)
                fresh["deleted"] = True
                store.put(fresh)

    await run_sync(work)
    return json_response(None, 204)


__all__ = ["Submissions", "catalog_for", "files_root", "overlay_for", "read_body", "form"]
