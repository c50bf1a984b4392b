"""Flags translation: survey quality flags and types to the homogenized vocabulary.

The translation YAML has the reference's format: top-level parameters (tiebreaking_priority,
delta_z_threshold, ...) and ``translation_rules.<SURVEY>`` blocks with ``z_flag_translation``
and ``instrument_type_translation``. Each is a :class:`Rule`: direct ``value: result`` entries,
``conditions`` (``expr``, ``value``; evaluated in order, a later match overrides an earlier one)
and a ``default`` for rows nothing matched.

Vocabulary: ``z_flag_homogenized`` in {0, 1, 2, 3, 4, 6} (0 no redshift, 1 < 70 %, 2 70-90 %,
3 90-99 %, 4 > 99 %, 6 star) and ``type_homogenized`` in {s, g, p}.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipelines.combine import expr as expressions
from pipelines.combine.errors import PipelineError
from pzcat import vocab
from pzcat.safeyaml import load_yaml

Z_FLAGS = vocab.Z_FLAGS
TYPES = vocab.TYPES
USER_TYPE_COLUMNS = ("type_homogenized", "instrument_type_homogenized")


@dataclass(frozen=True)
class Rule:
    """How one column of one survey is translated.

    Attributes
    ----------
    mapping : dict
        Raw value -> homogenized value. Numeric keys match numerically (``4`` matches ``4.0``
        and ``"4"``); text keys match stripped text.
    conditions : list of (str, value)
        Expressions over the catalog's columns; later matches override earlier ones.
    default : value or None
        For rows that neither the mapping nor any condition matched.
    """

    mapping: dict[Any, Any] = field(default_factory=dict)
    conditions: tuple[tuple[str, Any], ...] = ()
    default: Any = None

    def apply(self, raw: pd.Series | None, frame: pd.DataFrame) -> pd.Series:
        """Translate a survey's rows.

        Parameters
        ----------
        raw : pandas.Series or None
            The raw flag column (None when the input has none), aligned with ``frame``.
        frame : pandas.DataFrame
            The catalog's columns, for the conditions.

        Returns
        -------
        pandas.Series
            Object series of homogenized values, None where nothing applied.
        """
        out = pd.Series([None] * len(frame), index=frame.index, dtype=object)
        if self.mapping and raw is not None:
            numeric = {float(k): v for k, v in self.mapping.items() if _is_number(k)}
            textual = {str(k).strip(): v for k, v in self.mapping.items() if not _is_number(k)}
            if numeric:
                as_num = pd.to_numeric(raw, errors="coerce").astype("float64")
                mapped = as_num.map(numeric)
                out = out.where(mapped.isna(), mapped.astype(object))
            if textual:
                as_text = raw.astype("string").str.strip()
                mapped = as_text.map(textual).astype(object)
                out = out.where(pd.isna(mapped), mapped)
        for text, value in self.conditions:
            hit = expressions.condition(text, frame)
            if hit.any():
                out[hit] = value
        if self.default is not None:
            out = out.where(out.notna(), self.default)
        return out


def _is_number(key: Any) -> bool:
    return isinstance(key, int | float) and not isinstance(key, bool)


def _parse_rule(survey: str, what: str, block: Any, source: str) -> Rule:
    if block is None:
        return Rule()
    if not isinstance(block, dict):
        raise PipelineError(
            "flags-file-invalid", f"{source}: {survey}.{what} must be a mapping", survey=survey
        )
    mapping = {k: v for k, v in block.items() if k not in ("conditions", "default")}
    conditions = []
    for i, cond in enumerate(block.get("conditions") or []):
        if not isinstance(cond, dict) or "expr" not in cond or "value" not in cond:
            raise PipelineError(
                "flags-file-invalid",
                f"{source}: {survey}.{what}.conditions[{i}] needs 'expr' and 'value'",
                survey=survey,
            )
        expressions.parse(str(cond["expr"]))  # fail early on unsafe expressions
        conditions.append((str(cond["expr"]), cond["value"]))
    return Rule(mapping=mapping, conditions=tuple(conditions), default=block.get("default"))


@dataclass(frozen=True)
class SurveyRules:
    """The two rules of one survey."""

    z_flag: Rule
    type: Rule


@dataclass(frozen=True)
class Translation:
    """A loaded translation file.

    Attributes
    ----------
    path : Path
    params : dict
        The file's top-level parameters (informative; the run's configuration decides).
    surveys : dict
        Upper-case survey name -> :class:`SurveyRules`.
    """

    path: Path
    params: dict[str, Any]
    surveys: dict[str, SurveyRules]

    def columns_needed(self, survey: str) -> set[str]:
        """Columns that a survey's conditions read."""
        rules = self.surveys[survey]
        out: set[str] = set()
        for rule in (rules.z_flag, rules.type):
            for text, _ in rule.conditions:
                out |= expressions.names(text)
        return out


