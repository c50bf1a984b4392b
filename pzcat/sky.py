"""Positions on the sky: nested HEALPix pixels, numbered as HATS and LSDB number them.

cdshealpix is the library behind ``hats.pixel_math.healpix_shim.radec2pix``; it is called directly
because importing ``hats`` costs seconds.
"""

from __future__ import annotations

import numpy as np


def healpix_nested(ra: np.ndarray, dec: np.ndarray, order: int) -> np.ndarray:
    """Nested HEALPix pixel (int64) of each position in degrees at ``order``.

    RA is wrapped into [0, 360) and Dec clipped to [-90, 90].

    Examples
    --------
    >>> healpix_nested(np.array([0.0, 180.0]), np.array([90.0, -90.0]), 0).tolist()
    [0, 10]
    """
    import astropy.units as u
    from cdshealpix.nested import lonlat_to_healpix

    lon = np.asarray(ra, dtype=np.float64) % 360.0
    lat = np.clip(np.asarray(dec, dtype=np.float64), -90.0, 90.0)
    return np.asarray(lonlat_to_healpix(lon * u.deg, lat * u.deg, order), dtype=np.int64)
