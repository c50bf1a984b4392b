"""A safe, vectorised evaluator for the expressions of flags translation files.

Expressions arrive in pull requests, so they are never given to ``eval``: they are parsed with
:mod:`ast` and walked over a whitelist, each node evaluated on whole pandas columns.

Allowed
-------
- names: columns of the catalog (``True``, ``False``, ``None`` are literals);
- literals: numbers, strings, booleans, and lists/tuples of literals (for ``in``);
- arithmetic ``+ - * / // % **``, unary ``- + not ~``, ``& | ^`` on booleans;
- comparisons ``== != < <= > >= in not in``, chained (``a < b <= c``);
- ``and`` / ``or`` (element-wise);
- calls of whitelisted functions, bare or as ``np.<name>`` / ``numpy.<name>``: ``abs isnan
  isnull notnull isfinite floor ceil trunc log10 sqrt minimum maximum`` and the casts used by
  the reference file ``float int str len``;
- a constant integer subscript of a string column (``str(x)[-2]``: the character).

Anything else (attributes other than ``np.<function>``, lambdas, comprehensions, keyword
arguments, starred arguments, unknown functions...) is an :class:`ExpressionError` with code
``unsafe-expression``. Comparisons with a missing value are False.
"""

from __future__ import annotations

import ast
import operator
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from pipelines.combine.errors import ExpressionError

MAX_LENGTH = 2000
MAX_NODES = 400
MAX_POWER = 64

Value = Any  # pandas.Series or a Python scalar


def _num(v: Value) -> Value:
    if isinstance(v, pd.Series):
        if pd.api.types.is_bool_dtype(v.dtype):
            return v.astype("float64")
        if pd.api.types.is_numeric_dtype(v.dtype):
            return v.astype("float64")
        return pd.to_numeric(v, errors="coerce").astype("float64")
    if isinstance(v, bool | int | float) or v is None:
        return np.nan if v is None else float(v)
    try:
        return float(v)
    except (TypeError, ValueError):
        return np.nan


def _int(v: Value) -> Value:
    n = _num(v)
    if isinstance(n, pd.Series):
        return pd.Series(np.trunc(n.to_numpy()), index=n.index).astype("Int64")
    return n if np.isnan(n) else int(n)


def _str(v: Value) -> Value:
    if isinstance(v, pd.Series):
        return v.astype("string")
    return str(v)


def _len(v: Value) -> Value:
    if isinstance(v, pd.Series):
        return v.astype("string").str.len().astype("float64")
    return float(len(str(v)))


def _isnull(v: Value) -> Value:
    if isinstance(v, pd.Series):
        return v.isna()
    return v is None or (isinstance(v, float) and np.isnan(v))


def _isfinite(v: Value) -> Value:
    n = _num(v)
    if isinstance(n, pd.Series):
        return pd.Series(np.isfinite(n.to_numpy()), index=n.index)
    return bool(np.isfinite(n))


def _ufunc(fn: Any) -> Any:
    def call(*args: Value) -> Value:
        nums = [_num(a) for a in args]
        index = next((a.index for a in nums if isinstance(a, pd.Series)), None)
        arrays = [a.to_numpy() if isinstance(a, pd.Series) else a for a in nums]
        with np.errstate(all="ignore"):
            out = fn(*arrays)
        return pd.Series(out, index=index) if index is not None else float(out)

    return call


FUNCTIONS: dict[str, tuple[Any, int]] = {
    "abs": (_ufunc(np.abs), 1),
    "isnan": (_isnull, 1),
    "isnull": (_isnull, 1),
    "isna": (_isnull, 1),
    "notnull": (lambda v: ~_isnull(v) if isinstance(v, pd.Series) else not _isnull(v), 1),
    "isfinite": (_isfinite, 1),
    "floor": (_ufunc(np.floor), 1),
    "ceil": (_ufunc(np.ceil), 1),
    "trunc": (_ufunc(np.trunc), 1),
    "log10": (_ufunc(np.log10), 1),
    "sqrt": (_ufunc(np.sqrt), 1),
    "minimum": (_ufunc(np.minimum), 2),
    "maximum": (_ufunc(np.maximum), 2),
    "float": (_num, 1),
    "int": (_int, 1),
    "str": (_str, 1),
    "len": (_len, 1),
}
MODULE_NAMES = ("np", "numpy")

