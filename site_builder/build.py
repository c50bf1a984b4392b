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
import tempfile
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
from pzcat.files import atomic_write_text
from site_builder import render
from site_builder.collect import (
    PARALLEL_MIN,
    SiteData,
    compute_stats,
    default_workers,
    load_manifests,
)
from site_builder.history import manifest_histories

BASE_CONFIG = Path(__file__).resolve().parent / "mkdocs.base.yml"
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
        return {"out_dir": str(self.out_dir), "products": self.products,
                "pages_written": self.pages_written, "pages_kept": self.pages_kept,
                "stats_computed": self.stats_computed, "stats_cached": self.stats_cached,
                "seconds": round(self.seconds, 3),
                "timings": {k: round(v, 3) for k, v in self.timings.items()},
                "problems": self.problems}


def _write_if_changed(path: Path, text: str) -> bool:
    data = text.encode("utf-8")
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def mkdocs_config(catalog: Catalog, docs_dir: Path, site_dir: Path) -> dict[str, Any]:
    """The mkdocs configuration: the packaged base plus this catalog's name, URL and folders."""
    config = yaml.safe_load(BASE_CONFIG.read_text(encoding="utf-8"))
    cfg = catalog.config
    config.update({"site_name": cfg.name, "site_url": cfg.site_url,
                   "site_description": cfg.description, "docs_dir": str(docs_dir),
                   "site_dir": str(site_dir)})
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
    return PzcatError("site-build-failed", "mkdocs build failed:\n" + "\n".join(lines[-30:]),
                      file=str(config_file))


def run_mkdocs(config_file: Path, strict: bool = True) -> None:
    """``mkdocs build [--strict]`` in a subprocess (its own logging, no plugins of ours).

    Raises
    ------
    PzcatError
        ``site-build-failed`` with mkdocs' warnings and errors.
    """
    proc = subprocess.run(_mkdocs_cmd(config_file, strict), capture_output=True, text=True,
                          check=False, env=_MKDOCS_ENV)
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
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    now = set(copied)
    for rel in previous:
        if rel not in now:
            (dest / rel).unlink(missing_ok=True)
    return copied


def _page_key(data: SiteData, m, shell_digest: str, templates: str) -> str:
    """What a product page depends on, cheaply: no page is rendered to decide."""
    name = m.internal_name
    stats = data.stats.get(name) or {}
    parts = [data.digests.get(name) or m.model_dump_json(), data.stats_keys.get(name, ""),
             stats.get("error") or "", shell_digest, templates, data.catalog.config.site_url,
             data.catalog.config.datasette_url, data.catalog.config.repository_url,
             ",".join(e["commit"] for e in data.histories.get(f"manifests/{name}.yaml", []))]
    desc = m.description_file
    if desc is not None and desc.path:
        src = data.catalog.resolve(desc)
        parts.append(str(src.stat().st_mtime_ns) if src is not None and src.exists() else "-")
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _write_product(out_dir: Path, shell: render.Shell, data: SiteData, m) -> None:
    """Write product/<name>/index.html (plots inline), its description file and its JSON."""
    ctx = render.product_context(data, m)
    folder = out_dir / "product" / m.internal_name
    folder.mkdir(parents=True, exist_ok=True)
    content = render.render_product_content(ctx)
    (folder / "index.html").write_text(shell.page(m.internal_name, m.name, content), encoding="utf-8")
    frame = ctx["description_frame"]
    target = folder / "description.html"
    if frame and Path(frame["source"]).is_file():
        # shown with sandbox="" (no script runs); scripts are also dropped from the copy so the
        # browser does not log each blocked one as an error
        raw = Path(frame["source"]).read_bytes().decode("utf-8", "replace")
        target.write_text(_SCRIPT.sub("", raw), encoding="utf-8")
    elif target.exists():
        target.unlink()
    api = out_dir / "api" / "products" / f"{m.internal_name}.json"
    api.write_text(render.dumps(render.product_api(ctx, data.stats.get(m.internal_name))),
                   encoding="utf-8")


_SCRIPT = re.compile(r"<script\b.*?</script\s*>|<script\b[^>]*/>", re.I | re.S)
_JOB: tuple | None = None


def _write_chunk(indices: list[int]) -> int:
    out_dir, shell, data, manifests = _JOB
    for i in indices:
        _write_product(out_dir, shell, data, manifests[i])
    return len(indices)


