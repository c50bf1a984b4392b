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
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

import site_builder  # noqa: F401 - registers the site's error code
from pzcat.catalog import Catalog
from pzcat.errors import PzcatError
from pzcat.files import atomic_write_text
from site_builder import render
from site_builder.collect import SiteData, collect
from site_builder.plots import nz_svg, sky_svg

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
    if cfg.repository_url:
        # a link only: repo_url would make the theme call the GitHub API from every page
        config.setdefault("extra", {})["social"] = [
            {"icon": "fontawesome/brands/github", "link": cfg.repository_url, "name": "Repository"}]
    return config


def run_mkdocs(config_file: Path, strict: bool = True) -> None:
    """``mkdocs build [--strict]`` in a subprocess (its own logging, no plugins of ours).

    Raises
    ------
    PzcatError
        ``site-build-failed`` with mkdocs' warnings and errors.
    """
    cmd = [sys.executable, "-m", "mkdocs", "build", "--clean", "-q", "-f", str(config_file)]
    if strict:
        cmd.append("--strict")
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        lines = [ln for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip()]
        raise PzcatError("site-build-failed", "mkdocs build failed:\n" + "\n".join(lines[-30:]),
                         file=str(config_file))


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


def _page_key(data: SiteData, m, ctx: dict[str, Any], shell_digest: str, templates: str) -> str:
    payload = {
        "m": m.model_dump(mode="json"), "stats": data.stats_keys.get(m.internal_name),
        "stats_error": ctx["stats_error"], "history": ctx["raw_history"], "shell": shell_digest,
        "templates": templates, "site": data.catalog.config.site_url,
        "datasette": data.catalog.config.datasette_url,
    }
    if ctx["description_frame"]:
        src = Path(ctx["description_frame"]["source"])
        payload["frame"] = src.stat().st_mtime_ns if src.exists() else None
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _write_product(out_dir: Path, shell: render.Shell, data: SiteData, ctx: dict[str, Any]) -> None:
    m = ctx["m"]
    folder = out_dir / "product" / m.internal_name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    content = render.render_product_content(ctx)
    (folder / "index.html").write_text(shell.page(m.internal_name, m.name, content), encoding="utf-8")
    if ctx["sky"]:
        (folder / "sky.svg").write_text(sky_svg(ctx["sky"], f"Sky density of {m.name}"),
                                        encoding="utf-8")
    if ctx["nz"]:
        (folder / "nz.svg").write_text(nz_svg(ctx["nz"], f"n(z) of {m.name}"), encoding="utf-8")
    frame = ctx["description_frame"]
    if frame and Path(frame["source"]).is_file():
        shutil.copyfile(frame["source"], folder / "description.html")
    api = out_dir / "api" / "products" / f"{m.internal_name}.json"
    api.write_text(render.dumps(render.product_api(ctx, data.stats.get(m.internal_name))),
                   encoding="utf-8")


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
        Processes for statistics of new tables (default: the CPU count).

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
    result = BuildResult(out_dir=out_dir)
    timings = result.timings

    data = collect(catalog, cache_dir, progress=say, workers=workers)
    result.problems = list(data.problems)
    result.products = len(data.manifests)
    result.stats_computed, result.stats_cached = data.stats_computed, data.stats_cached
    timings["collect"] = time.perf_counter() - t0

    t = time.perf_counter()
    cfg = catalog.config
    summaries = [render.summary(m, cfg, data.stats.get(m.internal_name)) for m in data.manifests]
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
    _write_if_changed(config_file, yaml.safe_dump(mkdocs_config(catalog, docs_dir, mkdocs_dir),
                                                   sort_keys=False))
    say("running mkdocs build" + (" --strict" if strict else ""))
    run_mkdocs(config_file, strict=strict)
    timings["mkdocs"] = time.perf_counter() - t

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

    t = time.perf_counter()
    templates = render.template_digest()
    old_pages: dict[str, str] = state.get("pages", {})
    new_pages: dict[str, str] = {}
    (out_dir / "api" / "products").mkdir(parents=True, exist_ok=True)
    for m in data.manifests:
        ctx = render.product_context(data, m)
        key = _page_key(data, m, ctx, shell.digest, templates)
        new_pages[m.internal_name] = key
        page = out_dir / "product" / m.internal_name / "index.html"
        if old_pages.get(m.internal_name) == key and page.exists():
            result.pages_kept += 1
            continue
        _write_product(out_dir, shell, data, ctx)
        result.pages_written += 1
    for name in set(old_pages) - set(new_pages):
        shutil.rmtree(out_dir / "product" / name, ignore_errors=True)
        (out_dir / "api" / "products" / f"{name}.json").unlink(missing_ok=True)
    say(f"{result.pages_written} product pages written, {result.pages_kept} unchanged")
    timings["products"] = time.perf_counter() - t

    t = time.perf_counter()
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
