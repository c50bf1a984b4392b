"""Processes of the Photo-z Server API: ``POST processes/`` runs ``pzcat combine`` in the server.

The client's Combine Redshift Catalogs configuration maps onto :func:`pzcat.runs.create_run` (pipeline ``combine_redshift_catalogs``):

==================================  ============================================================
client (``used_config``)            pzcat
==================================  ============================================================
``param.combine_type``              ``duplicates``: ``concatenate`` -> ``no``,
                                    ``concatenate_and_mark_duplicates`` -> ``mark``,
                                    ``concatenate_and_remove_duplicates`` -> ``remove``
``param.z_flag_homogenized_value_   ``cut`` (rows with ``z_flag_homogenized >= cut`` are kept)
to_cut``
``flags_translation_file`` (upload)  ``flags_file``: committed at ``pipelines/data/api/<name>.yaml``
``output_format``                   ``output_format``
==================================  ============================================================

The pending run is written as a submission (the pending manifest committed on the branch
``pzcat-api/<id>-<user>`` of its own work tree, pushed like any submission), then a background runner
(:class:`Worker`: one at a time in the whole server, whatever ``--workers``; the queue is the
pending submissions on disk, at most :data:`QUEUE_SIZE`) runs ``pzcat run`` in that work tree in a
subprocess, commits the output and pushes it. ``processes/<id>/`` answers ``Pending``,
``Running``, ``Successful`` or ``Failed``; ``stop/`` ends it. The output is product ``<id>`` (status
3 while it runs, 1 once successful, 9 on failure), readable with ``get_product``. The
``training_set_maker`` pipeline is listed but answers ``api-pipeline-unavailable`` (501).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from pzcat.catalog import Catalog
from pzcat.errors import PzcatError
from pzcat.files import atomic_write_bytes
from pzcat.ids import PIPELINE_IDS
from pzcat.manifest import make_internal_name, now_utc
from pzcat.records import iso
from pzcat_datasette.api.errors import ApiError, json_response
from pzcat_datasette.api.pagination import paginated
from pzcat_datasette.api.routes import Ctx, authenticate, route, run_sync
from pzcat_datasette.api.writes import (
    _LOCK,
    API_DIR,
    Submissions,
    _branch,
    _commit_and_push,
    _new_id,
    _open_worktree,
    form,
)

QUEUE_SIZE = 4
COMBINE_TYPES = {
    "concatenate": "no",
    "concatenate_and_mark_duplicates": "mark",
    "concatenate_and_remove_duplicates": "remove",
}
PARAM_KEYS = {"combine_type", "z_flag_homogenized_value_to_cut", "flags_translation_file"}
RUN_TIMEOUT = 3600


@contextlib.contextmanager
def _file_lock(path: Path, wait: bool = True):
    """An exclusive lock shared by every server process of the checkout (``fcntl.flock``).

    Yields whether it is held: with ``wait=False`` it does not wait for another holder and
    yields False when there is one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _queue_lock(root: Path):
    """Held while the queue (the Pending submissions) is read or a process record changes."""
    return _file_lock(Path(root) / API_DIR / "queue.lock")


def pending(store: Submissions) -> list[dict]:
    """The queue: submissions whose process is Pending, oldest first (any server process's)."""
    subs = [s for s in store.all() if s.get("process", {}).get("status") == "Pending"]
    return sorted(subs, key=lambda s: (s["process"].get("created_at") or "", s["id"]))


