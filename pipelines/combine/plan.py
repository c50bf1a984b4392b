"""The plan of a run: everything checked before any work starts.

:func:`make_plan` checks the configuration, the translation and fields files, and every input:
format, file present and readable, associated columns present, the columns the survey's rules
read present, survey values covered by the translation (or user-provided homogenized columns
within the vocabulary), every row's flags translated, positions valid, priority columns
available. It reads only the columns these checks need, and runs the preparation on them. What it returns is all :func:`pipelines.combine.runner.run_combine` needs.

With ``scan_rows=False`` the plan checks what needs no rows (formats, files, associations,
columns, tiebreaking columns) and counts rows from the Parquet footers (HATS leaves too; the
other formats from their readers' row counts). The row checks (positions, translation,
homogenized values, the columns the rules read) are then done by the *prepare* tasks on the
workers, which prepare every row anyway, with the same coded errors
(:func:`pipelines.combine.prepare.prepare_checked`). Runs use that mode, because the plan
would otherwise read every input serially in the driver; ``create_combine`` keeps the full
scan so that a run that cannot succeed is refused before a pending manifest exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipelines.combine import flags as flagsmod
from pipelines.combine.config import CombineConfig
from pipelines.combine.errors import PipelineError
from pipelines.combine.flags import Translation, load_translation
from pipelines.combine.footprint import Fields, load_fields
from pipelines.combine.inputs import (
    FORMATS,
    REQUIRED_ROLES,
    ROLES,
    CombineInput,
    input_columns,
    input_rows,
    iter_input,
)
from pipelines.combine.prepare import RECOMPUTED, prepare_checked

SCAN_ROWS = 100_000
STANDARD = ("id", "ra", "dec", "z", "z_flag", "z_err", "survey", "instrument_type")


@dataclass
class InputPlan:
    """What the plan learned about one input."""

    input: CombineInput
    columns: list[str]
    n_rows: int
    surveys: list[str]
    user_homogenized: bool
    combined: bool
    scanned: bool = True


@dataclass
class CombinePlan:
    """A checked run, ready for :func:`pipelines.combine.runner.run_combine`.

    Attributes
    ----------
    config : CombineConfig
    inputs : list of InputPlan
    translation : Translation
    fields : Fields or None
    output_name : str
        Stem of the output file.
    extra_columns : tuple of str
        Input columns carried because the tiebreaking priority uses them.
    """

    config: CombineConfig
    inputs: list[InputPlan]
    translation: Translation
    fields: Fields | None
    output_name: str = "crd"
    extra_columns: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)

    @property
    def total_rows(self) -> int:
        """Rows over all inputs."""
        return sum(p.n_rows for p in self.inputs)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for provenance."""
        return {
            "config": self.config.to_dict(),
            "inputs": [
                p.input.to_dict() | {"rows": p.n_rows, "surveys": p.surveys} for p in self.inputs
            ],
            "output_name": self.output_name,
        }


def _check_columns(inp: CombineInput, columns: list[str]) -> None:
    unknown_roles = [r for r in inp.columns if r not in ROLES]
    if unknown_roles:
        raise PipelineError(
            "unknown-role",
            f"input {inp.internal_name}: unknown column roles {unknown_roles}; "
            f"use {', '.join(ROLES)}",
            input=inp.internal_name,
        )
    for role in REQUIRED_ROLES:
        if not inp.column(role):
            raise PipelineError(
                "missing-association",
                f"input {inp.internal_name}: no column associated with '{role}'",
                input=inp.internal_name,
                column=role,
            )
    missing = {r: c for r, c in inp.columns.items() if c and c not in columns}
    if missing:
        raise PipelineError(
            "missing-column",
            f"input {inp.internal_name}: associated columns not in the file: "
            + ", ".join(f"{r} -> {c}" for r, c in missing.items())
            + f" (file columns: {', '.join(columns[:30])}{' ...' if len(columns) > 30 else ''})",
            input=inp.internal_name,
            column=sorted(missing.values()),
        )


def _user_homogenized(inp: CombineInput, columns: list[str]) -> bool:
    """Whether the input brings its own homogenized columns (else it needs a survey column)."""
    has_z = "z_flag_homogenized" in columns
    has_t = any(c in columns for c in flagsmod.USER_TYPE_COLUMNS)
    user_homogenized = has_z and has_t
    if not user_homogenized and not inp.column("survey"):
        raise PipelineError(
            "survey-column-missing",
            f"input {inp.internal_name} has no survey column associated, so its flags cannot "
            "be translated, and it does not provide z_flag_homogenized and type_homogenized "
            "itself: associate a survey column or add the homogenized columns",
            input=inp.internal_name,
        )
    return user_homogenized


