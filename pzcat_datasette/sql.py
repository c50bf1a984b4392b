"""SQL functions of the previews (registered on every connection by the plugin): sky geometry for cone searches.

- ``pz_angdist(ra1, dec1, ra2, dec2)``: great-circle distance in arcsec;
- ``pz_healpix(ra, dec[, order])``: nested HEALPix index (as ``_healpix_order10``);
- ``pz_cone_ranges(ra, dec, radius_arcsec[, order])``: JSON ``[first, last]`` pixel ranges covering
  a cone, for index range scans on ``_healpix_order10``.

NULL (or ``[]``) on bad input, never an exception.
"""

import json
import math
import threading

# -- SQL functions --------------------------------------------------------------------------------------


def _float(value):
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def angdist_arcsec(ra1, dec1, ra2, dec2):
    """Great-circle distance in arcsec between two positions in degrees (NULL on bad input)."""
    vals = [_float(v) for v in (ra1, dec1, ra2, dec2)]
    if None in vals:
        return None
    a1, d1, a2, d2 = (math.radians(v) for v in vals)
    s = math.sin((d2 - d1) / 2) ** 2 + math.cos(d1) * math.cos(d2) * math.sin((a2 - a1) / 2) ** 2
    return math.degrees(2 * math.asin(min(1.0, math.sqrt(s)))) * 3600.0


def healpix_nested(ra, dec, order=10):
    """Nested HEALPix index of a position (degrees) at ``order`` (NULL on bad input)."""
    import numpy as np

    from pzcat.sky import healpix_nested as hp

    r, d, o = _float(ra), _float(dec), _float(order)
    if r is None or d is None or o is None or not -90 <= d <= 90 or not 0 <= o <= 29:
        return None
    return int(hp(np.array([r]), np.array([d]), int(o))[0])


#: Most HEALPix cells on a cone's border that :func:`cone_ranges` computes (bounds its time).
MAX_BORDER_CELLS = 20_000


def cone_ranges(ra, dec, radius_arcsec, order=10):
    """JSON list of ``[first, last]`` nested HEALPix ranges at ``order`` covering a cone.

    Built from the cone's MOC (cdshealpix), so a large cone gives few coarse ranges; used by the
    canned cone searches with an index on ``_healpix_order10``. ``[]`` on bad input.
    """

    import numpy as np

    r, d, rad, o = _float(ra), _float(dec), _float(radius_arcsec), _float(order)
    if None in (r, d, rad, o) or not -90 <= d <= 90 or rad <= 0 or not 0 <= o <= 29:
        return "[]"
    o = int(o)
    import astropy.units as u
    from astropy.coordinates import Latitude, Longitude
    from cdshealpix.nested import cone_search

    rad_deg = min(rad / 3600.0, 180.0)
    # bounded work: search at the finest order whose border holds at most MAX_BORDER_CELLS cells
    # (a coarser cover is still a cover; the exact distance filters afterwards)
    perimeter = 360.0 * max(math.sin(math.radians(min(rad_deg, 90.0))), 1e-12)
    finest = int(math.floor(math.log2(max(MAX_BORDER_CELLS * 58.6 / perimeter, 1.0))))
    search = max(0, min(o, finest))
    ipix, depth, _ = cone_search(
        Longitude(r % 360.0 * u.deg), Latitude(d * u.deg), rad_deg * u.deg, search
    )
    shift = 2 * (o - depth.astype(np.int64))
    lo = ipix.astype(np.int64) << shift
    hi = ((ipix.astype(np.int64) + 1) << shift) - 1
    order_ = np.argsort(lo)
    out: list[list[int]] = []
    for a, b in zip(lo[order_].tolist(), hi[order_].tolist(), strict=True):
        if out and a <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return json.dumps(out)


def prepare_connection(conn, database: str) -> None:
    """Register the functions on a new connection (and mmap the previews database)."""
    if database == "previews":
        # Read the immutable previews through mmap: row lookups by index are 2-3 times faster than
        # with read() calls, and the pages are the shared page cache (no copy per connection).
        conn.execute("PRAGMA mmap_size = 2147418112")
    conn.create_function("pz_cone_ranges", 3, cone_ranges, deterministic=True)
    conn.create_function("pz_cone_ranges", 4, cone_ranges, deterministic=True)
    conn.create_function("pz_angdist", 4, angdist_arcsec, deterministic=True)
    conn.create_function("pz_healpix", 3, healpix_nested, deterministic=True)
    conn.create_function("pz_healpix", 2, healpix_nested, deterministic=True)


def warm_up() -> None:
    """Import the HEALPix stack in the background, so the first cone search is fast."""
    threading.Thread(target=cone_ranges, args=(0, 0, 1), daemon=True).start()
