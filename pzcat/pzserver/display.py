"""Tables for people: styled in Jupyter, plain text elsewhere."""

from __future__ import annotations

import sys

import pandas as pd


def _in_jupyter() -> bool:
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def display_table(frame: pd.DataFrame) -> None:
    """A table: styled in Jupyter, plain text elsewhere."""
    if _in_jupyter():
        from IPython.display import display

        display(frame.style.hide(axis="index"))
    else:
        with pd.option_context("display.max_colwidth", 60, "display.width", 160):
            print(frame.to_string(index=False) if len(frame) else "(no rows)")