def write_products(out_dir: Path, shell: render.Shell, data: SiteData, todo: list,
                   workers: int) -> None:
    """Render and write the product pages of ``todo`` (in forked workers when there are many)."""
    global _JOB
    if workers <= 1 or len(todo) < PARALLEL_MIN:
        for m in todo:
            _write_product(out_dir, shell, data, m)
        return
    _JOB = (out_dir, shell, data, todo)
    try:
        size = max(1, len(todo) // (workers * 8))
        chunks = [list(range(i, min(i + size, len(todo)))) for i in range(0, len(todo), size)]
        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork")) as pool:
            list(pool.map(_write_chunk, chunks))
    finally:
        _JOB = None


def build_site(catalog: Catalog, out_dir: Path, strict: bool = True,
               progress: Callable[[str], None] | None = None, work_dir: Path | None = None,
               workers: int | None = None) -> BuildResult:
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
    """
    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    out_dir = Path(out_dir).resolve()
    work = Path(work_dir).resolve() if work_dir else catalog.root / "build"
    cache_dir = work / "cache"
    cache_dir.mkdir(parents=True, exist_ok=True)
    n_workers = workers if workers is not None else default_workers()
    result = BuildResult(out_dir=out_dir)
    timings = result.timings
    cfg = catalog.config

    # 1. manifests, then the narrative pages; mkdocs runs in the background from here on
    digests: dict[str, str] = {}
    manifests, problems = load_manifests(catalog, cache_dir, workers=n_workers, digests=digests)
    say(f"{len(manifests)} manifests read")
    data = SiteData(catalog=catalog, manifests=manifests, stats={}, stats_keys={}, histories={},
                    problems=problems, digests=digests)
    result.problems = list(problems)
    result.products = len(manifests)
    docs_dir = work / "site_docs"
    pages = render.narrative_pages(data, [render.summary(m, cfg, None) for m in manifests])
    if docs_dir.exists():
        for path in docs_dir.rglob("*"):
            if path.is_file() and path.relative_to(docs_dir).as_posix() not in pages:
                path.unlink()
    for rel, text in pages.items():
        _write_if_changed(docs_dir / rel, text)
    config_file = work / "mkdocs.yml"
    mkdocs_dir = work / "mkdocs_site"
    _write_if_changed(config_file, yaml.safe_dump(mkdocs_config(catalog, docs_dir, mkdocs_dir),
                                                   sort_keys=False))
    say("running mkdocs build" + (" --strict" if strict else ""))
    with tempfile.TemporaryFile(mode="w+") as log:
        mkdocs = subprocess.Popen(_mkdocs_cmd(config_file, strict), stdout=log,
                                  stderr=subprocess.STDOUT, text=True, env=_MKDOCS_ENV)
        timings["manifests"] = time.perf_counter() - t0

        # 2. statistics (cached by file sha256) and git history, while mkdocs works
        try:
            t = time.perf_counter()
            data.stats, data.stats_keys, result.stats_computed, result.stats_cached = compute_stats(
                catalog, manifests, cache_dir, say, n_workers)
            data.histories = manifest_histories(catalog.root)
            timings["stats"] = time.perf_counter() - t
        finally:
            t = time.perf_counter()
            code = mkdocs.wait()
            timings["mkdocs_wait"] = time.perf_counter() - t
        log.seek(0)
        output = log.read()
    if code != 0:
        raise _mkdocs_failed(config_file, output)

    # 3. the mkdocs pages into out_dir, and the product page shell
    t = time.perf_counter()
    state_path = cache_dir / STATE_FILE
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = {}
    if state.get("out_dir") != str(out_dir):
        state = {}
    out_dir.mkdir(parents=True, exist_ok=True)
    shell_dir = mkdocs_dir / "product" / render.SHELL_NAME
    shell = render.Shell((shell_dir / "index.html").read_text(encoding="utf-8"))
    shutil.rmtree(shell_dir)
    _strip_sitemap(mkdocs_dir)
    mkdocs_files = _sync_tree(mkdocs_dir, out_dir, state.get("mkdocs_files", []))
    timings["sync"] = time.perf_counter() - t

    # 4. product pages whose key changed
    t = time.perf_counter()
    templates = render.template_digest()
    old_pages: dict[str, str] = state.get("pages", {})
    new_pages: dict[str, str] = {}
    todo = []
    (out_dir / "api" / "products").mkdir(parents=True, exist_ok=True)
    for m in manifests:
        key = _page_key(data, m, shell.digest, templates)
        new_pages[m.internal_name] = key
        if old_pages.get(m.internal_name) == key \
                and (out_dir / "product" / m.internal_name / "index.html").exists():
            continue
        todo.append(m)
    write_products(out_dir, shell, data, todo, n_workers)
    result.pages_written = len(todo)
    result.pages_kept = len(manifests) - len(todo)
    for name in set(old_pages) - set(new_pages):
        shutil.rmtree(out_dir / "product" / name, ignore_errors=True)
        (out_dir / "api" / "products" / f"{name}.json").unlink(missing_ok=True)
    say(f"{result.pages_written} product pages written, {result.pages_kept} unchanged")
    timings["products"] = time.perf_counter() - t

    # 5. the JSON API and the build state
    t = time.perf_counter()
    summaries = [render.summary(m, cfg, data.stats.get(m.internal_name)) for m in manifests]
    for name, doc in render.api_documents(data, summaries).items():
        _write_if_changed(out_dir / "api" / name, render.dumps(doc))
    (out_dir / ".nojekyll").touch()
    atomic_write_text(state_path, json.dumps({"out_dir": str(out_dir), "pages": new_pages,
                                              "mkdocs_files": mkdocs_files}))
    timings["api"] = time.perf_counter() - t
    result.seconds = time.perf_counter() - t0
    say(f"site built in {result.seconds:.1f} s: {out_dir}")
    return result


def _strip_sitemap(site: Path) -> None:
    """Drop the page shell from sitemap.xml (and its .gz) that mkdocs wrote."""
    import gzip
    import re

    path = site / "sitemap.xml"
    if not path.exists():
        return
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"\s*<url>\s*<loc>[^<]*/product/" + render.SHELL_NAME + r"/</loc>.*?</url>", "",
                  text, flags=re.S)
    path.write_text(text, encoding="utf-8")
    gz = site / "sitemap.xml.gz"
    if gz.exists():
        gz.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))


def site_size(out_dir: Path) -> int:
    """Total bytes of the built site."""
    return sum(p.stat().st_size for p in Path(out_dir).rglob("*") if p.is_file())


__all__ = ["BuildResult", "build_site", "site_size"]
