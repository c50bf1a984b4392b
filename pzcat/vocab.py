"""The one vocabulary of pzcat: roles, formats, statuses, flags, types, value ranges, row numbers.

Every part that needs one of these (the manifest model, validation, value checks, the Combine
pipeline's configuration and preparation, the site, the previews) imports it from here, so that
``pzcat validate`` and the pipeline cannot disagree on what a valid RA or a row number is.

Conventions (see GUIDE.md, "Vocabulary"):

- **RA** is valid in ``[0, 360]`` degrees, both ends included (360 is the direction of 0; catalogs
  rounded to 360.0 exist and every sky function wraps it); **Dec** in ``[-90, 90]``.
- **Rows are numbered from 1**: row 1 is the first data row of a table (a header and comment lines
  are not counted), as in TOPCAT and in the reference pipeline's ``CRD<prefix>_<k>`` ids.

Examples
--------
>>> from pzcat import vocab
>>> vocab.ra_valid([0.0, 360.0, 360.5]).tolist()
[True, True, False]
>>> vocab.row_number(0)
1
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
from numpy.typing import ArrayLike, NDArray

# -- column roles ----------------------------------------------------------------------------------

#: The standard column roles and their UCDs (IVOA UCD1+).
STANDARD_ROLES: dict[str, str] = {
    "id": "meta.id;meta.main",
    "ra": "pos.eq.ra;meta.main",
    "dec": "pos.eq.dec;meta.main",
    "z": "src.redshift",
    "z_err": "stat.error;src.redshift",
    "z_flag": "stat.rank",
    "survey": "meta.curation",
    "instrument_type": "meta.code.class",
}
ROLES: tuple[str, ...] = tuple(STANDARD_ROLES)
#: The same roles in the order of the Combine pipeline's output columns.
PIPELINE_ROLES: tuple[str, ...] = (
    "id",
    "ra",
    "dec",
    "z",
    "z_flag",
    "z_err",
    "survey",
    "instrument_type",
)
#: Roles whose values must be numbers.
NUMERIC_ROLES: tuple[str, ...] = ("ra", "dec", "z", "z_err")
#: The default rules of the Photo-z Server's product types. ``catalog.yaml`` may set each of them
#: per type (``product_types[].required_roles``, ``formats``, ...; see
#: :class:`pzcat.config.ProductType`), and may add types; a type it does not describe has
#: :data:`TYPE_RULE_DEFAULTS`. Everything (validation, ``pzcat add``, the API, the site) reads the
#: rules from the configuration, never from here.
TYPE_RULES: dict[str, dict[str, object]] = {
    "redshift_catalog": {
        "required_roles": ("ra", "dec", "z"),
        "tabular": True,
        "release": False,
        "pz_code": False,
        "pipeline": "combine_redshift_catalogs",
    },
    "training_set": {"required_roles": ("z",), "tabular": True, "pz_code": False},
    "training_results": {"pz_code": False},
    "object_catalog": {"required_roles": ("ra", "dec"), "tabular": True},
}
#: The rules of a type nothing says more about: no required role, any role and format, a release
#: and a pz_code allowed, no pipeline.
TYPE_RULE_DEFAULTS: dict[str, object] = {
    "required_roles": (),
    "allowed_roles": None,
    "formats": None,
    "tabular": False,
    "release": True,
    "pz_code": True,
    "pipeline": None,
}
#: Roles each product type must associate by default (from :data:`TYPE_RULES`).
REQUIRED_ROLES: dict[str, tuple[str, ...]] = {
    name: tuple(rules["required_roles"])  # type: ignore[arg-type]
    for name, rules in TYPE_RULES.items()
    if rules.get("required_roles")
}
#: Roles the Combine pipeline needs of every input.
PIPELINE_REQUIRED_ROLES: tuple[str, ...] = ("ra", "dec")

# -- files -----------------------------------------------------------------------------------------

FileRole = Literal["main", "description", "auxiliary"]
FileFormat = Literal["csv", "fits", "hdf5", "parquet", "hats", "other"]
Status = Literal["published", "pending", "deprecated"]
OutputFormat = Literal["parquet", "hdf5", "csv", "fits", "hats"]
FILE_ROLES: tuple[str, ...] = get_args(FileRole)
FILE_FORMATS: tuple[str, ...] = get_args(FileFormat)
STATUSES: tuple[str, ...] = get_args(Status)
#: Formats pzcat reads as tables (every format but ``other``).
TABLE_FORMATS: tuple[str, ...] = tuple(f for f in FILE_FORMATS if f != "other")
#: Formats the Combine pipeline writes.
OUTPUT_FORMATS: tuple[str, ...] = get_args(OutputFormat)

# -- homogenized flags and types -------------------------------------------------------------------

#: ``z_flag_homogenized``: the homogenized quality scale.
Z_FLAG_MEANINGS: dict[int, str] = {
    0: "no redshift",
    1: "< 70 % confidence",
    2: "70-90 %",
    3: "90-99 %",
    4: "> 99 %",
    6: "star",
}
Z_FLAGS: tuple[int, ...] = tuple(Z_FLAG_MEANINGS)
#: The star flag: stars never compete in duplicate resolution.
STAR = 6
#: ``type_homogenized``: spectroscopic, grism, photometric.
TYPE_MEANINGS: dict[str, str] = {"s": "spectroscopic", "g": "grism", "p": "photometric"}
TYPES: tuple[str, ...] = tuple(TYPE_MEANINGS)
#: Default rank of each type in the tiebreaking priority (higher is better).
TYPE_PRIORITY: dict[str, int] = {"s": 3, "g": 2, "p": 1}
#: Homogenized columns an input may carry, and the check each gets.
HOMOGENIZED_COLUMNS: dict[str, str] = {
    "z_flag_homogenized": "z_flag_homogenized",
    "type_homogenized": "type_homogenized",
    "instrument_type_homogenized": "type_homogenized",
}

#: The unit of a role's column when the manifest gives none: positions are decimal degrees
#: (the range checks above and every sky function take degrees).
DEFAULT_UNITS: dict[str, str] = {"ra": "deg", "dec": "deg"}


def unit_for(unit: str | None, role: str | None) -> str:
    """A column's unit: the manifest's, else the default of its role (``deg`` for ra and dec).

    >>> unit_for(None, "ra"), unit_for("hourangle", "ra"), unit_for(None, "z")
    ('deg', 'hourangle', '')
    """
    return unit or DEFAULT_UNITS.get(role or "", "")


# -- value ranges ----------------------------------------------------------------------------------

RA_RANGE = (0.0, 360.0)  # both ends included
DEC_RANGE = (-90.0, 90.0)  # both ends included
RA_TEXT = "[0, 360]"
DEC_TEXT = "[-90, 90]"


def ra_valid(values: ArrayLike) -> NDArray[np.bool_]:
    """Whether each RA is a number in ``[0, 360]`` (NaN is not valid)."""
    arr = np.asarray(values, dtype=np.float64)
    return (arr >= RA_RANGE[0]) & (arr <= RA_RANGE[1])


def dec_valid(values: ArrayLike) -> NDArray[np.bool_]:
    """Whether each Dec is a number in ``[-90, 90]`` (NaN is not valid)."""
    arr = np.asarray(values, dtype=np.float64)
    return (arr >= DEC_RANGE[0]) & (arr <= DEC_RANGE[1])


# -- row numbers -----------------------------------------------------------------------------------

#: The number of the first data row in every message, report and error context.
ROW_BASE = 1


def row_number(position: int) -> int:
    """The row number of a 0-based ``position`` in a table."""
    return int(position) + ROW_BASE
