"""The sky map (RA/Dec density, Mollweide) and the n(z) histogram, as small deterministic SVG.

Drawn from the data :mod:`site_builder.stats` accumulates while streaming the table (a sparse
count raster and a fine redshift histogram), not from the rows, so a plot costs about a millisecond
and no table is read twice. Matplotlib is not used: at 10,000 products its ~50 ms per figure alone
would exceed the site's build budget (see GUIDE.md, "Site"). The density raster is embedded as a
palette PNG (written here with zlib) inside an inline SVG; the outline, graticule and labels are
one shared file, ``assets/pz-sky-frame.svg``, so a product page carries only its own data.
"""

from __future__ import annotations

import base64
import functools
import math
import struct
import zlib
from html import escape
from typing import Any

import numpy as np

from site_builder.stats import mollweide

# viridis at 9 anchors (0, 1/8, ..., 1)
_VIRIDIS = [
    (68, 1, 84),
    (71, 44, 122),
    (59, 81, 139),
    (44, 113, 142),
    (33, 144, 141),
    (39, 173, 129),
    (92, 200, 99),
    (170, 220, 50),
    (253, 231, 37),
]

W, H = 640, 340  # sky SVG size
MX, MY, MW, MH = 20, 20, 600, 300  # the ellipse box inside it


def _colour(v: float) -> tuple[int, int, int]:
    v = min(max(v, 0.0), 1.0) * (len(_VIRIDIS) - 1)
    i = min(int(v), len(_VIRIDIS) - 2)
    t = v - i
    a, b = _VIRIDIS[i], _VIRIDIS[i + 1]
    return tuple(round(a[k] + (b[k] - a[k]) * t) for k in range(3))


@functools.cache
def _graticule() -> tuple[str, list[str]]:
    lines = []
    for ra0 in range(0, 360, 60):
        dec = np.linspace(-90, 90, 37)
        lines.append(_polyline(np.full_like(dec, ra0 + 1e-6), dec))
    for dec0 in (-60, -30, 0, 30, 60):
        ra = np.linspace(-179.999, 179.999, 73)
        lines.append(_polyline(ra, np.full_like(ra, float(dec0))))
    grid = "".join(f'<polyline points="{p}"/>' for p in lines)
    labels = []
    for ra0 in (0, 60, 120, 240, 300):
        x, y = _to_svg_xy(*mollweide(np.array([ra0 + 1e-6]), np.array([0.0])))
        labels.append(f'<text x="{x[0] + 3:.1f}" y="{y[0] - 4:.1f}">{ra0}°</text>')
    for dec0 in (-60, -30, 30, 60):
        x, y = _to_svg_xy(*mollweide(np.array([179.999]), np.array([float(dec0)])))
        labels.append(
            f'<text x="{x[0] - 4:.1f}" y="{y[0] + 4:.1f}" text-anchor="end">{dec0:+d}°</text>'
        )
    return grid, labels


def _to_svg_xy(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    half_w, half_h = 2 * math.sqrt(2), math.sqrt(2)
    return MX + (x + half_w) / (2 * half_w) * MW, MY + (half_h - y) / (2 * half_h) * MH


def _polyline(ra: np.ndarray, dec: np.ndarray) -> str:
    x, y = _to_svg_xy(*mollweide(ra, dec))
    return " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(x, y, strict=True))


_LEVELS = 32


def _png_palette(width: int, height: int, pixels: np.ndarray, palette: np.ndarray) -> bytes:
    """Encode (height, width) uint8 palette indices as PNG; index 0 is transparent."""
    raw = b"".join(b"\x00" + pixels[r].tobytes() for r in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"PLTE", palette.tobytes())
        + chunk(b"tRNS", b"\x00")
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


_PALETTE = np.array(
    [(255, 255, 255)] + [_colour(0.15 + 0.85 * k / (_LEVELS - 1)) for k in range(_LEVELS)],
    dtype=np.uint8,
)


def sky_png(sky: dict[str, Any]) -> bytes:
    """The density raster (log colour scale, viridis) as a small palette PNG."""
    w, h = int(sky["w"]), int(sky["h"])
    counts = np.zeros(w * h, dtype=float)
    for i, c in sky["cells"]:
        counts[int(i)] = c
    pixels = np.zeros(w * h, dtype=np.uint8)
    nonzero = np.flatnonzero(counts)
    if nonzero.size:
        scale = math.log1p(counts.max()) or 1.0
        level = np.clip(
            (np.log1p(counts[nonzero]) / scale * (_LEVELS - 1)).round().astype(int), 0, _LEVELS - 1
        )
        pixels[nonzero] = level + 1
    return _png_palette(w, h, pixels.reshape(h, w), _PALETTE)


def sky_frame_svg() -> str:
    """The static part of every sky map: background, graticule, outline and labels.

    Shipped once as ``assets/pz-sky-frame.svg``; each product page only adds its raster.
    """
    grid, labels = _graticule()
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}">'
        f'<ellipse cx="{MX + MW / 2}" cy="{MY + MH / 2}" rx="{MW / 2}" ry="{MH / 2}" fill="#f4f4f8"/>'
        f'<g fill="none" stroke="#888" stroke-width="0.6" stroke-opacity="0.6">{grid}</g>'
        f'<ellipse cx="{MX + MW / 2}" cy="{MY + MH / 2}" rx="{MW / 2}" ry="{MH / 2}" fill="none" '
        f'stroke="#444" stroke-width="1"/>'
        f'<g font-family="sans-serif" font-size="10" fill="#333">{"".join(labels)}</g></svg>\n'
    )


