"""The safe expression evaluator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.combine import expr
from pipelines.combine.errors import ExpressionError
from pipelines.combine.flags import load_translation
from tests.pipeline.samples import REFERENCE_FLAGS

FRAME = pd.DataFrame(
    {
        "z": [0.1, np.nan, 2.0, 3.5],
        "z_flag": [3.0, 14.0, 145.0, np.nan],
        "z_err": [0.0, 0.0005, 0.002, np.nan],
        "SPECTYPE": pd.Series(["GALAXY", "STAR", None, "QSO"], dtype="string"),
        "ZCAT_PRIMARY": [True, False, True, True],
    }
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("z_err == 0", [True, False, False, False]),
        ("0 < z_err < 0.001", [False, True, False, False]),
        ("z_err >= 0.001 or z > 3", [False, False, True, True]),
        ("not isfinite(z)", [False, True, False, False]),
        ("np.isfinite(z) and z_flag < 100", [True, False, False, False]),
        ("SPECTYPE != 'STAR' and ZCAT_PRIMARY == True", [True, False, True, True]),
        ("SPECTYPE == 'STAR'", [False, True, False, False]),
        (
            "np.trunc(float(z_flag)) - 10*np.trunc(np.trunc(float(z_flag))/10) == 4",
            [False, True, False, False],
        ),
        (
            "len(str(int(z_flag))) <= 1 or int(str(int(z_flag))[-2]) <= 3",
            [True, True, False, False],
        ),
        ("z_flag in [3, 14]", [True, True, False, False]),
        ("z_flag not in (3, 14)", [False, False, True, True]),
        ("(abs(z - 2) <= 0.5) | (z_flag == 3)", [True, False, True, False]),
        ("maximum(z, 1) ** 2 > 3", [False, False, True, True]),
        ("~(z > 1)", [True, True, False, False]),
    ],
)
def test_conditions(text, expected):
    assert expr.condition(text, FRAME).tolist() == expected


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "z.__class__",
        "z_flag.real",
        "(lambda: 1)()",
        "[x for x in z]",
        "{1: 2}",
        "open('/etc/passwd')",
        "eval('1')",
        "getattr(z, 'x')",
        "np.load('x')",
        "os.system('x')",
        "z[1:2]",
        "z[z_flag]",
        "abs(x=1)",
        "f'{z}'",
        "z if z else 1",
        "(y := 1)",
        "__builtins__",
        "z_flag in z",
        "[z_flag]",
    ],
)
def test_rejects_unsafe(text):
    with pytest.raises(ExpressionError) as info:
        expr.evaluate(text, FRAME)
    assert info.value.code in ("unsafe-expression", "expression-syntax")


def test_codes_for_other_errors():
    with pytest.raises(ExpressionError, match="lacks") as info:
        expr.evaluate("nonexistent > 1", FRAME)
    assert info.value.code == "unknown-column"
    with pytest.raises(ExpressionError) as info:
        expr.evaluate("z >", FRAME)
    assert info.value.code == "expression-syntax"
    with pytest.raises(ExpressionError) as info:
        expr.evaluate("sqrt(z, z)", FRAME)
    assert info.value.code == "expression-arity"
    with pytest.raises(ExpressionError) as info:
        expr.evaluate("'a' * 1000000000", FRAME)
    assert info.value.code == "expression-type"
    with pytest.raises(ExpressionError) as info:
        expr.evaluate("2 ** 10 ** 10", FRAME)
    assert info.value.code == "expression-type"
    with pytest.raises(ExpressionError) as info:
        expr.parse("z + " * 1000 + "z")


def test_names():
    assert expr.names("np.isfinite(z) and lp_type != 1 and abs(zz) > 0") == {"z", "lp_type", "zz"}


@pytest.mark.parametrize("path", [REFERENCE_FLAGS, "pipelines/data/flags_translation.yaml"])
def test_every_expression_of_the_translation_files_evaluates(path):
    translation = load_translation(path)
    needed = set()
    for survey in translation.surveys:
        needed |= translation.columns_needed(survey)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({c: rng.integers(-100, 500, 40).astype(float) for c in needed})
    for c in ("zspec_survey", "SPECTYPE", "CLASS", "Class", "zfinal_type", "zbest_type"):
        frame[c] = pd.Series(
            rng.choice(["-", "STAR", "GALAXY", "STA", "s", "p"], 40), dtype="string"
        )
    frame["ZCAT_PRIMARY"] = rng.random(40) > 0.5
    count = 0
    for rules in translation.surveys.values():
        for rule in (rules.z_flag, rules.type):
            for text, _ in rule.conditions:
                assert expr.condition(text, frame).dtype == bool
                count += 1
    assert count > 100
