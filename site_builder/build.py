"""Build the static site: collect, render, ``mkdocs build --strict``, product pages, JSON API.

Examples
--------
>>> from pzcat.catalog import Catalog
>>> from site_builder.build import build_site
>>> result = build_site(Catalog.open("."), Path("site"))     # doctest: +SKIP
>>> result.products, result.seconds                          # doctest: +SKIP

Incremental by design: statistics are cached by file sha256 (``build/cache/stats``) and a product
page is rendered again only when its key changes (its manifest, statistics key, git history, the
page shell or the templates), so a rebuild after one manifest change writes one product page.
"""

from __future__ import annotations

import filecmp
import hashlib
import json
import multiprocessing as mp
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

import site_builder  # noqa: F401 - registers the site's error code
from pzcat.catalog import Catalog
from pzcat.errors import PzcatError
from pzcat.files import atomic_write_bytes, atomic_write_text
from pzcat.html import clean_document
from pzcat.links import Links
from pzcat.safeyaml import load_yaml
from pzcat.staging import die_with_parent, put_bytes, put_copy, put_text, staged_folder
from site_builder import render
from site_builder.collect import (
    PARALLEL_MIN,
    SiteData,
    StatsStore,
    _parse,
    cacheable,
    cached_histories,
    default_workers,
    record_of,
    scan_records,
    stats_for,
    summary,
)

BASE_CONFIG = Path(__file__).resolve().parent / "mkdocs.base.yml"
#: Theme overrides (the 404 page).
OVERRIDES = Path(__file__).resolve().parent / "overrides"
STATE_FILE = "site_state.json"


@dataclass
class BuildResult:
    """What a build did."""

    out_dir: Path
    products: int = 0
    pages_written: int = 0
    pages_kept: int = 0
    stats_computed: int = 0
    stats_cached: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "out_dir": str(self.out_dir),
            "products": self.products,
            "pages_written": self.pages_written,
            "pages_kept": self.pages_kept,
            "stats_computed": self.stats_computed,
            "stats_cached": self.stats_cached,
            "seconds": round(self.seconds, 3),
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "problems": self.problems,
        }


def _write_if_changed(path: Path, text: str) -> bool:
    data = text.encode("utf-8")
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except OSError:
        pass
    put_bytes(path, data)  # a new file: the staging copy shares unchanged inodes with the live site
    return True


def mkdocs_config(catalog: Catalog, docs_dir: Path, site_dir: Path) -> dict[str, Any]:
    """The mkdocs configuration: the packaged base plus this catalog's name, URL and folders."""
    config = load_yaml(BASE_CONFIG.read_bytes(), str(BASE_CONFIG.name), error=PzcatError)
    cfg = catalog.config
    config.update(
        {
            "site_name": cfg.name,
            "site_url": cfg.site_url,
            "site_description": cfg.description,
            "docs_dir": str(docs_dir),
            "site_dir": str(site_dir),
        }
    )
    # the 404 page with the way back (theme override); its links are absolute paths (it is served
    # at any depth): the server's root is a path when it shares the site's origin
    links = Links.of(cfg)
    config["theme"]["custom_dir"] = str(OVERRIDES)
    config.setdefault("extra", {})["pzcat_server"] = (
        links.on_server("") if links.same_origin else links.server_from_site
    )
    # no repo_url (the theme would call the GitHub API from every page) and no social icons (1.6 KB
    # on each of 10,000 product pages): the landing page links the repository instead
    return config


_MKDOCS_ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}


def _mkdocs_cmd(config_file: Path, strict: bool) -> list[str]:
    # no -q: mkdocs counts strict-mode warnings through its logger, which -q silences
    cmd = [sys.executable, "-m", "mkdocs", "build", "--clean", "-f", str(config_file)]
    return [*cmd, "--strict"] if strict else cmd


def _mkdocs_failed(config_file: Path, output: str) -> PzcatError:
    lines = [ln for ln in output.splitlines() if ln.strip() and not ln.startswith("INFO")]
    return PzcatError(
        "site-build-failed",
        "mkdocs build failed:\n" + "\n".join(lines[-30:]),
        file=str(config_file),
    )


