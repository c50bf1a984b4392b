"""What the API keeps between requests: the catalog and its records, reloaded when the repository
changes (manifests are written atomically, so the folder's mtime changes with every write)."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pzcat.catalog import Catalog
from pzcat.filters import ProductRecords
from pzcat.manifest import Manifest
from pzcat.records import can_change, product_record
from pzcat_datasette.tokens import load_revoked


@dataclass
class Index:
    """The catalog's product records (anonymous view), by id and internal name.

    Built once per catalog state and read-only afterwards: ``table`` holds the records prepared
    for the products filters (lowered texts, cached orderings), ``by_id`` the records by id.
    """

    catalog: Catalog
    records: list[dict[str, Any]]
    manifests: dict[int, Manifest]
    by_name: dict[str, int]
    extra_status: dict[int, int] = field(default_factory=dict)
    table: ProductRecords = field(init=False)
    by_id: dict[int, dict[str, Any]] = field(init=False)

    def __post_init__(self) -> None:
        self.table = ProductRecords(self.records)
        self.by_id = {r["id"]: r for r in self.records}

    def manifest(self, key: int | str) -> Manifest | None:
        text = str(key)
        if text.isdigit():
            return self.manifests.get(int(text))
        pid = self.by_name.get(text)
        return self.manifests.get(pid) if pid is not None else None

    def record_for(self, record: dict[str, Any], user: str | None) -> dict[str, Any]:
        """``record`` as ``user`` sees it (is_owner, can_update, can_delete)."""
        if not user:
            return record
        m = self.manifests[record["id"]]
        out = dict(record)
        out["is_owner"] = user.lower() == m.uploaded_by.lower()
        allowed = can_change(self.catalog.config, m, user) and record["status"] != 2
        out["can_update"] = out["can_delete"] = allowed
        return out


def _mtime(path: Path) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


class ApiState:
    """Caches of one server for the API (thread-safe; one per Datasette instance)."""

    def __init__(self, root: Path, overlay=None) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()
        self._index: Index | None = None
        self._sig = None
        self._revoked = frozenset()
        self._revoked_sig: Any = ()
        #: Submissions not yet merged: ``.signature()`` and ``.items()`` -> ``[(manifest, status)]``.
        self.overlay = overlay

    def signature(self) -> tuple:
        over = self.overlay.signature() if self.overlay else None
        return (_mtime(self.root / "manifests"), _mtime(self.root / "catalog.yaml"), over)

    def index(self) -> Index:
        sig = self.signature()
        with self._lock:
            if self._index is not None and sig == self._sig:
                return self._index
            catalog = Catalog.open(self.root)
            manifests = {m.id: m for m in catalog.manifests()}
            extra: dict[int, int] = {}
            if self.overlay:
                for m, status in self.overlay.items():
                    if m.id not in manifests:
                        manifests[m.id] = m
                        extra[m.id] = status
            cfg = catalog.config
            records = [product_record(cfg, m, status=extra.get(m.id)) for m in manifests.values()]
            self._index = Index(
                catalog,
                records,
                manifests,
                {m.internal_name: m.id for m in manifests.values()},
                extra,
            )
            self._sig = sig
            return self._index

    def revoked(self) -> frozenset:
        path = self.root / "tokens" / "revoked.yaml"
        sig = _mtime(path)
        if sig != self._revoked_sig:
            self._revoked = load_revoked(self.root) if sig else frozenset()
            self._revoked_sig = sig
        return self._revoked
