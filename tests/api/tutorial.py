"""Run the tutorial notebook's code cells in order, in one namespace, as a user would, and report.

``python tutorial.py NOTEBOOK`` prints, after the line ``=== tutorial report ===``, a JSON object:
``calls_passed`` and ``calls_failed`` (the tutorial's call numbers of ``metadata.pzcat.calls``, a
failed call with its error) and ``answers`` (facts read from the namespace, for the tests to assert).
A failing cell does not stop the run (a user goes on too). Only the standard library is used here, so
that it runs in any environment (the real ``pzserver`` client's venv included).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import traceback
from pathlib import Path

MARK = "=== tutorial report ==="


def _answers(ns: dict) -> dict:
    out: dict = {}

    def fact(name, fn):
        try:
            out[name] = fn()
        except Exception as exc:  # noqa: BLE001 - a missing answer is reported, not raised
            out[name] = f"ERROR {type(exc).__name__}: {exc}"

    fact("training_results", lambda: sorted(p["internal_name"] for p in ns["training_results"]))
    fact("data_rows", lambda: len(ns["data"]))
    fact("data_columns", lambda: sorted(ns["data"].columns)[:50])
    fact("internal_name", lambda: ns["internal_name"])
    fact(
        "downloads",
        lambda: sorted(p.name for p in Path(os.environ.get("PZ_DOWNLOADS", ".")).iterdir()),
    )
    fact("upload_id", lambda: ns["upload"].product_id)
    fact("upload_columns", lambda: sorted(ns["upload"].columns))
    fact("attributes_description", lambda: ns["product_object"].attributes["description"])
    fact("upload_status", lambda: ns["product_object"].attributes["product_status"])
    fact("crc_status", lambda: ns["status"])
    fact("crc_output", lambda: ns["crc"].output)
    fact("crc_inputs", lambda: ns["crc"].inputs)
    fact("specz_rows", lambda: len(ns["specz"]))
    fact("specz_columns", lambda: sorted(ns["specz"].columns)[:40])
    fact("tsm_ran", lambda: ns["tsm_ran"])
    fact("training_rows", lambda: len(ns["training"]))
    fact("parameters", lambda: sorted(ns["crc"].pipeline.parameters))
    return out


def run(path: Path) -> dict:
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    ns: dict = {"__name__": "__main__"}
    passed, failed = [], {}
    log = io.StringIO()
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        calls = cell.get("metadata", {}).get("pzcat", {}).get("calls", [])
        source = "".join(cell["source"])
        try:
            with contextlib.redirect_stdout(log):
                code = compile(source, f"<cell {i}>", "exec")
                exec(code, ns)
        except Exception as exc:  # noqa: BLE001 - record and go on, as a notebook user would
            tb = traceback.format_exc(limit=3)
            for n in calls:
                failed[str(n)] = f"{type(exc).__name__}: {str(exc)[:300]}"
            log.write(f"\n--- cell {i} failed ---\n{tb}\n")
        else:
            passed += calls
    return {
        "calls_passed": sorted(passed),
        "calls_failed": failed,
        "answers": _answers(ns),
        "n_calls": len(passed) + len(failed),
        "log_tail": log.getvalue()[-4000:],
    }


if __name__ == "__main__":
    report = run(Path(sys.argv[1]))
    print(MARK)
    print(json.dumps(report, default=str))