class Worker:
    """The background runner of one server process.

    The queue is on disk, shared by every server process of the checkout (``--workers N``): it
    is the submissions whose process is ``Pending`` (:func:`pending`), at most
    :data:`QUEUE_SIZE`. Each process has one runner thread, woken by a submission or at start; a
    runner holds ``build/api/runner.lock`` while it runs, so one process runs at a time in the
    whole server, whichever process took the request; it takes the oldest pending one. A
    submission left Pending by a process that died is run when a server starts (:func:`resume`)
    or by the next runner woken. ``stop/`` flags the record; the runner that runs it polls the flag and ends its
    subprocess.
    """

    #: Seconds between two looks at the stop flag while a run goes on.
    POLL = 0.5

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.store = Submissions(self.root)
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()
        self.wakes = 0

    def wake(self) -> None:
        """Make sure this process's runner looks at the queue (again)."""
        with self.lock:
            self.wakes += 1
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(
                    target=self._loop, name="pzcat-api-runner", daemon=True
                )
                self.thread.start()

    def _loop(self) -> None:
        while True:
            with self.lock:
                seen = self.wakes
            while self._run_next():
                pass
            with self.lock:
                if self.wakes == seen:  # nothing submitted meanwhile: the thread ends
                    self.thread = None
                    return

    def _run_next(self) -> bool:
        """Run the oldest pending process (under the runner lock); False when none is left."""
        with _file_lock(self.root / API_DIR / "runner.lock"):
            with _queue_lock(self.root):
                queue = pending(self.store)
                if not queue:
                    return False
                sub = queue[0]
                sub["process"].update(
                    status="Running", started_at=iso(now_utc()), runner=os.getpid()
                )
                self.store.put(sub)
            _run(self, sub)
            return True


def _worker(datasette, root: Path) -> Worker:
    worker = getattr(datasette, "_pzcat_api_worker", None)
    if worker is None:
        worker = Worker(root)
        datasette._pzcat_api_worker = worker
    return worker


def resume(datasette, root: Path) -> bool:
    """At server start: fail the runs a dead server left Running, then wake this process's
    runner when Pending submissions are on disk.

    A run left Pending by a server process that died (or stopped) then runs without waiting for
    a new submission. Every process of ``--workers N`` may wake its runner; the runner lock keeps
    it to one run at a time. Returns whether the runner was woken.
    """
    fail_orphans(Path(root))
    if not pending(Submissions(root)):
        return False
    _worker(datasette, root).wake()
    return True


def fail_orphans(root: Path) -> list[int]:
    """Mark ``Failed`` the runs left ``Running`` by a server process that died mid-run.

    A record is ``Running`` only while its runner holds ``runner.lock``: when this process can
    take that lock at once, no runner of any server process is running, so every ``Running``
    record is an orphan. Its work tree is left for inspection; the submitter runs it again.
    Returns the ids marked.
    """
    store = Submissions(root)
    with _file_lock(Path(root) / API_DIR / "runner.lock", wait=False) as held:
        if not held:  # a runner is running: its record is not an orphan
            return []
        with _queue_lock(root):
            orphans = [s for s in store.all() if s.get("process", {}).get("status") == "Running"]
            for sub in orphans:
                sub["process"].update(
                    status="Failed",
                    ended_at=iso(now_utc()),
                    error=(
                        f"the server process running it (pid {sub['process'].get('runner')}) "
                        "stopped before the run ended; submit the run again"
                    ),
                )
                store.put(sub)
    return [s["id"] for s in orphans]


def _set(store: Submissions, pid: int, **changes) -> dict:
    with _LOCK, _queue_lock(store.root):
        sub = store.get(pid)
        sub["process"].update(changes)
        store.put(sub)
        return sub


@dataclass
class _RunCtx:
    """What committing and pushing a run's output needs of a request (its user, the checkout)."""

    user: str
    state: Any


def _run(worker: Worker, sub: dict) -> None:
    """Run ``pzcat run`` in the submission's work tree; commit and push its output."""
    store, pid = worker.store, sub["id"]
    tree = store.worktree(pid)
    log = worker.root / API_DIR / "logs" / f"{pid}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "pzcat.cli",
        "run",
        sub["internal_name"],
        "--root",
        str(tree),
        "--quiet",
    ]
    deadline = time.monotonic() + RUN_TIMEOUT
    stopped = False
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        while True:
            try:
                proc.wait(timeout=Worker.POLL)
                break
            except subprocess.TimeoutExpired:
                pass
            now = store.get(pid) or sub
            if now["process"].get("stop_requested") and not stopped:
                stopped = True
                proc.terminate()
            elif time.monotonic() > deadline:
                proc.kill()
    if proc.returncode != 0:
        text = log.read_text(encoding="utf-8", errors="replace")
        why = "stopped" if stopped else text.strip()[-2000:] or f"exit status {proc.returncode}"
        _set(store, pid, status="Failed", ended_at=iso(now_utc()), error=why)
        return
    try:
        sub = store.get(pid)
        ctx = _RunCtx(sub["user"], SimpleNamespace(root=worker.root))
        _commit_and_push(ctx, sub, tree, f"Run {sub['internal_name']} (combine_redshift_dedup)")
        with _queue_lock(worker.root):
            fresh = store.get(pid)
            fresh.update({k: v for k, v in sub.items() if k != "process"})
            store.put(fresh)
    except PzcatError as exc:
        _set(store, pid, status="Failed", ended_at=iso(now_utc()), error=exc.message)
        return
    _set(store, pid, status="Successful", ended_at=iso(now_utc()))