_BINOPS: dict[type, Any] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_BITOPS: dict[type, Any] = {
    ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_,
    ast.BitXor: operator.xor,
}
_CMPOPS: dict[type, Any] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}


def _reject(expr: str, node: ast.AST, what: str) -> ExpressionError:
    return ExpressionError(
        "unsafe-expression",
        f"expression {expr!r}: {what} is not allowed (col {getattr(node, 'col_offset', '?')}); "
        "allowed: columns, literals, arithmetic, comparisons, and/or/not and the functions "
        f"{', '.join(sorted(FUNCTIONS))}",
        expression=expr,
    )


def _function_name(expr: str, func: ast.expr) -> str:
    if isinstance(func, ast.Name) and func.id in FUNCTIONS:
        return func.id
    if (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id in MODULE_NAMES
        and func.attr in FUNCTIONS
    ):
        return func.attr
    raise _reject(expr, func, f"calling {ast.unparse(func)!r}")


def _check(expr: str, node: ast.AST) -> None:
    """Walk the tree and raise on anything outside the whitelist."""
    if isinstance(node, ast.Expression):
        _check(expr, node.body)
    elif isinstance(node, ast.Constant):
        if not isinstance(node.value, int | float | str | bool | type(None)):
            raise _reject(expr, node, f"the literal {node.value!r}")
    elif isinstance(node, ast.Name):
        if node.id.startswith("__"):
            raise _reject(expr, node, f"the name {node.id!r}")
    elif isinstance(node, ast.List | ast.Tuple):
        for elt in node.elts:
            if not isinstance(elt, ast.Constant) and not (
                isinstance(elt, ast.UnaryOp) and isinstance(elt.operand, ast.Constant)
            ):
                raise _reject(expr, elt, "a non-literal inside a list")
            _check(expr, elt)
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in _BINOPS and type(node.op) not in _BITOPS:
            raise _reject(expr, node, f"the operator {type(node.op).__name__}")
        _check(expr, node.left)
        _check(expr, node.right)
    elif isinstance(node, ast.UnaryOp):
        _check(expr, node.operand)
    elif isinstance(node, ast.BoolOp):
        for v in node.values:
            _check(expr, v)
    elif isinstance(node, ast.Compare):
        for op in node.ops:
            if type(op) not in _CMPOPS and not isinstance(op, ast.In | ast.NotIn):
                raise _reject(expr, node, f"the comparison {type(op).__name__}")
        for op, comp in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.In | ast.NotIn) and not isinstance(comp, ast.List | ast.Tuple):
                raise _reject(expr, comp, "'in' with something else than a literal list")
        _check(expr, node.left)
        for c in node.comparators:
            _check(expr, c)
    elif isinstance(node, ast.Call):
        name = _function_name(expr, node.func)
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise _reject(expr, node, "keyword or starred arguments")
        if len(node.args) != FUNCTIONS[name][1]:
            raise ExpressionError(
                "expression-arity",
                f"expression {expr!r}: {name}() takes {FUNCTIONS[name][1]} argument(s)",
                expression=expr,
            )
        for a in node.args:
            _check(expr, a)
    elif isinstance(node, ast.Subscript):
        index = node.slice
        if isinstance(index, ast.UnaryOp) and isinstance(index.op, ast.USub):
            index = index.operand
        if not (isinstance(index, ast.Constant) and type(index.value) is int):
            raise _reject(expr, node, "a subscript other than a constant integer")
        _check(expr, node.value)
    else:
        raise _reject(expr, node, f"the construct {type(node).__name__}")


