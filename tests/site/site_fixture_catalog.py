"""A small fixed catalog for the site tests, generated from fixed values with fixed timestamps.

Four products (an official redshift catalog, a training set with an HTML description, a pipeline
output with provenance, a non-tabular training result) in a git repository whose two commits have
fixed authors and dates, so the rendered pages are byte-for-byte reproducible.
"""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import yaml

from pzcat.files import sha256_file
from pzcat.manifest import FileEntry, Manifest, Provenance, ProvenanceInput
from pzcat.tables import table_schema

CONFIG = {
    "name": "Test Photo-z Catalog",
    "description": "A fixed catalog for the site tests.",
    "site_url": "http://127.0.0.1:8001/site/",
    "datasette_url": "http://127.0.0.1:8001/",
    "repository_url": "https://github.com/lsst-pz/pzcat",
    "product_types": [
        {"name": "redshift_catalog", "display_name": "Reference Redshift Catalog", "order": 1,
         "description": "Reference redshifts and positions."},
        {"name": "training_set", "display_name": "Training Set", "order": 2,
         "description": "Training sets for photo-z algorithms."},
        {"name": "training_results", "display_name": "Training Results", "order": 3,
         "description": "Results of a photo-z training."},
        {"name": "other", "display_name": "Other", "order": 7, "description": "Anything else."},
    ],
    "releases": [{"name": "dp1", "display_name": "DP1", "description": "Data Preview 1."},
                 {"name": "dr1", "display_name": "DR1", "description": "Data Release 1."}],
    "admins": ["pz-coordination"],
}