def _config(fields: dict[str, Any]) -> tuple[dict, dict]:
    raw = fields.get("used_config") or "{}"
    try:
        used = json.loads(raw) if isinstance(raw, str) else dict(raw)
    except ValueError:
        raise ApiError("api-bad-config", "used_config is not JSON.", 400) from None
    if not isinstance(used, dict):
        raise ApiError("api-bad-config", "used_config must be a JSON object.", 400)
    param = used.get("param") or {}
    unknown = set(param) - PARAM_KEYS
    if unknown:
        raise ApiError(
            "api-bad-config",
            f"unknown parameters {sorted(unknown)}; this server takes {sorted(PARAM_KEYS)}",
            400,
        )
    return used, param


def _inputs(fields: dict[str, Any]) -> list[int]:
    raw = fields.get("inputs") or []
    if isinstance(raw, str):
        raw = [raw]
    try:
        return [int(x) for x in raw]
    except (TypeError, ValueError):
        raise ApiError("api-bad-body", "inputs must be product ids.", 400) from None


def _record(sub: dict) -> dict:
    proc = sub["process"]
    return {
        "id": sub["id"],
        "release": None,
        "release_name": None,
        "pipeline_name": "combine_redshift_dedup",
        "pipeline_version": "1",
        "owned_by": sub["user"],
        "is_owner": True,
        "provenance_inputs": proc.get("inputs"),
        "used_config": proc.get("used_config"),
        "display_name": sub["name"],
        "pipeline": PIPELINE_IDS["combine_redshift_dedup"],
        "inputs": proc.get("inputs"),
        "upload": sub["id"],
        "status": proc["status"],
        "created_at": proc.get("created_at"),
        "started_at": proc.get("started_at"),
        "ended_at": proc.get("ended_at"),
        "orchestration_process_id": None,
        "path": f"build/api/worktrees/{sub['id']}",
        "comment": proc.get("error"),
        "branch": sub.get("branch"),
    }