def load_translation(path: Path | str) -> Translation:
    """Load a translation YAML in the reference's format.

    Raises
    ------
    PipelineError
        ``flags-file-invalid`` (unreadable, not a mapping, bad values), or an expression error.
    """
    path = Path(path)
    try:
        data = load_yaml(path.read_bytes(), str(path), error=PipelineError)
    except OSError as exc:
        raise PipelineError("flags-file-invalid", f"cannot read flags file {path}: {exc}") from exc
    except PipelineError as exc:
        raise PipelineError("flags-file-invalid", f"{exc.message} [{exc.code}]") from None
    if not isinstance(data, dict) or not isinstance(data.get("translation_rules"), dict):
        raise PipelineError(
            "flags-file-invalid", f"{path}: no 'translation_rules' mapping of surveys"
        )
    surveys: dict[str, SurveyRules] = {}
    for name, block in data["translation_rules"].items():
        block = block or {}
        key = str(name).strip().upper()
        rules = SurveyRules(
            z_flag=_parse_rule(
                key, "z_flag_translation", block.get("z_flag_translation"), str(path)
            ),
            type=_parse_rule(
                key,
                "instrument_type_translation",
                block.get("instrument_type_translation"),
                str(path),
            ),
        )
        _check_outputs(key, rules, path)
        surveys[key] = rules
    params = {k: v for k, v in data.items() if k != "translation_rules"}
    return Translation(path=path, params=params, surveys=surveys)


def _check_outputs(survey: str, rules: SurveyRules, path: Path) -> None:
    zs = list(rules.z_flag.mapping.values()) + [v for _, v in rules.z_flag.conditions]
    zs += [rules.z_flag.default] if rules.z_flag.default is not None else []
    bad = [v for v in zs if not _is_number(v) or float(v) not in Z_FLAGS]
    ts = list(rules.type.mapping.values()) + [v for _, v in rules.type.conditions]
    ts += [rules.type.default] if rules.type.default is not None else []
    bad += [v for v in ts if v not in TYPES]
    if bad:
        raise PipelineError(
            "flags-file-invalid",
            f"{path}: survey {survey} translates to values outside the vocabulary: {bad} "
            f"(z_flag_homogenized {list(Z_FLAGS)}, type_homogenized {list(TYPES)})",
            survey=survey,
        )


def _examples(values: pd.Series, n: int = 5) -> list[Any]:
    return [v.item() if hasattr(v, "item") else v for v in pd.unique(values.dropna())[:n]]


def _user_values(frame: pd.DataFrame, input_name: str) -> tuple[pd.Series | None, pd.Series | None]:
    """Validate user-provided homogenized columns (None when absent)."""
    zfh = None
    if "z_flag_homogenized" in frame.columns:
        raw = pd.to_numeric(frame["z_flag_homogenized"], errors="coerce")
        bad = frame["z_flag_homogenized"][~raw.isin(Z_FLAGS)]
        if len(bad):
            raise PipelineError(
                "homogenized-out-of-range",
                f"input {input_name}: {len(bad)} rows have invalid values in user-provided "
                f"z_flag_homogenized, allowed {list(Z_FLAGS)}, examples {_examples(bad)}",
                input=input_name,
                column="z_flag_homogenized",
                rows=len(bad),
            )
        zfh = raw
    typ = None
    for col in USER_TYPE_COLUMNS:
        if col in frame.columns:
            values = frame[col].astype("string").str.strip().str.lower()
            bad = frame[col][~values.isin(TYPES).fillna(False).astype(bool)]
            if len(bad):
                raise PipelineError(
                    "homogenized-out-of-range",
                    f"input {input_name}: {len(bad)} rows have invalid values in user-provided "
                    f"{col}, allowed {list(TYPES)}, examples {_examples(bad)}",
                    input=input_name,
                    column=col,
                    rows=len(bad),
                )
            typ = values
            break
    return zfh, typ


