"""Build the repository's demo catalog from real survey samples and generated files.

The real samples (random samples of public spectroscopic surveys, from LIneA's Combine Redshift
Catalogs test data, MIT licence) live in ``demo/sources/``. The other products (a training set with
magnitudes, photo-z estimates, validation results with a plot and an HTML description, training
results as a pickle, an objects catalog) are generated here with a fixed seed.

Usage::

    python scripts/make_demo.py            # into the repository (refuses if products exist)
    python scripts/make_demo.py --root DIR --force
    python scripts/make_demo.py --rewrite-training-set   # only the HDF5 training set, in place
"""

from __future__ import annotations

import argparse
import pickle
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.combine.lifecycle import create_combine
from pzcat.catalog import Catalog
from pzcat.files import path_digest
from pzcat.manifest import now_utc
from pzcat.products import add_product
from pzcat.readers.hdf5 import write_columns
from pzcat.runs import run_pending

REPO = Path(__file__).resolve().parents[1]
SOURCES = REPO / "demo" / "sources"
SEED = 20261121


def _vvds_fits(work: Path) -> Path:
    from astropy.table import Table

    df = pd.read_parquet(SOURCES / "vvds_final_release_random_sample.parquet")
    df = df.drop(columns=[c for c in df.columns if c.startswith("__")])
    table = Table.from_pandas(df)
    for col in ("ALPHA", "DELTA"):
        table[col].unit = "deg"
    for col in table.colnames:
        if col.startswith("MAG"):
            table[col].unit = "mag"
    out = work / "vvds_final_release_sample.fits"
    table.write(out, overwrite=True)
    return out


def _desi_csv(work: Path) -> Path:
    df = pd.read_parquet(SOURCES / "desi_dr1_in_lsst_dp1_fields_random_sample.parquet")
    keep = [
        "TARGETID",
        "TARGET_RA",
        "TARGET_DEC",
        "Z",
        "ZERR",
        "ZWARN",
        "SPECTYPE",
        "ZCAT_PRIMARY",
        "SURVEY",
        "PROGRAM",
        "FLUX_G",
        "FLUX_R",
        "FLUX_Z",
        "survey_name",
    ]
    out = work / "desi_dr1_dp1_fields_sample.csv"
    df[[c for c in keep if c in df.columns]].to_csv(out, index=False)
    return out


def _parquet(name: str, work: Path, target: str) -> Path:
    df = pd.read_parquet(SOURCES / f"{name}.parquet")
    df = df.drop(columns=[c for c in df.columns if c.startswith("__")])
    out = work / target
    df.to_parquet(out, index=False)
    return out