@route("POST", "/processes")
async def start(ctx: Ctx):
    ctx.claims = authenticate(ctx.state, ctx.request, scope="write")
    fields, files = await form(ctx, limit=8 << 20)
    pipeline = str(fields.get("pipeline") or "")
    if pipeline == str(PIPELINE_IDS["training_set_maker"]):
        raise ApiError(
            "api-pipeline-unavailable",
            "The pipeline training_set_maker is not available "
            "on this server: pzcat runs Combine Redshift Catalogs only "
            "(combine_redshift_dedup).",
            501,
        )
    if pipeline != str(PIPELINE_IDS["combine_redshift_dedup"]):
        raise ApiError("api-bad-body", f'pipeline: Invalid pk "{pipeline}".', 400)
    used, param = _config(fields)
    name = str(fields.get("display_name") or "").strip()
    if not name:
        raise ApiError("api-bad-body", "display_name: This field is required.", 400)
    index = ctx.index
    ids = _inputs(fields)
    inputs = []
    for pid in ids:
        m = index.manifests.get(pid)
        if m is None or pid in index.extra_status:
            raise ApiError("product-not-found", f"input {pid} is not a published product.", 400)
        inputs.append(m.internal_name)
    ctype = param.get("combine_type", "concatenate_and_mark_duplicates")
    if ctype not in COMBINE_TYPES:
        raise ApiError(
            "api-bad-config", f"combine_type {ctype!r}: use {sorted(COMBINE_TYPES)}", 400
        )
    config: dict[str, Any] = {"duplicates": COMBINE_TYPES[ctype]}
    cut = param.get("z_flag_homogenized_value_to_cut")
    if cut not in (None, ""):
        try:
            config["cut"] = int(float(cut))
        except (TypeError, ValueError):
            raise ApiError(
                "api-bad-config", f"z_flag_homogenized_value_to_cut {cut!r} is not a number", 400
            ) from None
    fmt = used.get("output_format")
    store = Submissions(ctx.state.root)

    def work() -> dict:
        with _LOCK, _queue_lock(ctx.state.root):
            if len(pending(store)) >= QUEUE_SIZE:  # nothing written
                raise ApiError(
                    "api-queue-full",
                    f"{QUEUE_SIZE} processes are waiting already; try again later.",
                    503,
                )
            pid = _new_id(ctx)
            sub = {
                "id": pid,
                "kind": "new",
                "user": ctx.user,
                "name": name,
                "internal_name": make_internal_name(pid, name),
                "product_type": "redshift_catalog",
                "files": [],
                "roles": {},
                "created": now_utc().isoformat(),
                "branch": _branch(pid, ctx.user),
                "saved": True,
                "process": {
                    "status": "Pending",
                    "inputs": ids,
                    "used_config": used,
                    "created_at": iso(now_utc()),
                },
            }
            tree = _open_worktree(ctx, sub)
            catalog = Catalog.open(tree)
            if "flags_translation_file" in files:
                _, data = files["flags_translation_file"]
                flags = tree / "pipelines" / "data" / "api" / f"{sub['internal_name']}.yaml"
                atomic_write_bytes(flags, data)
                config["flags_file"] = str(flags)
            from pzcat.runs import create_run

            create_run(
                catalog,
                "combine_redshift_catalogs",
                name=name,
                inputs=inputs,
                uploaded_by=ctx.user,
                fmt=fmt,
                config=config,
                product_id=pid,
            )
            _commit_and_push(ctx, sub, tree, f"Request combination {sub['internal_name']}")
            store.put(sub)
            return sub

    sub = await run_sync(work)
    _worker(ctx.datasette, ctx.state.root).wake()
    return json_response(_record(store.get(sub["id"])), 201)


def _process_or_404(ctx: Ctx, pid: str) -> dict:
    sub = Submissions(ctx.state.root).get(int(pid))
    if sub is None or "process" not in sub:
        raise ApiError("api-not-found", "No Process matches the given query.", 404)
    return sub


@route("GET", "/processes")
async def processes(ctx: Ctx):
    args = ctx.args()
    subs = [s for s in Submissions(ctx.state.root).all() if "process" in s]
    items = [_record(s) for s in sorted(subs, key=lambda s: -s["id"])]
    if args.get("status"):
        items = [p for p in items if p["status"] == args["status"]]
    args.pop("status", None)
    return json_response(paginated(items, args))


@route("GET", r"/processes/(?P<pid>\d+)")
async def process(ctx: Ctx, pid: str):
    return json_response(_record(_process_or_404(ctx, pid)))


@route("GET POST", r"/processes/(?P<pid>\d+)/stop")
async def stop(ctx: Ctx, pid: str):
    ctx.claims = authenticate(ctx.state, ctx.request, scope="write")
    sub = _process_or_404(ctx, pid)
    cfg = ctx.index.catalog.config
    if ctx.user.lower() != sub["user"].lower() and not cfg.is_admin(ctx.user):
        raise ApiError(
            "api-not-owner", "Only the submitter or an admin may stop this process.", 403
        )
    store = Submissions(ctx.state.root)

    def flag() -> dict:
        with _LOCK, _queue_lock(ctx.state.root):  # the runner takes a Pending one under this lock
            now = store.get(sub["id"])
            if now["process"]["status"] == "Pending":
                now["process"].update(status="Failed", ended_at=iso(now_utc()), error="stopped")
            elif now["process"]["status"] == "Running":
                now["process"]["stop_requested"] = True  # its runner, in whichever process, ends it
            store.put(now)
            return now

    return json_response(_record(await run_sync(flag)))


__all__ = ["QUEUE_SIZE", "Worker", "pending", "resume"]