DESCRIPTION_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>Training set notes</title></head>
<body><h1>Training set notes</h1><p id="note">Selected with i &lt; 24.5 in ECDFS.</p></body></html>
"""

T1 = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
T2 = datetime(2025, 2, 3, 4, 5, 6, tzinfo=UTC)


def _csv(path: Path, columns: dict[str, np.ndarray], fmt: dict[str, str]) -> None:
    names = list(columns)
    lines = [",".join(names)]
    for i in range(len(columns[names[0]])):
        lines.append(",".join(format(columns[c][i], fmt.get(c, "")) for c in names))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _entry(root: Path, path: Path, role: str, fmt: str, table: bool) -> FileEntry:
    rel = path.relative_to(root).as_posix()
    extra = {}
    if table:
        cols = table_schema(path, fmt)
        n = sum(1 for _ in path.open(encoding="utf-8")) - 1
        extra = {"n_rows": n, "columns": cols}
    return FileEntry(role=role, path=rel, format=fmt, size=path.stat().st_size,
                     sha256=sha256_file(path), **extra)


def _git(root: Path, *args: str, author: str, when: datetime) -> None:
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    env = {**os.environ, "GIT_AUTHOR_NAME": author, "GIT_AUTHOR_EMAIL": f"{author}@example.org",
           "GIT_COMMITTER_NAME": author, "GIT_COMMITTER_EMAIL": f"{author}@example.org",
           "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp, "GIT_CONFIG_NOSYSTEM": "1",
           "HOME": str(root)}
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def make_fixed_catalog(root: Path) -> Path:
    """Write the fixed catalog under ``root`` (a new git repository) and return ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "catalog.yaml").write_text(yaml.safe_dump(CONFIG, sort_keys=False), encoding="utf-8")
    (root / "manifests").mkdir()
    rng = np.random.default_rng(20250102)
    manifests = []

    # 1: official reference redshift catalog
    name = "1_reference_redshifts"
    folder = root / "products" / name
    folder.mkdir(parents=True)
    n = 200
    _csv(folder / "reference.csv", {
        "id": np.arange(1, n + 1), "ra": rng.uniform(50, 56, n), "dec": rng.uniform(-30, -25, n),
        "z": rng.gamma(2.0, 0.35, n), "z_err": rng.uniform(0.0001, 0.001, n),
        "z_flag": rng.choice([3, 4], n), "survey": np.array(["VVDS"] * n)},
        {"ra": ".6f", "dec": ".6f", "z": ".5f", "z_err": ".6f"})
    manifests.append(Manifest(
        id=1, internal_name=name, name="Reference redshifts", product_type="redshift_catalog",
        official=True, description="Spectroscopic redshifts in **ECDFS**, the reference sample.",
        uploaded_by="pz-coordination", created=T1, updated=T1, version=1,
        files=[_entry(root, folder / "reference.csv", "main", "csv", True)],
        columns={"id": "id", "ra": "ra", "dec": "dec", "z": "z", "z_err": "z_err",
                 "z_flag": "z_flag", "survey": "survey"}))

    # 2: training set with an HTML description (version 2 after a later edit)
    name = "2_ecdfs_training_set"
    folder = root / "products" / name
    folder.mkdir(parents=True)
    n = 120
    _csv(folder / "training.csv", {
        "objectId": np.arange(1000, 1000 + n), "z_spec": rng.uniform(0.05, 1.5, n),
        "mag_g": rng.normal(23, 0.8, n), "mag_r": rng.normal(22.5, 0.8, n),
        "mag_i": rng.normal(22.1, 0.8, n)},
        {"z_spec": ".4f", "mag_g": ".3f", "mag_r": ".3f", "mag_i": ".3f"})
    (folder / "notes.html").write_text(DESCRIPTION_HTML, encoding="utf-8")
    training = Manifest(
        id=2, internal_name=name, name="ECDFS training set", product_type="training_set",
        release="dp1", description="Training set with *g, r, i* magnitudes.\n\n"
        "<script>alert('not run')</script> raw HTML is shown as text.",
        uploaded_by="alice", created=T1, updated=T1, version=1,
        files=[_entry(root, folder / "training.csv", "main", "csv", True),
               _entry(root, folder / "notes.html", "description", "other", False)],
        columns={"id": "objectId", "z": "z_spec"})
    manifests.append(training)

    # 3: pipeline output with provenance
    name = "3_combined_redshifts"
    folder = root / "products" / name
    folder.mkdir(parents=True)
    n = 150
    _csv(folder / "combined.csv", {
        "CRD_ID": np.arange(n), "ra": rng.uniform(52, 54, n), "dec": rng.uniform(-28.5, -27, n),
        "z": rng.gamma(2.2, 0.3, n), "z_flag_homogenized": rng.choice([3, 4], n),
        "type_homogenized": np.array(["s"] * n), "tie_result": np.ones(n, dtype=int)},
        {"ra": ".6f", "dec": ".6f", "z": ".5f"})
    first = manifests[0]
    manifests.append(Manifest(
        id=3, internal_name=name, name="Combined redshifts", product_type="redshift_catalog",
        description="Combined with Combine Redshift Catalogs.", uploaded_by="pz-bot",
        created=T2, updated=T2, version=1,
        files=[_entry(root, folder / "combined.csv", "main", "csv", True)],
        columns={"id": "CRD_ID", "ra": "ra", "dec": "dec", "z": "z", "z_flag": "z_flag_homogenized"},
        provenance=Provenance(
            pipeline="combine_redshift_catalogs", pipeline_version="1.0.0",
            config={"duplicates": "remove", "output_format": "csv",
                    "crossmatch_radius_arcsec": 0.5},
            inputs=[ProvenanceInput(internal_name=first.internal_name, id=1, version=1,
                                    files=[{"path": first.files[0].path,
                                            "sha256": first.files[0].sha256}])],
            software={"pzcat": "0.1.0", "python": "3.11"}, started=T2, ended=T2)))

    # 4: a non-tabular product
    name = "4_bpz_model"
    folder = root / "products" / name
    folder.mkdir(parents=True)
    (folder / "model.pkl").write_bytes(bytes(range(256)) * 4)
    manifests.append(Manifest(
        id=4, internal_name=name, name="BPZ model", product_type="training_results",
        release="dp1", pz_code="BPZ", description="A BPZ prior trained on the ECDFS training set.",
        uploaded_by="bob", created=T1, updated=T1, version=1, license="MIT",
        files=[_entry(root, folder / "model.pkl", "main", "other", False)]))

    for m in manifests:
        (root / "manifests" / f"{m.internal_name}.yaml").write_text(m.to_yaml(), encoding="utf-8")
    _git(root, "init", "-q", "-b", "main", author="maintainer", when=T1)
    _git(root, "add", "-A", author="maintainer", when=T1)
    _git(root, "commit", "-q", "-m", "Add the first products", author="maintainer", when=T1)
    edited = training.model_copy(update={"version": 2, "updated": T2,
                                         "description": training.description + "\n\nNow with notes."})
    (root / "manifests" / f"{edited.internal_name}.yaml").write_text(edited.to_yaml(),
                                                                     encoding="utf-8")
    _git(root, "commit", "-q", "-am", "Describe the ECDFS training set", author="alice", when=T2)
    return root