@lru_cache(maxsize=4096)
def parse(expr: str) -> ast.Expression:
    """Parse and check an expression.

    Parameters
    ----------
    expr : str

    Returns
    -------
    ast.Expression
        The checked tree.

    Raises
    ------
    ExpressionError
        ``expression-syntax`` (not Python syntax, empty, too long) or ``unsafe-expression``.
    """
    if not isinstance(expr, str) or not expr.strip():
        raise ExpressionError("expression-syntax", f"expression {expr!r} is empty", expression=expr)
    if len(expr) > MAX_LENGTH:
        raise ExpressionError(
            "expression-syntax",
            f"expression is longer than {MAX_LENGTH} characters",
            expression=expr[:80],
        )
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(
            "expression-syntax", f"expression {expr!r} is not valid: {exc.msg}", expression=expr
        ) from exc
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ExpressionError(
            "expression-syntax",
            f"expression {expr!r} has more than {MAX_NODES} nodes",
            expression=expr,
        )
    _check(expr, tree)
    return tree


def names(expr: str) -> set[str]:
    """Return the column names an expression reads."""
    tree = parse(expr)
    skip = {
        id(n.func.value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
    }
    out = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and id(n) not in skip:
            if isinstance(n, ast.Name) and n.id in FUNCTIONS:
                continue
            out.add(n.id)
    return out


def _truth(v: Value, index: pd.Index) -> pd.Series:
    if isinstance(v, pd.Series):
        if pd.api.types.is_bool_dtype(v.dtype):
            return v.fillna(False).astype(bool)
        return (_num(v).fillna(0) != 0).astype(bool)
    return pd.Series(bool(v) if v is not None else False, index=index)


def _is_stringy(v: Value) -> bool:
    if isinstance(v, str):
        return True
    return isinstance(v, pd.Series) and (pd.api.types.is_string_dtype(v.dtype) or v.dtype == object)


class _Evaluator:
    def __init__(self, expr: str, frame: pd.DataFrame) -> None:
        self.expr = expr
        self.frame = frame
        self.index = frame.index

    def error(self, message: str) -> ExpressionError:
        return ExpressionError(
            "expression-type", f"expression {self.expr!r}: {message}", expression=self.expr
        )

    def visit(self, node: ast.AST) -> Value:
        method = getattr(self, "visit_" + type(node).__name__)
        return method(node)

    def visit_Expression(self, node: ast.Expression) -> Value:
        return self.visit(node.body)

    def visit_Constant(self, node: ast.Constant) -> Value:
        return node.value

    def visit_Name(self, node: ast.Name) -> Value:
        if node.id not in self.frame.columns:
            raise ExpressionError(
                "unknown-column",
                f"expression {self.expr!r} reads column {node.id!r}, which the catalog lacks",
                expression=self.expr,
                column=node.id,
            )
        return self.frame[node.id]

    def visit_List(self, node: ast.List | ast.Tuple) -> Value:
        return [self.visit(e) for e in node.elts]

    visit_Tuple = visit_List

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Value:
        v = self.visit(node.operand)
        if isinstance(node.op, ast.Not):
            return ~_truth(v, self.index) if isinstance(v, pd.Series) else not v
        if isinstance(node.op, ast.Invert):
            return ~_truth(v, self.index) if isinstance(v, pd.Series) else not v
        if _is_stringy(v):
            raise self.error("arithmetic on text")
        n = _num(v)
        return -n if isinstance(node.op, ast.USub) else n

    def visit_BinOp(self, node: ast.BinOp) -> Value:
        left, right = self.visit(node.left), self.visit(node.right)
        if type(node.op) in _BITOPS:
            op = _BITOPS[type(node.op)]
            return op(_truth(left, self.index), _truth(right, self.index))
        if _is_stringy(left) or _is_stringy(right):
            raise self.error("arithmetic on text")
        left, right = _num(left), _num(right)
        if (
            isinstance(node.op, ast.Pow)
            and not isinstance(right, pd.Series)
            and abs(right) > MAX_POWER
        ):
            raise self.error(f"exponent larger than {MAX_POWER}")
        with np.errstate(all="ignore"):
            if isinstance(left, pd.Series) or isinstance(right, pd.Series):
                return _BINOPS[type(node.op)](left, right)
            try:
                return _BINOPS[type(node.op)](left, right)
            except (ZeroDivisionError, OverflowError):
                return np.nan

    def visit_BoolOp(self, node: ast.BoolOp) -> Value:
        values = [_truth(self.visit(v), self.index) for v in node.values]
        out = values[0]
        for v in values[1:]:
            out = (out & v) if isinstance(node.op, ast.And) else (out | v)
        return out

    def _compare(self, op: ast.cmpop, left: Value, right: Value) -> pd.Series:
        if isinstance(op, ast.In | ast.NotIn):
            if not isinstance(left, pd.Series):
                left = pd.Series([left] * len(self.index), index=self.index, dtype=object)
            inside = left.isin(right).fillna(False).astype(bool)
            return ~inside if isinstance(op, ast.NotIn) else inside
        fn = _CMPOPS[type(op)]
        if _is_stringy(left) != _is_stringy(right) and not (left is None or right is None):
            # text against numbers: compare text with the number's text (e.g. flag == 3 on "3")
            if isinstance(op, ast.Eq | ast.NotEq):
                left, right = (_num(left), right) if _is_stringy(left) else (left, _num(right))
            else:
                raise self.error("ordering text against a number")
        if not _is_stringy(left) and not _is_stringy(right):
            if (
                isinstance(left, pd.Series)
                and pd.api.types.is_bool_dtype(left.dtype)
                and isinstance(right, bool)
            ):
                pass
            elif not (isinstance(left, pd.Series) and pd.api.types.is_bool_dtype(left.dtype)):
                left = _num(left)
                right = _num(right)
        out = fn(left, right)
        if isinstance(out, pd.Series):
            if pd.api.types.is_bool_dtype(out.dtype) and not isinstance(op, ast.NotEq):
                return out.fillna(False).astype(bool)
            return out.fillna(isinstance(op, ast.NotEq)).astype(bool)
        return pd.Series(bool(out), index=self.index)

    def visit_Compare(self, node: ast.Compare) -> Value:
        left = self.visit(node.left)
        result: pd.Series | None = None
        for op, comp in zip(node.ops, node.comparators, strict=True):
            right = self.visit(comp)
            part = self._compare(op, left, right)
            result = part if result is None else (result & part)
            left = right
        return result

    def visit_Call(self, node: ast.Call) -> Value:
        name = _function_name(self.expr, node.func)
        args = [self.visit(a) for a in node.args]
        return FUNCTIONS[name][0](*args)

    def visit_Subscript(self, node: ast.Subscript) -> Value:
        value = self.visit(node.value)
        index = node.slice
        position = (
            -index.operand.value if isinstance(index, ast.UnaryOp) else index.value  # type: ignore[union-attr]
        )
        if isinstance(value, pd.Series):
            return value.astype("string").str[position]
        text = str(value)
        return text[position] if -len(text) <= position < len(text) else None


def evaluate(expr: str, frame: pd.DataFrame) -> pd.Series:
    """Evaluate an expression over a frame's columns.

    Parameters
    ----------
    expr : str
    frame : pandas.DataFrame
        Its columns are the names the expression may use.

    Returns
    -------
    pandas.Series
        Aligned with ``frame.index``; a boolean series for conditions.

    Raises
    ------
    ExpressionError
        ``expression-syntax``, ``unsafe-expression``, ``unknown-column``, ``expression-type``.
    """
    tree = parse(expr)
    try:
        value = _Evaluator(expr, frame).visit(tree)
    except TypeError as exc:
        raise ExpressionError(
            "expression-type", f"expression {expr!r} cannot be evaluated: {exc}", expression=expr
        ) from exc
    if not isinstance(value, pd.Series):
        value = pd.Series([value] * len(frame), index=frame.index)
    return value


def condition(expr: str, frame: pd.DataFrame) -> np.ndarray:
    """Evaluate an expression as a condition: a boolean array, missing values False."""
    value = evaluate(expr, frame)
    return _truth(value, frame.index).to_numpy(dtype=bool)