def homogenize(
    frame: pd.DataFrame, input_name: str, translation: Translation
) -> tuple[np.ndarray, np.ndarray]:
    """Compute ``z_flag_homogenized`` and ``type_homogenized`` for one partition.

    Parameters
    ----------
    frame : pandas.DataFrame
        The prepared partition: standard columns (``z_flag``, ``survey``...) over the input's
        own columns; user-provided ``z_flag_homogenized`` / ``type_homogenized`` (or
        ``instrument_type_homogenized``) take precedence over the translation.
    input_name : str
        For error messages.
    translation : Translation

    Returns
    -------
    (numpy.ndarray of int8, numpy.ndarray of str)

    Raises
    ------
    PipelineError
        ``homogenized-out-of-range``, ``survey-column-missing``, ``survey-not-supported``,
        ``flags-untranslated``.
    """
    zfh, typ = _user_values(frame, input_name)
    if zfh is not None and typ is not None:
        return zfh.to_numpy(dtype="int8"), typ.to_numpy(dtype=object).astype(str)
    if "survey" not in frame.columns or frame["survey"].isna().all():
        missing = [
            n for n, v in (("z_flag_homogenized", zfh), ("type_homogenized", typ)) if v is None
        ]
        raise PipelineError(
            "survey-column-missing",
            f"input {input_name} has no survey column (or it is empty), so its flags cannot be "
            f"translated and it does not provide {' and '.join(missing)} itself: associate a "
            "survey column whose values are keys of the flags translation file, or add the "
            "homogenized columns",
            input=input_name,
        )
    surveys = frame["survey"]
    present = sorted(s for s in pd.unique(surveys.dropna()))
    unsupported = [s for s in present if s not in translation.surveys]
    if unsupported or surveys.isna().any():
        if surveys.isna().any():
            unsupported.append("<empty>")
        raise PipelineError(
            "survey-not-supported",
            f"input {input_name}: missing translation for surveys {unsupported} in "
            f"{translation.path.name}; supported surveys: {', '.join(sorted(translation.surveys))}",
            input=input_name,
            surveys=unsupported,
        )
    z_out = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    t_out = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    raw_flag = frame["z_flag_raw"] if "z_flag_raw" in frame.columns else None
    raw_type = frame["instrument_type"] if "instrument_type" in frame.columns else None
    for survey in present:
        mask = (surveys == survey).to_numpy()
        sub = frame.loc[mask]
        rules = translation.surveys[survey]
        if zfh is None:
            z_out.loc[mask] = rules.z_flag.apply(
                raw_flag.loc[mask] if raw_flag is not None else None, sub
            ).to_numpy()
        if typ is None:
            t_out.loc[mask] = rules.type.apply(
                raw_type.loc[mask] if raw_type is not None else None, sub
            ).to_numpy()
    if zfh is None:
        _require_translated(z_out, frame, input_name, "z_flag_homogenized", raw_flag)
        zfh = pd.to_numeric(z_out)
    if typ is None:
        _require_translated(t_out, frame, input_name, "type_homogenized", raw_type)
        typ = t_out
    return zfh.to_numpy(dtype="int8"), typ.to_numpy(dtype=object).astype(str)


def _require_translated(
    out: pd.Series, frame: pd.DataFrame, input_name: str, column: str, raw: pd.Series | None
) -> None:
    missing = out.isna().to_numpy()
    if not missing.any():
        return
    surveys = sorted(pd.unique(frame.loc[missing, "survey"]))
    examples = _examples(raw[missing]) if raw is not None else []
    everything = " (all rows)" if missing.all() else ""
    raise PipelineError(
        "flags-untranslated",
        f"input {input_name}: {int(missing.sum())} of {len(out)} rows{everything} of surveys "
        f"{surveys} translate to no {column}: their flags match no direct value, no condition "
        f"and the survey has no default (raw flag examples {examples}); fix the flags or the "
        "survey's rule in the translation file",
        input=input_name,
        surveys=surveys,
        column=column,
        rows=int(missing.sum()),
    )
