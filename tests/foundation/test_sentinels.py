"""One module decides what a sentinel is; validation, statistics and plots agree on it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pzcat import sentinels, vocab
from pzcat.checks import ValueChecks
from pzcat.colstats import ColumnStats
from site_builder.stats import table_stats


def test_sentinel_kinds() -> None:
    z = np.array([0.5, -1.0, -9.0, -99.0, -999.0, 9.999, 9.9999, 99.0, 999.0, 1.2, np.nan, 0.0])
    assert sentinels.sentinel_mask(z, "z").tolist() == [False] + [True] * 8 + [False] * 3
    mag = np.array([21.0, 99.0, -99.0, 99.99, -99.9, 0.0, np.nan])
    assert sentinels.sentinel_mask(mag, "mag").tolist() == [
        False,
        True,
        True,
        True,
        True,
        False,
        False,
    ]
    # small negative flags are real in some surveys; -99 is not
    assert sentinels.sentinel_mask([-1, -2, -99], "z_flag").tolist() == [False, False, True]
    assert not sentinels.sentinel_mask([-1.0], None).any()
    assert sentinels.found([-1.0, -1.0, 9.9999, 0.3], "z") == {-1.0: 2, 9.9999: 1}


def test_placeholders_as_real_catalogs_write_them() -> None:
    """float32 storage (9.9999 reads back 9.99989986), 6dFGS' -9.999, VVDS' 9.9994 (flag 0)."""
    placeholders = [np.float32(9.9999), np.float32(-1.0), -9.999, -9.9999, -5.0, 9.9994, 9.999]
    real = [9.64, 10.0, -0.9, -0.073713, 9.998, np.inf, -np.inf]
    z = np.array(placeholders + real)
    assert sentinels.sentinel_mask(z, "z").tolist() == [True] * 7 + [False] * 7
    # the ranges are redshifts' only: an error or a magnitude of -5 is not a placeholder
    assert not sentinels.sentinel_mask([-5.0, 9.9994], "z_err").any()
    mags = [np.float32(99.99), np.float32(-99.9), 25.3]
    assert sentinels.sentinel_mask(mags, "mag").tolist() == [True, True, False]
    stats = ColumnStats(True, "z")
    stats.add(pd.Series(z[:10]))
    assert (stats.min, stats.max, stats.sentinels) == (-0.9, 10.0, 7)


def test_kind_for_names_roles_and_ucds() -> None:
    assert sentinels.kind_for("Z", role="z") == "z"
    assert sentinels.kind_for("mag_r") == sentinels.kind_for("MAG_AUTO_I") == "mag"
    assert sentinels.kind_for("r_mag") == sentinels.kind_for("MAGI") == "mag"
    assert sentinels.kind_for("magerr_r") is None and sentinels.kind_for("image_id") is None
    assert sentinels.kind_for("flux", ucd="phot.mag;em.opt.R") == "mag"
    assert sentinels.kind_for("RA", role="ra") is None


def test_checks_missing_is_a_warning_none_is_an_error() -> None:
    frame = pd.DataFrame(
        {"z": [0.1, np.nan, -1.0, 0.3, -1.0], "zerr": [0.1, -99, np.nan, 0.1, 0.1]}
    )
    checks = ValueChecks({"z": "z", "z_err": "zerr"})
    checks.update(frame)
    found = {(code, col): t for code, col, t in checks.results()}
    assert found[("missing-redshift", "z")].rows == [2]
    assert found[("sentinel-values", "z")].rows == [3, 5]
    assert dict(found[("sentinel-values", "z")].values) == {-1.0: 2}
    assert found[("sentinel-values", "zerr")].rows == [2]
    assert ("bad-z-err", "zerr") not in found  # -99 is a placeholder, not an error
    assert found[("missing-values", "zerr")].rows == [3]
    empty = ValueChecks({"z": "z"})
    empty.update(pd.DataFrame({"z": [np.nan, np.nan]}))
    assert [c for c, _, _ in empty.results()] == ["nan-redshift"]
    placeholders = ValueChecks({"z": "z"})
    placeholders.update(pd.DataFrame({"z": [-99.0, 9.9999]}))
    assert {c for c, _, _ in placeholders.results()} == {"sentinel-values", "nan-redshift"}


def test_ra_360_is_valid_everywhere() -> None:
    assert vocab.ra_valid([0.0, 360.0]).all() and not vocab.ra_valid([360.01, -0.1]).any()
    checks = ValueChecks({"ra": "ra"})
    checks.update(pd.DataFrame({"ra": [360.0, 0.0]}))
    assert checks.results() == []


def test_statistics_and_plots_leave_sentinels_out(tmp_path) -> None:
    stats = ColumnStats(True, "mag")
    stats.add(pd.Series([20.0, 22.0, 99.99, -99.9]))
    assert (stats.min, stats.max, stats.mean, stats.sentinels) == (20.0, 22.0, 21.0, 2)
    frame = pd.DataFrame(
        {
            "ra": [10.0, 11.0, 12.0, 400.0],
            "dec": [0.0, 1.0, 2.0, 3.0],
            "z": [0.5, 9.9999, np.nan, 0.7],
            "mag_r": [21.0, 99.0, 22.0, 23.0],
        }
    )
    frame.to_parquet(tmp_path / "t.parquet")
    out = table_stats(tmp_path / "t.parquet", "parquet", "ra", "dec", "z")
    cols = {c["name"]: c for c in out["columns"]}
    assert cols["z"]["max"] == 0.7 and cols["z"]["sentinels"] == 1 and cols["z"]["nulls"] == 1
    assert cols["mag_r"]["max"] == 23.0 and cols["mag_r"]["sentinels"] == 1
    assert out["nz"]["n"] == 2 and out["nz"]["sentinels"] == 1 and out["nz"]["missing"] == 1
    assert out["sky"]["n"] == 3 and out["sky"]["excluded"] == 1


def test_previews_statistics_leave_sentinels_out() -> None:
    from pzcat_datasette.previews import _StatsAccumulator

    acc = _StatsAccumulator(
        ["z", "mag_r"], {"z": "REAL", "mag_r": "REAL"}, {"z": "z", "mag_r": "mag"}
    )
    acc.add(pd.DataFrame({"z": [0.5, -1.0, 1.5], "mag_r": [20.0, 99.99, 22.0]}))
    out = {r["column"]: r for r in acc.result()}
    assert (out["z"]["min"], out["z"]["mean"], out["z"]["sentinels"]) == (0.5, 1.0, 1)
    assert (out["mag_r"]["max"], out["mag_r"]["sentinels"]) == (22.0, 1)
