"""One manifest parser: ``pzcat.manifest.read_manifest`` on the safe loader of ``pzcat.safeyaml``.

A lint over the source: no ``yaml.safe_load``/``yaml.load`` (any YAML read goes through
``pzcat.safeyaml.load_yaml``) and no ``Manifest.model_validate`` (any manifest goes through
``read_manifest``/``parse_manifest``/``manifest_problems``) outside their two homes; and the
readers agree on the same hostile manifest.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from pzcat.catalog import Catalog
from pzcat.errors import ManifestError
from pzcat.manifest import read_manifest, read_manifest_or_none
from pzcat.validate import validate_catalog

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["pzcat", "pzcat_datasette", "pzcat_github", "pipelines", "site_builder"]
YAML_HOME = "pzcat/safeyaml.py"
MANIFEST_HOME = "pzcat/manifest.py"
YAML_LOADS = {"safe_load", "load", "full_load", "unsafe_load", "safe_load_all", "load_all"}


def _stray(path: Path, rel: str) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        base = node.func.value
        name = base.id if isinstance(base, ast.Name) else None
        if name == "yaml" and node.func.attr in YAML_LOADS and rel != YAML_HOME:
            out.append(f"{rel}:{node.lineno}: yaml.{node.func.attr}")
        if name == "Manifest" and node.func.attr == "model_validate" and rel != MANIFEST_HOME:
            out.append(f"{rel}:{node.lineno}: Manifest.model_validate")
    return out


def test_no_stray_yaml_or_manifest_parsing():
    stray = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            stray += _stray(path, path.relative_to(ROOT).as_posix())
    assert stray == [], (
        "parse YAML with pzcat.safeyaml.load_yaml and manifests with "
        "pzcat.manifest.read_manifest:\n" + "\n".join(stray)
    )


HOSTILE = {
    "alias": "a: &x [1, 2]\nb: *x\n",
    "not a mapping": "- 1\n- 2\n",
    "bad utf-8": b"id: 1\nname: \xff\n",
    "syntax": "id: [1\n",
    "schema": "id: one\n",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_every_reader_refuses_the_same_manifests(name, demo_root):
    text = HOSTILE[name]
    with pytest.raises(ManifestError) as err:
        read_manifest(text, "x.yaml")
    assert read_manifest_or_none(text, "x.yaml") is None
    path = demo_root / "manifests" / "99_hostile.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    catalog = Catalog.open(demo_root)
    good, bad = catalog.load()
    assert [(p.name, e.code) for p, e in bad] == [(path.name, err.value.code)]
    report = validate_catalog(catalog, paths=[path])
    codes = {i.code for p in report.products for i in p.errors}
    assert err.value.code in codes
