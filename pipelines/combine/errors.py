"""The pipeline's coded error.

:class:`PipelineError` is a :class:`pzcat.errors.PzcatError`, so the CLI reports it as
``error[code]: message`` like every other pzcat error.
"""

from __future__ import annotations

from typing import Any

from pzcat.errors import PzcatError


class PipelineError(PzcatError):
    """An error of the Combine Redshift Catalogs pipeline, with a stable ``code``.

    Parameters
    ----------
    code : str
        Stable kebab-case identifier, e.g. ``"survey-not-supported"``.
    message : str
        What went wrong, naming the input and how to fix it.
    **context
        Extra facts (``input``, ``surveys``, ``rows``, ``column``...).
    """

    def __init__(self, code: str, message: str, **context: Any) -> None:
        super().__init__(code, message, **context)


class ExpressionError(PipelineError):
    """An expression of a flags translation file is invalid or not allowed."""
