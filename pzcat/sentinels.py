"""What a sentinel is: the placeholder numbers surveys write for "no value".

Real catalogs write "no redshift" as z = -1 (JADES), -9 (ELAIS), 9.9999 (VVDS), -99 or 999, and
missing magnitudes as 99, -99, 99.99 or -99.9. This module is the one place that decides which
values of which role are sentinels; validation (warnings ``sentinel-values``), column statistics
(:mod:`pzcat.colstats`), the site's n(z) and sky maps, the previews and the Combine pipeline (its
``sentinels: missing`` option) all ask it, so every page and figure treats the same rows the same way.

A value is a sentinel of a *kind* (``z``, ``z_err``, ``z_flag``, ``mag``) when it equals one of
that kind's values (to 1e-6 relative, so a placeholder stored as float32 still matches: 9.9999
reads back as 9.99989986), or lies in one of the kind's :data:`RANGES`. Each kind's list is chosen
so that it holds no value a real measurement takes: a redshift of -1 or 9.9999, a magnitude of
99.99, a redshift error of -99. ``z_flag`` lists only large negative numbers: small ones (-1, -2)
are real flag values of some surveys' own scales.

Redshifts also have two ranges, because surveys vary their placeholders: every finite z <= -1
(impossible, since 1 + z is a ratio of wavelengths; 6dFGS writes -9.999, others -99.9 or -9999),
and 9.999 <= z <= 9.9999 (the "9.999..." family: VVDS writes 9.9999 and, for one object of its
final release, 9.9994; no survey measures a redshift to 1e-4 in that band). The rule is by value
only, not by quality flag: a flag of 0 ("no redshift") also marks rows whose z looks real, and
which rows to trust is the user's choice, not the statistics'.

Examples
--------
>>> import numpy as np
>>> from pzcat.sentinels import sentinel_mask, kind_for
>>> sentinel_mask(np.array([0.5, -1.0, 9.9999, np.nan]), "z").tolist()
[False, True, True, False]
>>> sentinel_mask(np.array([-9.999, np.float32(9.9999), 9.9994, 9.64, -0.07]), "z").tolist()
[True, True, True, False, False]
>>> kind_for("mag_r"), kind_for("RA", role="ra"), kind_for("zspec", role="z")
('mag', None, 'z')
"""

from __future__ import annotations

import re

import numpy as np

#: The sentinel values of each kind.
SENTINELS: dict[str, tuple[float, ...]] = {
    # no redshift: -1 (JADES, DEEP2), -9 (ELAIS), -99, -999, -9999, 9.999 / 9.9999 (VVDS, zCOSMOS),
    # 99, 999, 9999
    "z": (-1.0, -9.0, -99.0, -999.0, -9999.0, 9.999, 9.9999, 99.0, 999.0, 9999.0),
    # no error: negative placeholders and absurdly large ones
    "z_err": (-1.0, -9.0, -99.0, -999.0, -9999.0, 99.0, 999.0, 9999.0),
    # no flag: large negative placeholders only (small negative flags are real in some surveys)
    "z_flag": (-99.0, -999.0, -9999.0),
    # no magnitude: 99 / -99 (SExtractor, 3D-HST, COSMOS), 99.99 / -99.99, 99.9 / -99.9 (VVDS),
    # 999 / -999, 9999 / -9999 (SDSS), 0 is a real magnitude and is not one
    "mag": (99.0, -99.0, 99.99, -99.99, 99.9, -99.9, 999.0, -999.0, 9999.0, -9999.0),
}

#: Roles whose values are checked for sentinels, and the kind each gets.
ROLE_KINDS: dict[str, str] = {"z": "z", "z_err": "z_err", "z_flag": "z_flag"}

#: A column holds magnitudes when its name says so (mag_r, r_mag, MAG_AUTO_I, magr) or its UCD
#: is ``phot.mag``.
MAG_NAME = re.compile(r"(^|_)mag($|_)|^mag[a-z]$|^mag_?[a-z0-9]+$", re.IGNORECASE)
#: Relative tolerance of "equals a sentinel": float32 storage rounds 9.9999 to 9.99989986
#: (1.4e-8 relative); 1e-6 is far finer than any redshift's or magnitude's precision.
REL_TOL = 1e-6

#: Closed ranges of a kind that hold no real value (finite values only; see the module's text).
RANGES: dict[str, tuple[tuple[float, float], ...]] = {
    "z": ((-np.inf, -1.0), (9.999, 9.9999)),
}


def kind_for(name: str, role: str | None = None, ucd: str | None = None) -> str | None:
    """The sentinel kind of a column, from its role, its UCD or its name (None: no sentinels).

    Parameters
    ----------
    name : str
        The column name.
    role : str, optional
        The role the manifest associates with the column (z, z_err, z_flag, ...).
    ucd : str, optional
        The column's UCD.
    """
    if role is not None:
        return ROLE_KINDS.get(role)
    if ucd and "phot.mag" in ucd.split(";") and "stat.error" not in ucd:
        return "mag"
    if MAG_NAME.search(name) and not re.search(r"err|sig|unc|flag|_e$", name, re.IGNORECASE):
        return "mag"
    return None


def sentinel_mask(values, kind: str | None) -> np.ndarray:
    """Which values are sentinels of ``kind`` (all False for None or an unknown kind).

    Parameters
    ----------
    values : array-like of float
        NaN for missing values (missing is not a sentinel).
    kind : str or None
    """
    arr = np.asarray(values, dtype=np.float64)
    out = np.zeros(arr.shape, dtype=bool)
    for s in SENTINELS.get(kind or "", ()):
        out |= np.abs(arr - s) <= REL_TOL * max(1.0, abs(s))
    ranges = RANGES.get(kind or "", ())
    if ranges:
        finite = np.isfinite(arr)
        for lo, hi in ranges:
            low = lo - REL_TOL * max(1.0, abs(lo)) if np.isfinite(lo) else lo
            high = hi + REL_TOL * max(1.0, abs(hi))
            with np.errstate(invalid="ignore"):
                out |= finite & (arr >= low) & (arr <= high)
    return out


def as_missing(values, kind: str | None) -> tuple[np.ndarray, int]:
    """A float copy of ``values`` with the sentinels of ``kind`` set to NaN, and how many there were."""
    arr = np.array(values, dtype=np.float64)
    mask = sentinel_mask(arr, kind)
    arr[mask] = np.nan
    return arr, int(mask.sum())


def found(values, kind: str | None) -> dict[float, int]:
    """The sentinel values of ``kind`` present in ``values`` and how many times each occurs."""
    arr = np.asarray(values, dtype=np.float64)
    mask = sentinel_mask(arr, kind)
    if not mask.any():
        return {}
    vals, counts = np.unique(arr[mask], return_counts=True)
    return {float(v): int(c) for v, c in zip(vals, counts, strict=True)}
