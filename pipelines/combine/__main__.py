"""Run a combination from a spec file, without a catalog: ``python -m pipelines.combine``.

The spec is YAML::

    inputs:
      - {internal_name: 001_a, path: a.parquet, format: parquet,
         columns: {id: ID, ra: RA, dec: DEC, z: Z, z_flag: Q, survey: survey}}
    config: {duplicates: mark, output_format: parquet}

Used by the benchmark (whole command timed from start to exit) and for debugging. Catalog
products are combined with ``pzcat combine`` / ``pzcat run`` instead.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipelines.combine.errors import PipelineError
from pipelines.combine.inputs import CombineInput
from pipelines.combine.plan import make_plan
from pipelines.combine.runner import run_combine, stderr_progress
from pzcat.files import atomic_write_text
from pzcat.safeyaml import load_yaml


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m pipelines.combine", description=__doc__)
    parser.add_argument("spec", type=Path, help="YAML spec: inputs and config")
    parser.add_argument("output_dir", type=Path)
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument("--result", type=Path, help="write the run result as JSON here")
    args = parser.parse_args(argv)
    try:
        spec = load_yaml(args.spec.read_bytes(), str(args.spec), error=PipelineError)
    except PipelineError as exc:
        print(f"error[{exc.code}]: {exc.message}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error[invalid-config]: cannot read {args.spec}: {exc}", file=sys.stderr)
        return 1
    base = args.spec.resolve().parent
    inputs = [
        CombineInput(
            internal_name=i["internal_name"],
            version=int(i.get("version", 1)),
            path=(base / i["path"]).resolve(),
            format=i.get("format", "parquet"),
            columns={k: v for k, v in i.get("columns", {}).items() if v},
        )
        for i in spec["inputs"]
    ]
    try:
        # rows are checked by the run's prepare tasks, on the workers
        plan = make_plan(
            inputs, spec.get("config", {}), spec.get("output_name", "crd"), scan_rows=False
        )
        result = run_combine(plan, args.output_dir, None if args.quiet else stderr_progress)
    except PipelineError as exc:
        print(f"error[{exc.code}]: {exc.message}", file=sys.stderr)
        return 1
    if args.result:
        atomic_write_text(args.result, json.dumps(result.to_dict(), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
