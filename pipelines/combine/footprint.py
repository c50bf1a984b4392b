"""Footprint fields: the ``is_in_DP1_fields`` flag.

The fields (centres and radius) live in a YAML data file (``pipelines/data/dp1_fields.yaml``),
not in code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipelines.combine.errors import PipelineError
from pzcat.safeyaml import load_yaml


@dataclass(frozen=True)
class Fields:
    """A set of circular fields.

    Attributes
    ----------
    flag : str
        Name of the output column.
    radius_deg : float
    centres : numpy.ndarray
        Shape (n, 2): ra, dec in degrees.
    names : tuple of str
    """

    flag: str
    radius_deg: float
    centres: np.ndarray
    names: tuple[str, ...]

    def contains(self, ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
        """Return 1 where a position is within ``radius_deg`` of a centre, else 0 (int8)."""
        ra_r, dec_r = np.radians(ra), np.radians(dec)
        out = np.zeros(len(ra_r), dtype=bool)
        cos_radius = np.cos(np.radians(self.radius_deg))
        for c_ra, c_dec in np.radians(self.centres):
            cos_d = np.sin(dec_r) * np.sin(c_dec) + np.cos(dec_r) * np.cos(c_dec) * np.cos(
                ra_r - c_ra
            )
            out |= cos_d >= cos_radius
        return out.astype("int8")


def load_fields(path: Path | str) -> Fields:
    """Load a fields file.

    Raises
    ------
    PipelineError
        ``fields-file-invalid`` when unreadable or malformed.
    """
    path = Path(path)
    try:
        data = load_yaml(path.read_bytes(), str(path), error=PipelineError)
        centres = np.array([[float(f["ra"]), float(f["dec"])] for f in data["fields"]], dtype=float)
        names = tuple(str(f["name"]) for f in data["fields"])
        return Fields(
            flag=str(data.get("flag", "is_in_DP1_fields")),
            radius_deg=float(data["radius_deg"]),
            centres=centres.reshape(-1, 2),
            names=names,
        )
    except (OSError, PipelineError, KeyError, TypeError, ValueError) as exc:
        raise PipelineError(
            "fields-file-invalid", f"cannot read fields file {path}: {exc}"
        ) from exc