def _galaxies(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Mock galaxies in the ECDFS DP1 field with a smooth n(z) and colours that track z."""
    z = rng.gamma(shape=2.0, scale=0.35, size=n).clip(0.01, 3.0)
    ra = 53.13 + rng.normal(0, 0.6, n)
    dec = -28.10 + rng.normal(0, 0.6, n)
    base = 22.0 + 1.2 * np.log1p(z) + rng.normal(0, 0.6, n)
    df = pd.DataFrame({"object_id": np.arange(1, n + 1, dtype="int64"), "ra": ra, "dec": dec})
    for i, band in enumerate("ugrizy"):
        slope = (2.4 - 0.45 * i) * z / (1 + z)
        mag = base + slope + 0.15 * i * (i - 2.5) * 0.1 + rng.normal(0, 0.05, n)
        df[f"mag_{band}"] = mag.round(4)
        df[f"magerr_{band}"] = (0.01 * 10 ** (0.2 * (mag - 22))).round(5)
    df["z"] = z.round(5)
    return df


TRAINING_SET = "6_dp1_ecdfs_training_set"
TRAINING_SET_TEXT = (
    "Mock training set of 5,000 galaxies in the ECDFS DP1 field: ugrizy magnitudes with errors "
    "and reference redshifts (HDF5: one dataset per column, as tables_io writes)."
)


def _training_set(rng: np.random.Generator, work: Path) -> Path:
    """The training set as tables_io writes a ``.hdf5`` table: one 1-D dataset per column.

    tables_io (what the pzserver client reads it with) reads a ``.hdf5`` file with h5py, one
    column per root dataset; a pandas HDFStore there comes back as its internal blocks. h5py,
    pzcat and pandas (through tables_io or h5py, pandas 2 or 3) read this layout too.
    """
    df = _galaxies(rng, 5000)
    df["z_err"] = (0.0002 * (1 + df["z"])).round(6)
    out = work / "dp1_ecdfs_training_set.hdf5"
    write_columns(out, df)
    return out


def rewrite_training_set(root: Path) -> Path:
    """Rewrite the committed training set in place (same values: it is the seed's first draw)."""
    cat = Catalog.open(root)
    folder = cat.product_dir(TRAINING_SET)
    with tempfile.TemporaryDirectory(dir=folder.parent) as tmp:
        made = _training_set(np.random.default_rng(SEED), Path(tmp))
        target = folder / made.name
        made.replace(target)  # same file system: atomic
    m = cat.get(TRAINING_SET).model_copy(deep=True)
    size, digest = path_digest(target)
    if (m.main_file.size, m.main_file.sha256) != (size, digest):  # same rows and columns
        m.main_file.size, m.main_file.sha256 = size, digest
        m.description = TRAINING_SET_TEXT
        m.version += 1
        m.updated = max(now_utc(), m.created)
        cat.save(m)
    print(f"  {m.internal_name} version {m.version}")
    return target


def _objects(rng: np.random.Generator, work: Path) -> Path:
    df = _galaxies(rng, 4000).drop(columns=["z"])
    out = work / "dp1_ecdfs_objects.parquet"
    df.to_parquet(out, index=False)
    return out


def _estimates(rng: np.random.Generator, work: Path) -> Path:
    df = _galaxies(rng, 4000)
    zp = (df["z"] + rng.normal(0, 0.05, len(df)) * (1 + df["z"])).clip(0, 3.5)
    out = pd.DataFrame(
        {
            "object_id": df["object_id"],
            "ra": df["ra"],
            "dec": df["dec"],
            "z_phot": zp.round(4),
            "z_phot_err": (0.05 * (1 + zp)).round(4),
            "odds": rng.uniform(0.3, 1.0, len(df)).round(3),
        }
    )
    path = work / "dp1_ecdfs_bpz_estimates.parquet"
    out.to_parquet(path, index=False)
    return path


def _validation(rng: np.random.Generator, work: Path) -> tuple[Path, Path, Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    df = _galaxies(rng, 3000)
    zp = (df["z"] + rng.normal(0, 0.04, len(df)) * (1 + df["z"])).clip(0, 3.5)
    dz = (zp - df["z"]) / (1 + df["z"])
    bins = np.linspace(0, 3, 7)
    idx = np.digitize(df["z"], bins) - 1
    rows = []
    for b in range(len(bins) - 1):
        sel = dz[idx == b]
        if len(sel):
            mad = 1.4826 * np.median(np.abs(sel - np.median(sel)))
            rows.append(
                {
                    "z_min": bins[b],
                    "z_max": bins[b + 1],
                    "n": int(len(sel)),
                    "bias": float(np.median(sel)),
                    "sigma_mad": float(mad),
                    "outlier_fraction": float(np.mean(np.abs(sel) > 0.15)),
                }
            )
    metrics = work / "bpz_validation_metrics.csv"
    pd.DataFrame(rows).round(5).to_csv(metrics, index=False)
    fig, ax = plt.subplots(figsize=(5, 5), dpi=80)
    ax.scatter(df["z"], zp, s=2, alpha=0.4)
    ax.plot([0, 3], [0, 3], "k--", lw=1)
    ax.set_xlabel("z_spec")
    ax.set_ylabel("z_phot")
    ax.set_title("BPZ on the DP1 ECDFS validation set")
    plot = work / "zphot_vs_zspec.png"
    fig.savefig(plot, metadata={"Software": None})
    plt.close(fig)
    html = work / "validation_report.html"
    html.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>BPZ validation</title></head>"
        "<body><h1>BPZ validation on DP1 ECDFS</h1><p>Metrics per redshift bin are in "
        "<code>bpz_validation_metrics.csv</code>; the scatter plot is "
        "<code>zphot_vs_zspec.png</code>.</p><ul><li>sigma_MAD: normalised median absolute "
        "deviation of (z_phot - z_spec)/(1 + z_spec)</li><li>outlier fraction: |dz| &gt; 0.15</li>"
        "</ul><script>document.body.style.background = 'red';</script></body></html>\n",
        encoding="utf-8",
    )
    return metrics, plot, html


def _training_results(work: Path) -> Path:
    model = {
        "code": "BPZ",
        "prior": "hdfn_gen",
        "templates": "CWWSB4",
        "zmin": 0.0,
        "zmax": 3.5,
        "dz": 0.01,
        "bands": list("ugrizy"),
        "trained_on": "1_dp1_ecdfs_training_set",
    }
    out = work / "bpz_inform_model.pkl"
    out.write_bytes(pickle.dumps(model, protocol=4))
    return out


def build(root: Path) -> list[str]:
    """Create the demo products in the catalog at ``root``; return their internal names."""
    cat = Catalog.open(root)
    rng = np.random.default_rng(SEED)
    made = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)

        def add(**kw):
            m = add_product(cat, **kw)
            cat.refresh()
            made.append(m.internal_name)
            print(f"  {m.internal_name}")
            return m

        add(
            name="VVDS final release sample",
            product_type="redshift_catalog",
            uploaded_by="pz-coordination",
            official=True,
            main_file=_vvds_fits(work),
            columns=["id=NUM", "z_flag=ZFLAGS", "survey=survey_name"],
            description="Random sample of 1,000 objects of the **VIMOS VLT Deep Survey** final "
            "release (Le Fèvre et al. 2013), as a FITS binary table.",
            citation="Le Fèvre, O., et al. 2013, A&A, 559, A14",
            license="CC-BY-4.0",
        )
        add(
            name="2dFLENS final release sample",
            product_type="redshift_catalog",
            uploaded_by="cblake",
            main_file=_parquet(
                "2dflens_final_release_random_sample", work, "2dflens_final_release_sample.parquet"
            ),
            columns=["id=unique_id", "z_flag=qual", "survey=survey_name"],
            description="Random sample of 1,000 galaxies of the 2-degree Field Lensing Survey "
            "(Blake et al. 2016), with ugriz and W1 magnitudes.",
        )
        add(
            name="DESI DR1 in DP1 fields sample",
            product_type="redshift_catalog",
            uploaded_by="desi-pz",
            main_file=_desi_csv(work),
            columns=[
                "id=TARGETID",
                "ra=TARGET_RA",
                "dec=TARGET_DEC",
                "z=Z",
                "z_err=ZERR",
                "z_flag=ZWARN",
                "survey=survey_name",
            ],
            description="DESI DR1 redshifts inside the seven LSST DP1 fields (random sample of "
            "1,000), as CSV with a subset of the columns.",
        )
        add(
            name="6dFGS DR3 sample",
            product_type="redshift_catalog",
            uploaded_by="6dfgs-team",
            main_file=_parquet("6dfgs_dr3_random_sample", work, "6dfgs_dr3_sample.parquet"),
            columns=[
                "id=SPECID",
                "ra=RA_deg",
                "dec=DEC_deg",
                "z=Z",
                "z_flag=QUALITY",
                "survey=survey_name",
            ],
            description="Random sample of 1,000 galaxies of the 6dF Galaxy Survey DR3.",
        )
        hats_src = work / "elaiss1_hats"
        shutil.copytree(SOURCES / "elaiss1oid_collection", hats_src)
        add(
            name="ELAIS S1 optical IDs HATS",
            product_type="redshift_catalog",
            uploaded_by="hats-user",
            main_file=hats_src,
            fmt="hats",
            columns=[
                "id=XMMES1",
                "ra=RAdeg",
                "dec=DEdeg",
                "z=zfinal",
                "z_flag=zfinal_quality",
                "survey=survey_name",
            ],
            description="Optical identifications of XMM sources in ELAIS-S1 (478 objects), "
            "partitioned as a HATS collection with a 10 arcsec margin.",
        )
        add(
            name="DP1 ECDFS training set",
            product_type="training_set",
            release="dp1",
            uploaded_by="pz-coordination",
            official=True,
            main_file=_training_set(rng, work),
            description=TRAINING_SET_TEXT,
        )
        add(
            name="BPZ inform model",
            product_type="training_results",
            release="dp1",
            uploaded_by="pz-user",
            main_file=_training_results(work),
            fmt="other",
            description="BPZ model trained on `1_dp1_ecdfs_training_set` (a pickle, as written "
            "by RAIL inform).",
        )
        metrics, plot, html = _validation(rng, work)
        add(
            name="BPZ validation on ECDFS",
            product_type="validation_results",
            release="dp1",
            uploaded_by="pz-user",
            pz_code="BPZ",
            main_file=metrics,
            aux_files=[plot],
            description_file=html,
            description="Validation metrics of BPZ per redshift bin, the z_phot vs z_spec plot and "
            "an HTML report.",
        )
        add(
            name="BPZ estimates for ECDFS objects",
            product_type="photoz_estimates",
            release="dp1",
            uploaded_by="pz-user",
            pz_code="BPZ",
            main_file=_estimates(rng, work),
            columns=["id=object_id", "z=z_phot", "z_err=z_phot_err"],
            description="Photo-z point estimates (BPZ) for 4,000 objects of the ECDFS field.",
        )
        add(
            name="DP1 ECDFS objects",
            product_type="object_catalog",
            release="dp1",
            uploaded_by="pz-user",
            main_file=_objects(rng, work),
            columns=["id=object_id"],
            description="Mock objects catalog (positions and ugrizy photometry) of the ECDFS field.",
        )
        fields = work / "dp1_fields.csv"
        pd.DataFrame(
            {
                "field": [
                    "47 Tuc",
                    "Rubin SV 38 7",
                    "Fornax dSph",
                    "ECDFS",
                    "EDFS",
                    "Rubin SV 95 -25",
                    "Seagull",
                ],
                "ra": [6.02, 37.86, 40.00, 53.13, 59.10, 95.00, 106.23],
                "dec": [-72.08, 6.98, -34.45, -28.10, -48.73, -25.00, -10.51],
                "radius_deg": [2.5] * 7,
            }
        ).to_csv(fields, index=False)
        add(
            name="DP1 field centres",
            product_type="other",
            release="dp1",
            uploaded_by="pz-coordination",
            main_file=fields,
            columns=["id=field"],
            description="Centres of the seven LSST Data Preview 1 fields and the 2.5 degree radius "
            "the Combine Redshift Catalogs pipeline uses for `is_in_DP1_fields`.",
        )
        # samples that overlap on the sky (GOODS-S, COSMOS, UDS): the combination below finds
        # pairs, groups, stars, hard ties and decisions (ids 13-16; the combination keeps id 12)
        overlapping = [
            (
                13,
                "3D-HST v4.1.5 sample",
                "3dhst_v4.1.5_random_sample",
                "3dhst_v4.1.5_sample.parquet",
                ["id=phot_id", "z=z_best", "survey=survey_name"],
                "Random sample of 1,000 objects of 3D-HST v4.1.5 (Momcheva et al. 2016): grism, "
                "spectroscopic and photometric redshifts (`z_best`, kind in `z_best_s`).",
            ),
            (
                14,
                "MOSDEF final release sample",
                "mosdef_final_release_random_sample",
                "mosdef_final_release_sample.parquet",
                ["id=ID", "z=Z_MOSFIRE", "z_flag=Z_QUAL", "survey=survey_name"],
                "Random sample of 1,000 MOSFIRE spectra of the MOSDEF survey (Kriek et al. 2015); "
                "some objects were observed twice, and z = -1 means no redshift.",
            ),
            (
                15,
                "VANDELS DR4 sample",
                "vandels_dr4_random_sample",
                "vandels_dr4_sample.parquet",
                ["id=id", "ra=alpha", "dec=delta", "z=zspec", "z_flag=zflg", "survey=survey_name"],
                "Random sample of 1,000 VANDELS DR4 spectra (Garilli et al. 2021) in CDFS and UDS.",
            ),
            (
                16,
                "ASTRODEEP GS43 sample",
                "astrodeep-gs43_random_sample",
                "astrodeep_gs43_sample.parquet",
                ["id=ID", "z=z_best", "survey=survey_name"],
                "Random sample of 1,000 ASTRODEEP GOODS-S objects (Merlin et al. 2021): best "
                "redshift, spectroscopic where `zspec_survey` names a survey.",
            ),
        ]
        for pid, name, source, target, columns, text in overlapping:
            add(
                name=name,
                product_type="redshift_catalog",
                uploaded_by="pz-coordination",
                main_file=_parquet(source, work, target),
                columns=columns,
                description=text,
                product_id=pid,
            )
        by_id = {int(n.split("_", 1)[0]): n for n in made}
        combined = create_combine(
            cat,
            name="Combined reference redshifts",
            inputs=[by_id[i] for i in (1, 4, 13, 14, 15, 16)],
            uploaded_by="pz-coordination",
            duplicates="mark",
            fmt="parquet",
            product_id=12,
            description="Six demo reference redshift catalogs that overlap on the sky (VVDS, "
            "6dFGS, 3D-HST, MOSDEF, VANDELS, ASTRODEEP) combined by the Combine "
            "Redshift Catalogs pipeline, duplicates marked with `tie_result` (1 kept, "
            "0 eliminated, 2 hard tie) and `compared_to`.",
        )
        cat.refresh()
        run_pending(cat, combined.internal_name)
        made.append(combined.internal_name)
        print(f"  {combined.internal_name}")
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=REPO)
    parser.add_argument("--force", action="store_true", help="Remove existing manifests/products.")
    parser.add_argument(
        "--rewrite-training-set",
        action="store_true",
        help=f"Only rewrite {TRAINING_SET}'s HDF5 file in place (a new version of the product).",
    )
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if args.rewrite_training_set:
        rewrite_training_set(root)
        return 0
    if root != REPO and not (root / "catalog.yaml").exists():
        root.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / "catalog.yaml", root / "catalog.yaml")
    existing = list((root / "manifests").glob("*.yaml")) if (root / "manifests").exists() else []
    if existing and not args.force:
        print(f"{root}/manifests is not empty; pass --force to rebuild the demo", file=sys.stderr)
        return 1
    for sub in ("manifests", "products"):
        if (root / sub).exists():
            shutil.rmtree(root / sub)
    print(f"building the demo catalog in {root}")
    build(root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