def _scan(
    inp: CombineInput, columns: list[str], config: CombineConfig, translation: Translation
) -> InputPlan:
    """Read the columns the checks need and run the preparation on them (result discarded).

    This checks positions, user-provided homogenized values, the survey column, that every
    survey has rules, that the rules' columns exist and that every row translates.
    """
    user_homogenized = _user_homogenized(inp, columns)
    wanted = [c for c in inp.columns.values() if c]
    wanted += [c for c in ("z_flag_homogenized", *flagsmod.USER_TYPE_COLUMNS) if c in columns]
    if not user_homogenized:
        needed: set[str] = set()
        for survey in translation.surveys:
            needed |= translation.columns_needed(survey)
        wanted += sorted(needed & set(columns))
    n_rows = 0
    surveys: set[str] = set()
    # small batches: the scan runs in the driver, whose memory must not grow with the pieces
    batch_rows = min(config.partition_rows, SCAN_ROWS)
    for batch in iter_input(inp, batch_rows, columns=list(dict.fromkeys(wanted))):
        prepared = prepare_checked(batch, inp, 1, n_rows, translation, None)
        surveys |= set(prepared["survey"].dropna().unique())
        n_rows += len(batch)
    return InputPlan(
        input=inp,
        columns=columns,
        n_rows=n_rows,
        surveys=sorted(surveys),
        user_homogenized=user_homogenized,
        combined=all(c in columns for c in RECOMPUTED[:4]),
    )


def _footers(inp: CombineInput, columns: list[str]) -> InputPlan:
    """The plan of an input from its footers (row count) only; rows are checked by the tasks."""
    return InputPlan(
        input=inp,
        columns=columns,
        n_rows=input_rows(inp),
        surveys=[],
        user_homogenized=_user_homogenized(inp, columns),
        combined=all(c in columns for c in RECOMPUTED[:4]),
        scanned=False,
    )


def make_plan(
    inputs: list[CombineInput],
    config: CombineConfig | dict[str, Any],
    output_name: str = "crd",
    scan_rows: bool = True,
) -> CombinePlan:
    """Check everything a run needs and return its plan.

    Parameters
    ----------
    inputs : list of CombineInput
        In order: CRD_IDs follow this order.
    config : CombineConfig or dict
    output_name : str
        Stem of the output file.
    scan_rows : bool
        Read every input's rows here to check them (default); False: count rows from the
        footers only and leave the row checks to the run's *prepare* tasks (same codes).

    Returns
    -------
    CombinePlan

    Raises
    ------
    PipelineError
        The first problem found, with a stable code naming the input.
    """
    if not isinstance(config, CombineConfig):
        config = CombineConfig.from_dict(config)
    if not inputs:
        raise PipelineError("no-inputs", "a combination needs at least one input catalog")
    names = [i.internal_name for i in inputs]
    if len(set(names)) != len(names):
        raise PipelineError("duplicate-input", f"an input is given twice: {names}")
    translation = load_translation(config.flags_path)
    fields = load_fields(config.fields_path) if config.footprint_flag else None
    plans = []
    for inp in inputs:
        if inp.format.lower() not in FORMATS:
            raise PipelineError(
                "input-format",
                f"input {inp.internal_name}: format {inp.format!r} cannot be "
                f"combined; use one of {', '.join(FORMATS)}",
                input=inp.internal_name,
            )
        columns = input_columns(inp)
        _check_columns(inp, columns)
        if scan_rows:
            plans.append(_scan(inp, columns, config, translation))
        else:
            plans.append(_footers(inp, columns))
    extra = tuple(
        c
        for c in config.tiebreaking_priority
        if c not in ("z_flag_homogenized", "type_homogenized")
    )
    for column in extra:
        lacking = [
            p.input.internal_name
            for p in plans
            if column not in p.columns and column not in STANDARD
        ]
        if lacking:
            raise PipelineError(
                "missing-column",
                f"tiebreaking column {column!r} is not in inputs {lacking}",
                column=column,
            )
    extra = tuple(c for c in extra if c not in STANDARD)
    return CombinePlan(
        config=config,
        inputs=plans,
        translation=translation,
        fields=fields,
        output_name=output_name,
        extra_columns=extra,
    )