def sky_svg(
    sky: dict[str, Any],
    title: str = "Sky density",
    frame_href: str = "../../assets/pz-sky-frame.svg",
) -> str:
    """Inline SVG of the RA/Dec density (log colour scale) in Mollweide projection.

    The frame (graticule, labels) is referenced from ``frame_href``; the density raster is
    embedded as a PNG data URI (a few hundred bytes for a small footprint).
    """
    png = base64.b64encode(sky_png(sky)).decode()
    n = int(sky.get("n", 0))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" id="pz-sky" viewBox="0 0 {W} {H}" width="{W}" '
        f'height="{H}" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f'<image href="{frame_href}" x="0" y="0" width="{W}" height="{H}"/>'
        f'<image x="{MX}" y="{MY}" width="{MW}" height="{MH}" preserveAspectRatio="none" '
        f'style="image-rendering:pixelated" href="data:image/png;base64,{png}"/>'
        f'<text x="{W / 2}" y="{H - 4}" text-anchor="middle" font-family="sans-serif" '
        f'font-size="10" fill="#333">RA (deg, increasing to the left), Dec (deg) · Mollweide · '
        f"{n:,} objects · log colour scale</text></svg>"
    )


def _nice_ticks(lo: float, hi: float, n: int = 6) -> list[float]:
    span = hi - lo
    if span <= 0:
        return [lo]
    raw = span / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.ceil(lo / step) * step
    out, v = [], start
    while v <= hi + 1e-9:
        out.append(round(v, 10))
        v += step
    return out


def _n(v: float) -> str:
    """A coordinate to 0.1, without a trailing ".0" (the n(z) plot's markup, kept small)."""
    text = f"{v:.1f}"
    return text[:-2] if text.endswith(".0") else text


def nz_svg(nz: dict[str, Any], title: str = "n(z)", max_bins: int = 40) -> str:
    """SVG histogram of the redshift distribution, rebinned to at most ``max_bins`` bars."""
    step = float(nz["step"])
    bins = {int(i): int(c) for i, c in nz["bins"]}
    lo_i, hi_i = min(bins), max(bins)
    factor = max(1, math.ceil((hi_i - lo_i + 1) / max_bins))
    n_bars = math.ceil((hi_i - lo_i + 1) / factor)
    bars = [0] * n_bars
    for i, c in bins.items():
        bars[(i - lo_i) // factor] += c
    z_lo, width = lo_i * step, factor * step
    z_hi = z_lo + n_bars * width
    peak = max(bars) or 1
    pw, ph, left, top = 560, 240, 60, 20
    base = top + ph
    # the bars (adjacent, equal widths) as one filled step outline and the ticks as one path:
    # a quarter of the markup of <rect>s and <line>s
    steps, level = [], _n(base)
    for k, c in enumerate(bars):
        y = _n(base - c / peak * ph)
        if y != level:  # a new height: run along the previous one to this bar's left edge
            if k:
                steps.append(f"H{_n(left + k / n_bars * pw)}")
            steps.append(f"V{y}")
            level = y
    bars_d = f"M{left} {base}{''.join(steps)}H{left + pw}V{base}z"
    ticks_d, x_labels, y_labels = [], [], []
    for t in _nice_ticks(z_lo, z_hi):
        x = left + (t - z_lo) / (z_hi - z_lo) * pw
        ticks_d.append(f"M{_n(x)} {base}v4")
        x_labels.append(f'<text x="{_n(x)}" y="{base + 16}">{t:g}</text>')
    for t in _nice_ticks(0, peak, 4):
        y = base - t / peak * ph
        ticks_d.append(f"M{left - 4} {_n(y)}h4")
        y_labels.append(f'<text x="{left - 6}" y="{_n(y + 3)}">{t:g}</text>')
    n = int(nz.get("n", 0))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" id="pz-nz" viewBox="0 0 640 300" width="640" '
        f'height="300" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f'<path class="pz-bars" fill="#3b528b" d="{bars_d}"/>'
        f'<path fill="none" stroke="#333" d="M{left} {top}V{base}H{left + pw}{"".join(ticks_d)}"/>'
        f'<g font-family="sans-serif" font-size="10" fill="#333">'
        f'<g text-anchor="middle">{"".join(x_labels)}</g>'
        f'<g text-anchor="end">{"".join(y_labels)}</g></g>'
        f'<g font-family="sans-serif" font-size="11" fill="#333"><text x="{left + pw / 2}" y="292" '
        f'text-anchor="middle">z ({n:,} objects, bin width {width:g})</text>'
        f'<text x="14" y="{top + ph / 2}" transform="rotate(-90 14 {top + ph / 2})" '
        f'text-anchor="middle">count</text></g></svg>'
    )
