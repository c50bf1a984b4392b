"""Agreement of pzcat's Combine with the reference's outputs on the 13 shared samples, per sample.

Runs mark mode with the reference's parameters twice (``tie_order: crd_id``, pzcat's default, and
``tie_order: reference``) and prints, per input, the rows whose tie_result (stars: reference 3 =
pzcat 0) and compared_to set agree. Run from the repository root::

    .venv/bin/python scripts/reference_agreement.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.combine.plan import make_plan
from pipelines.combine.runner import run_combine
from tests.pipeline.samples import REFERENCE, REFERENCE_PARAMS, sample_inputs


def main() -> None:
    inputs = sample_inputs()
    offsets, start = {}, 0
    for inp in inputs:
        offsets[inp.internal_name[:3]] = start
        start += len(pd.read_parquet(inp.path, columns=[inp.columns["ra"]]))

    def ours_id(ref_id: str) -> int:
        prefix, k = ref_id[3:].split("_")
        return offsets[prefix] + int(k)

    def id_set(text, convert) -> frozenset:
        if text is None or pd.isna(text):
            return frozenset()
        return frozenset(convert(t.strip()) for t in str(text).split(","))

    ref = pd.read_parquet(REFERENCE / "mark" / "crd.parquet")
    ref["ours"] = ref["CRD_ID"].map(ours_id)
    ref_tie = ref["tie_result"].where(ref["tie_result"] != 3, 0).to_numpy()
    ref_sets = [id_set(t, ours_id) for t in ref["compared_to"]]
    for order in ("crd_id", "reference"):
        with tempfile.TemporaryDirectory() as tmp:
            plan = make_plan(inputs, REFERENCE_PARAMS | {"duplicates": "mark", "tie_order": order})
            run_combine(plan, Path(tmp))
            mine = pd.read_parquet(Path(tmp) / "crd.parquet").set_index("CRD_ID").loc[ref["ours"]]
        tie_ok = mine["tie_result"].to_numpy() == ref_tie
        cmp_ok = pd.Series(
            [a == id_set(b, int) for a, b in zip(ref_sets, mine["compared_to"], strict=True)]
        ).to_numpy()
        print(f"\ntie_order: {order}")
        print(f"{'input':45s} {'rows':>5s} {'tie_result':>11s} {'compared_to':>12s}")
        for source, idx in ref.groupby("source").indices.items():
            print(
                f"{source:45s} {len(idx):5d} {int(tie_ok[idx].sum()):11d} {int(cmp_ok[idx].sum()):12d}"
            )
        print(f"{'all':45s} {len(ref):5d} {int(tie_ok.sum()):11d} {int(cmp_ok.sum()):12d}")
        for i in ref.index[~(tie_ok & cmp_ok)]:
            print(
                "  differs:",
                ref.loc[i, "CRD_ID"],
                ref.loc[i, "tie_result"],
                ref.loc[i, "compared_to"],
                mine["tie_result"].iloc[i],
                mine["compared_to"].iloc[i],
            )


if __name__ == "__main__":
    main()
