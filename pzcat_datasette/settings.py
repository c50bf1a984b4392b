"""The plugin's settings and per-instance state.

Settings come the way Datasette plugins take them: ``datasette.plugin_config("pzcat")``, i.e. the
``plugins: {pzcat: {...}}`` block of the metadata. :func:`pzcat_datasette.serve.make_datasette`
writes that block; ``datasette serve`` with a metadata file of its own works too (missing keys
default to ``$PZCAT_ROOT`` or the working directory and the folders under its ``build/``).

========================== ========================================================================
key                        meaning
========================== ========================================================================
``root``                   the catalog repository (manifests, products, tokens/revoked.yaml)
``site_dir``               the built static site served under ``/site/`` (default root/build/site)
``crc_cache``              the CRC-32 cache of the ZIP downloads (default root/build/crc-cache.json)
``previews_require_token`` previews need a token too (default false)
``response_cache``         keep anonymous Datasette pages in memory (default true)
========================== ========================================================================

The paths are kept off the public ``/-/metadata`` page (:func:`public_metadata`).
"""

from __future__ import annotations

import os
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pzcat.catalog import Catalog

PLUGIN = "pzcat"
#: Keys of the plugin configuration that hold server paths (never shown on /-/metadata).
PRIVATE_KEYS = ("root", "site_dir", "crc_cache")


@dataclass(frozen=True)
class Settings:
    """What the pzcat plugin needs at request time."""

    root: Path
    site_dir: Path
    crc_cache: Path
    previews_require_token: bool = False
    response_cache: bool = True

    @classmethod
    def from_config(cls, conf: dict[str, Any] | None) -> Settings:
        """Settings from a plugin configuration block (missing keys take their defaults)."""
        conf = conf or {}
        root = Path(conf.get("root") or os.environ.get("PZCAT_ROOT") or ".").resolve()
        return cls(
            root=root,
            site_dir=Path(conf.get("site_dir") or root / "build" / "site"),
            crc_cache=Path(conf.get("crc_cache") or root / "build" / "crc-cache.json"),
            previews_require_token=bool(conf.get("previews_require_token", False)),
            response_cache=bool(conf.get("response_cache", True)),
        )

    def to_config(self) -> dict[str, Any]:
        """The plugin configuration block (``metadata["plugins"]["pzcat"]``) for these settings."""
        return {
            "root": str(self.root),
            "site_dir": str(self.site_dir),
            "crc_cache": str(self.crc_cache),
            "previews_require_token": self.previews_require_token,
            "response_cache": self.response_cache,
        }


def settings(datasette) -> Settings:
    """The settings of one Datasette instance (read once, from its plugin configuration)."""
    return state(datasette).settings


def public_metadata(datasette) -> dict[str, Any]:
    """Datasette's metadata with the plugin's server paths left out (for ``/-/metadata``)."""
    meta = dict(datasette.metadata() or {})
    plugins = dict(meta.get("plugins") or {})
    if PLUGIN in plugins:
        plugins[PLUGIN] = {
            k: v for k, v in (plugins[PLUGIN] or {}).items() if k not in PRIVATE_KEYS
        }
        meta["plugins"] = plugins
    return meta


class State:
    """Caches of one Datasette instance: catalog (reloaded when manifests change), revocations, CRCs."""

    def __init__(self, cfg: Settings) -> None:
        from pzcat.bundle import CrcCache

        self.settings = cfg
        self.crc = CrcCache(cfg.crc_cache)
        self._catalog: Catalog | None = None
        self._catalog_sig: tuple | None = None
        self._revoked: frozenset[str] = frozenset()
        self._revoked_sig: tuple | None = None

    @staticmethod
    def _sig(folder: Path) -> tuple:
        try:
            return tuple(
                sorted((e.name, e.stat().st_mtime_ns, e.stat().st_size) for e in os.scandir(folder))
            )
        except OSError:
            return ()

    def catalog(self) -> Catalog:
        """The catalog, reopened when a manifest or catalog.yaml changed."""
        root = self.settings.root
        sig = (self._sig(root / "manifests"), self._sig(root))
        if self._catalog is None or sig != self._catalog_sig:
            self._catalog = Catalog.open(root)
            self._catalog_sig = sig
        return self._catalog

    def revoked(self) -> frozenset[str]:
        """Revoked token ids, reread when ``tokens/revoked.yaml`` changes."""
        from pzcat_datasette.tokens import load_revoked

        path = self.settings.root / "tokens" / "revoked.yaml"
        try:
            st = path.stat()
            sig: tuple | None = (st.st_mtime_ns, st.st_size)
        except OSError:
            sig = None
        if sig != self._revoked_sig:
            self._revoked = load_revoked(self.settings.root) if sig else frozenset()
            self._revoked_sig = sig
        return self._revoked


_STATES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def state(datasette) -> State:
    """The :class:`State` of one Datasette instance (made on first use)."""
    found = _STATES.get(datasette)
    if found is None:
        found = State(Settings.from_config(datasette.plugin_config(PLUGIN)))
        _STATES[datasette] = found
    return found
