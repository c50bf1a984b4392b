"""The one root exception of pzcat.

Every error that reaches a user is a :class:`PzcatError` with a stable ``code`` (the same codes as
the validation report, see :mod:`pzcat.codes`), a message that says how to fix it, and optional
context (file, key, column, rows). The CLI catches this class only.
"""

from __future__ import annotations

from typing import Any


class PzcatError(Exception):
    """An error with a stable code.

    Parameters
    ----------
    code : str
        Stable, kebab-case identifier, e.g. ``"missing-column"``.
    message : str
        Human-readable explanation, including how to fix it.
    **context
        Where the problem is: ``file``, ``key``, ``column``, ``rows``, ``product``...
    """

    def __init__(self, code: str, message: str, **context: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.context = {k: v for k, v in context.items() if v is not None}

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"

    def __reduce__(self) -> tuple[Any, ...]:
        # picklable with its code and context (errors raised on Dask workers reach the driver)
        return (_rebuild, (type(self), self.code, self.message, self.context))

    def to_dict(self) -> dict[str, Any]:
        """Return the error as plain data (one shape for every error)."""
        return {"code": self.code, "message": self.message, **self.context}


def _rebuild(cls: type[PzcatError], code: str, message: str, context: dict[str, Any]) -> PzcatError:
    err = cls.__new__(cls)
    PzcatError.__init__(err, code, message, **context)
    return err


class ManifestError(PzcatError):
    """A manifest cannot be read or does not follow the schema."""


class TableError(PzcatError):
    """A table file cannot be read in its declared format."""


class CatalogError(PzcatError):
    """The catalog (``catalog.yaml`` or the set of manifests) is inconsistent."""


class UsageError(PzcatError):
    """A command was called with arguments that cannot work."""