def run_mkdocs(config_file: Path, strict: bool = True) -> None:
    """``mkdocs build [--strict]`` in a subprocess (its own logging, no plugins of ours).

    Raises
    ------
    PzcatError
        ``site-build-failed`` with mkdocs' warnings and errors.
    """
    proc = subprocess.run(
        _mkdocs_cmd(config_file, strict),
        capture_output=True,
        text=True,
        check=False,
        env=_MKDOCS_ENV,
    )
    if proc.returncode != 0:
        raise _mkdocs_failed(config_file, proc.stderr + proc.stdout)


def _sync_tree(src: Path, dest: Path, previous: list[str]) -> list[str]:
    """Copy ``src`` over ``dest`` (changed files only); remove files of ``previous`` now gone."""
    copied = []
    for path in sorted(src.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(src).as_posix()
        copied.append(rel)
        target = dest / rel
        if target.exists() and filecmp.cmp(path, target, shallow=False):
            continue
        put_copy(path, target)
    now = set(copied)
    for rel in previous:
        if rel not in now:
            (dest / rel).unlink(missing_ok=True)
    return copied


def _page_key(
    rec: dict[str, Any], histories: dict[str, list[dict[str, Any]]], has_stats: bool, common: str
) -> str:
    """What a product page depends on, from its record: no page is rendered to decide."""
    parts = [
        rec["digest"],
        rec["stats_key"] or "",
        "1" if has_stats else "0",
        common,
        ",".join(e["commit"] for e in histories.get(f"manifests/{rec['name']}.yaml", [])),
    ]
    if rec.get("desc"):
        try:
            parts.append(str(Path(rec["desc"]).stat().st_mtime_ns))
        except OSError:
            parts.append("-")
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _write_product(out_dir: Path, shell: render.Shell | None, data: SiteData, m) -> None:
    """Write product/<name>/index.html (plots inline), its description and provenance files, JSON.

    Without ``shell`` the page holds only its content, to be wrapped by :func:`_wrap_page` once
    mkdocs has built the shell (see :func:`build_site`).
    """
    ctx = render.product_context(data, m)
    folder = out_dir / "product" / m.internal_name
    folder.mkdir(parents=True, exist_ok=True)
    content = render.render_product_content(ctx)
    html = shell.page(m.internal_name, m.name, content) if shell else content
    put_text(folder / "index.html", html)
    frame = ctx["description_frame"]
    target = folder / "description.html"
    if frame and Path(frame["source"]).is_file():
        # sanitised (pzcat.html), shown with sandbox="" and served with CSP: sandbox
        raw = Path(frame["source"]).read_bytes().decode("utf-8", "replace")
        put_text(target, clean_document(raw))
    elif target.exists():
        target.unlink()
    prov = folder / render.PROVENANCE_FILE
    if ctx["provenance_yaml"]:
        put_text(prov, ctx["provenance_yaml"])  # .txt: every host shows it as text
    elif prov.exists():
        prov.unlink()
    for f in ctx["files"]:
        # auxiliary images shown inline: copied next to the page (public like the page itself)
        if f["image"] and Path(f["source"]).is_file():
            dest = folder / f["image"]
            if not dest.exists() or dest.stat().st_size != Path(f["source"]).stat().st_size:
                put_copy(Path(f["source"]), dest)
    api = out_dir / "api" / "products" / f"{m.internal_name}.json"
    put_text(api, render.dumps(render.product_api(ctx, data.stats.get(m.internal_name))))


class _Job:
    """What workers need (inherited by fork, never pickled)."""

    out_dir: Path
    shell: render.Shell | None = None
    catalog: Catalog
    store: StatsStore
    histories: dict[str, list[dict[str, Any]]]
    items: list = []


_JOB = _Job()


def _product(path: str, record: dict[str, Any] | None) -> tuple:
    """Parse, compute statistics if missing, write the page: (file, record or error, stats)."""
    job = _JOB
    m = _parse(path)
    if isinstance(m, str):
        return (Path(path).name, m, None)
    rec = record or record_of(job.catalog, m)
    stats, computed = stats_for(job.store, rec["stats_key"], rec["stats_args"])
    rec["summary"] = summary(m, job.catalog.config, stats)  # as the golden tests: with statistics
    data = SiteData(
        catalog=job.catalog,
        manifests=[m],
        stats={m.internal_name: stats},
        stats_keys={},
        histories=job.histories,
    )
    _write_product(job.out_dir, job.shell, data, m)
    return (Path(path).name, rec, stats if computed and cacheable(stats) else None)


def _product_chunk(indices: list[int]) -> list[tuple]:
    return [_product(*_JOB.items[i]) for i in indices]


def _wrap_chunk(indices: list[int]) -> int:
    for i in indices:
        name, title = _JOB.items[i]
        _wrap_page(_JOB.out_dir, _JOB.shell, name, title)
    return len(indices)


def _wrap_page(out_dir: Path, shell: render.Shell, name: str, title: str) -> None:
    page = out_dir / "product" / name / "index.html"
    put_text(page, shell.page(name, title, page.read_text(encoding="utf-8")))


def _map(func: Callable[[list[int]], Any], n: int, workers: int) -> list:
    """``func`` over chunks of ``range(n)`` of ``_JOB.items``, in forked workers when many."""
    if workers <= 1 or n < PARALLEL_MIN:
        return [func(list(range(n)))] if n else []
    size = max(1, min(64, n // (workers * 4)))
    chunks = [list(range(i, min(i + size, n))) for i in range(0, n, size)]
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=mp.get_context("fork"), initializer=die_with_parent
    ) as pool:
        return list(pool.map(func, chunks))


def build_site(
    catalog: Catalog,
    out_dir: Path,
    strict: bool = True,
    progress: Callable[[str], None] | None = None,
    work_dir: Path | None = None,
    workers: int | None = None,
) -> BuildResult:
    """Build the whole site of ``catalog`` into ``out_dir``.

    Parameters
    ----------
    catalog : Catalog
        The catalog to publish.
    out_dir : Path
        Where the static site goes (ready for GitHub Pages or ``pzcat serve``).
    strict : bool
        Run ``mkdocs build --strict`` (a warning fails the build).
    progress : callable, optional
        Called with one line per step.
    work_dir : Path, optional
        Generated docs, mkdocs output and caches (default ``<root>/build``).
    workers : int, optional
        Processes for manifests, statistics and pages (default: the CPU count, at most 8).

    Raises
    ------
    PzcatError
        ``site-build-failed`` when mkdocs fails.

    Notes
    -----
    New or changed manifests go through one parallel pass (parse, statistics, page content, JSON)
    before mkdocs runs, since the lists mkdocs builds need their records; their pages are wrapped
    in the mkdocs-built shell afterwards. Unchanged manifests are not parsed; their pages are
    rendered again only when their key (manifest digest, statistics, git history, shell,
    templates, URLs) changed.

    The site is built in a staging copy of ``out_dir`` (hard links of the unchanged files) that
    replaces it atomically at the end (:func:`pzcat.staging.staged_folder`): a kill at any moment
    leaves the served folder as it was, and the next build removes the stale copy.
    """
    final = Path(out_dir).resolve()
    work = Path(work_dir).resolve() if work_dir else catalog.root / "build"
    with staged_folder(final) as stage:
        result, state_path, state = _build_site(
            catalog, final, stage, strict, progress, work, workers
        )
    atomic_write_text(state_path, json.dumps(state))  # only once the new site is the live one
    return result


def _build_site(
    catalog: Catalog,
    final: Path,
    out_dir: Path,
    strict: bool,
    progress: Callable[[str], None] | None,
    work: Path,
    workers: int | None,
) -> tuple[BuildResult, Path, dict[str, Any]]:
    """:func:`build_site` into the staging folder ``out_dir``; the state to save after the swap."""
    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    cache_dir = work / "cache"
    cache_dir.mkdir(parents=True, exist_ok=True)
    n_workers = workers if workers is not None else default_workers()
    result = BuildResult(out_dir=final)
    timings = result.timings
    cfg = catalog.config
    state_path = cache_dir / STATE_FILE
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = {}
    if state.get("out_dir") != str(final):
        state = {}
    old_pages: dict[str, str] = state.get("pages", {})
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "api" / "products").mkdir(parents=True, exist_ok=True)
    store = StatsStore(cache_dir)
    histories = cached_histories(catalog.root, cache_dir)
    _JOB.out_dir, _JOB.catalog, _JOB.store, _JOB.histories = out_dir, catalog, store, histories
    _JOB.shell = None
    timings["history"] = time.perf_counter() - t0

    # 1. new and changed manifests: parse, statistics, page content and JSON, in one pass
    t = time.perf_counter()
    scan = scan_records(catalog, cache_dir)
    _JOB.items = [(miss["path"], None) for miss in scan.misses]
    if scan.misses:
        say(f"{len(scan.misses)} new or changed manifests ({len(scan.hits)} unchanged)")
    try:
        fresh = [item for part in _map(_product_chunk, len(_JOB.items), n_workers) for item in part]
    finally:
        _JOB.items = []
    parsed: dict[str, dict[str, Any]] = {}
    for file, rec, stats in fresh:
        if isinstance(rec, str):
            result.problems.append(rec)
            continue
        parsed[file] = rec
        if stats is not None:
            store.add(rec["stats_key"], stats)
            result.stats_computed += 1
    records = scan.complete(parsed)
    fresh_names = {rec["name"] for rec in parsed.values()}
    result.products = len(records)
    timings["fresh"] = time.perf_counter() - t

    # 2. the narrative pages and the shell, by mkdocs
    t = time.perf_counter()
    summaries = [r["summary"] for r in records]
    data = SiteData(catalog=catalog, manifests=[], stats={}, stats_keys={}, histories={})
    docs_dir = work / "site_docs"
    pages = render.narrative_pages(data, summaries)
    if docs_dir.exists():
        for path in docs_dir.rglob("*"):
            if path.is_file() and path.relative_to(docs_dir).as_posix() not in pages:
                path.unlink()
    for rel, text in pages.items():
        _write_if_changed(docs_dir / rel, text)
    config_file = work / "mkdocs.yml"
    mkdocs_dir = work / "mkdocs_site"
    _write_if_changed(
        config_file, yaml.safe_dump(mkdocs_config(catalog, docs_dir, mkdocs_dir), sort_keys=False)
    )
    say("running mkdocs build" + (" --strict" if strict else ""))
    run_mkdocs(config_file, strict)
    shell_dir = mkdocs_dir / "product" / render.SHELL_NAME
    shell = render.Shell((shell_dir / "index.html").read_text(encoding="utf-8"))
    shutil.rmtree(shell_dir)
    _strip_sitemap(mkdocs_dir)
    _index_products(mkdocs_dir, [r["summary"] for r in records])
    mkdocs_files = _sync_tree(mkdocs_dir, out_dir, state.get("mkdocs_files", []))
    timings["mkdocs"] = time.perf_counter() - t

    # 3. wrap the fresh pages; render again the unchanged products whose page key changed
    t = time.perf_counter()
    _JOB.shell = shell
    common = "\x1f".join(
        [
            shell.digest,
            render.template_digest(),
            cfg.site_url,
            cfg.datasette_url,
            cfg.repository_url,
        ]
    )
    new_pages: dict[str, str] = {}
    stale = []
    for rec in records:
        key = _page_key(rec, histories, rec["stats_key"] in store.keys, common)
        new_pages[rec["name"]] = key
        if rec["name"] in fresh_names:
            continue
        if (
            old_pages.get(rec["name"]) != key
            or not (out_dir / "product" / rec["name"] / "index.html").exists()
        ):
            stale.append(rec)
    try:
        _JOB.items = [
            (r["name"], r["summary"]["name"]) for r in records if r["name"] in fresh_names
        ]
        _map(_wrap_chunk, len(_JOB.items), n_workers)
        _JOB.items = [(r["path"], r) for r in stale]
        again = [item for part in _map(_product_chunk, len(_JOB.items), n_workers) for item in part]
    finally:
        _JOB.items, _JOB.histories, _JOB.shell = [], {}, None
    for _file, rec, stats in again:
        if isinstance(rec, dict) and stats is not None:
            store.add(rec["stats_key"], stats)
            result.stats_computed += 1
            new_pages[rec["name"]] = _page_key(rec, histories, True, common)
    store.save()
    scan.save(cache_dir)
    result.pages_written = len(fresh_names) + len(again)
    result.pages_kept = len(records) - result.pages_written
    result.stats_cached = (
        sum(1 for r in records if r["stats_key"] in store.keys) - result.stats_computed
    )
    for name in set(old_pages) - set(new_pages):
        shutil.rmtree(out_dir / "product" / name, ignore_errors=True)
        (out_dir / "api" / "products" / f"{name}.json").unlink(missing_ok=True)
    say(f"{result.pages_written} product pages written, {result.pages_kept} unchanged")
    timings["pages"] = time.perf_counter() - t

    # 4. the JSON API and the build state
    t = time.perf_counter()
    for name, doc in render.api_documents(data, summaries).items():
        _write_if_changed(out_dir / "api" / name, render.dumps(doc))
    (out_dir / ".nojekyll").touch()
    new_state = {"out_dir": str(final), "pages": new_pages, "mkdocs_files": mkdocs_files}
    timings["api"] = time.perf_counter() - t
    result.seconds = time.perf_counter() - t0
    say(f"site built in {result.seconds:.1f} s: {final}")
    return result, state_path, new_state


#: Characters of a product's description and of its column names in the header search's index.
SEARCH_DESCRIPTION_CHARS = 200
SEARCH_COLUMN_CHARS = 300


def search_entry(summary: dict[str, Any]) -> dict[str, str]:
    """One product in mkdocs-material's search index: name, type, description and columns.

    Kept short (about 0.5 KB a product, 5 MB at 10,000) since the theme's search loads the whole
    index in the browser: the first sentences of the description and the first column names.
    """
    from html import escape

    desc = " ".join((summary.get("description") or "").split())
    # plain text: the results show it as is (no "**VIMOS**", no "[text](url)")
    desc = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", desc)
    desc = re.sub(r"[*`]+|(?:^|(?<= ))#+ ", "", desc)
    if len(desc) > SEARCH_DESCRIPTION_CHARS:
        desc = desc[:SEARCH_DESCRIPTION_CHARS].rsplit(" ", 1)[0] + " …"
    cols = ""
    for col in summary.get("columns") or []:
        if len(cols) + len(col) + 1 > SEARCH_COLUMN_CHARS:
            break
        cols += (" " if cols else "") + col
    bits = [
        f"{summary.get('product_type_display', '')} · {summary['internal_name']}"
        + (f" · {summary['release_display']}" if summary.get("release_display") else ""),
        desc,
    ]
    if cols:
        bits.append("Columns: " + cols)
    return {
        "location": summary["url"],
        "title": summary["name"],
        "text": "".join(f"<p>{escape(b)}</p>" for b in bits if b),
    }


def _index_products(site: Path, summaries: list[dict[str, Any]]) -> None:
    """Add every product page to the header search's index (mkdocs never sees product pages)."""
    path = site / "search" / "search_index.json"
    if not path.exists():
        return
    index = json.loads(path.read_text(encoding="utf-8"))
    index["docs"] = [
        d
        for d in index.get("docs", [])
        if "/" + render.SHELL_NAME not in "/" + d.get("location", "")
    ]
    index["docs"].extend(search_entry(s) for s in summaries)
    atomic_write_text(
        path, json.dumps(index, ensure_ascii=False, separators=(",", ":")), durable=False
    )


def _strip_sitemap(site: Path) -> None:
    """Drop the page shell from sitemap.xml (and its .gz) that mkdocs wrote."""
    import gzip

    path = site / "sitemap.xml"
    if not path.exists():
        return
    text = path.read_text(encoding="utf-8")
    text = re.sub(
        r"\s*<url>\s*<loc>[^<]*/product/" + render.SHELL_NAME + r"/</loc>.*?</url>",
        "",
        text,
        flags=re.S,
    )
    atomic_write_text(path, text, durable=False)
    gz = site / "sitemap.xml.gz"
    if gz.exists():
        atomic_write_bytes(gz, gzip.compress(text.encode("utf-8"), mtime=0), durable=False)


def site_size(out_dir: Path) -> int:
    """Total bytes of the built site."""
    return sum(p.stat().st_size for p in Path(out_dir).rglob("*") if p.is_file())


__all__ = ["BuildResult", "build_site", "site_size"]
