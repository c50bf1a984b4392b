"""Run a job of one of our workflow files here, step by step, as Actions would (the parts we use).

* ``run:`` steps execute in bash (``-e``) in the workspace, with the step's ``env:`` and GitHub's
  variables (``GITHUB_EVENT_PATH``, ``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY``, ``GITHUB_API_URL``,
  ``GITHUB_REPOSITORY``...), and the project's ``pzcat`` first on PATH; the ``pip install`` steps
  are checked (what they install) but not run: the environment has pzcat already.
* ``${{ }}`` expressions of ``with:``, ``env:`` and ``if:`` are evaluated for the few forms the
  workflows use: ``github.event.*``, ``github.token``, ``runner.temp``, ``secrets.*``, ``a || b``,
  ``x == 'y'``, ``always()``, ``steps.<id>.outputs.*`` and ``needs.<job>.outputs.*``.
* ``uses:`` steps: ``actions/checkout`` calls the test's ``checkout(with_)`` (it prepares the
  folder), ``upload-artifact``/``download-artifact`` copy to and from an artifacts folder,
  setup-python and the Pages actions are no-ops.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


@dataclass
class StepResult:
    name: str
    ran: bool
    returncode: int = 0
    output: str = ""
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class JobRun:
    steps: list[StepResult]
    outputs: dict[str, str]

    @property
    def failed(self) -> bool:
        return any(s.returncode != 0 for s in self.steps)

    def step(self, needle: str) -> StepResult:
        return next(s for s in self.steps if needle in s.name)


def _read_outputs(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    out, i = {}, 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and "=" not in line.split("<<")[0]:
            name, delim = line.split("<<", 1)
            j = lines.index(delim, i + 1)
            out[name] = "\n".join(lines[i + 1 : j])
            i = j + 1
        else:
            name, _, value = line.partition("=")
            out[name] = value
            i += 1
    return out


class Runner:
    """One job's context: the event, the workspace, the artifacts, the outputs so far."""

    def __init__(
        self,
        workflow: Path,
        event: dict[str, Any],
        workspace: Path,
        artifacts: Path,
        checkout: Callable[[dict[str, Any]], None],
        env: dict[str, str],
        needs: dict[str, dict[str, str]] | None = None,
        secrets: dict[str, str] | None = None,
    ) -> None:
        self.data = yaml.safe_load(workflow.read_text(encoding="utf-8"))
        self.event, self.workspace, self.artifacts = event, workspace, artifacts
        self.checkout, self.extra_env = checkout, env
        self.needs, self.secrets = needs or {}, secrets or {}
        self.steps_outputs: dict[str, dict[str, str]] = {}
        self.temp = workspace.parent / "runner-temp"
        self.temp.mkdir(parents=True, exist_ok=True)
        self.failed = False

    # -- expressions ---------------------------------------------------------------------------

    def value(self, expr: str) -> Any:
        expr = expr.strip()
        if "||" in expr:
            for part in expr.split("||"):
                v = self.value(part)
                if v:
                    return v
            return ""
        m = re.fullmatch(r"(.+?)\s*(==|!=)\s*'([^']*)'", expr)
        if m:
            same = str(self.value(m.group(1))) == m.group(3)
            return same if m.group(2) == "==" else not same
        if expr == "always()":
            return True
        if expr.startswith("contains("):
            return True  # the label filters of forms.yml: the test picks the event
        parts = expr.split(".")
        if parts[0] == "github":
            if parts[1] == "token":
                return self.extra_env.get("GITHUB_TOKEN", "")
            node: Any = self.event
            for p in parts[2:]:
                node = node.get(p, "") if isinstance(node, dict) else ""
            return node
        if parts[0] == "runner" and parts[1] == "temp":
            return str(self.temp)
        if parts[0] == "secrets":
            return self.secrets.get(parts[1], "")
        if parts[0] == "steps":
            return self.steps_outputs.get(parts[1], {}).get(parts[3], "")
        if parts[0] == "needs":
            return self.needs.get(parts[1], {}).get(parts[3], "")
        raise AssertionError(f"expression not supported by the test runner: {expr}")

    def text(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        whole = EXPR.fullmatch(value.strip())
        if whole:
            return self.value(whole.group(1))
        return EXPR.sub(lambda m: str(self.value(m.group(1))), value)

    def condition(self, cond: Any) -> bool:
        if cond is None:
            return not self.failed
        text = cond.strip()
        text = EXPR.fullmatch(text).group(1) if EXPR.fullmatch(text) else text
        if "always()" in text:
            return True
        return (not self.failed) and bool(self.value(text))

    # -- the job ---------------------------------------------------------------------------------

    def run_job(self, job: str) -> JobRun:
        spec = self.data["jobs"][job]
        if "if" in spec:
            assert self.condition(spec["if"]), f"job {job} would be skipped"
        results = []
        for n, step in enumerate(spec["steps"]):
            name = step.get("name") or step.get("uses") or step.get("run", "")[:40] or str(n)
            if not self.condition(step.get("if")):
                results.append(StepResult(name, ran=False))
                continue
            with_ = {k: self.text(v) for k, v in (step.get("with") or {}).items()}
            if "uses" in step:
                results.append(self._uses(name, step["uses"], with_))
            else:
                results.append(self._run(name, step, with_))
            if results[-1].returncode != 0:
                self.failed = True
            if step.get("id"):
                self.steps_outputs[step["id"]] = results[-1].outputs
        outputs = {k: str(self.text(v)) for k, v in (spec.get("outputs") or {}).items()}
        return JobRun(results, outputs)

    def _uses(self, name: str, uses: str, with_: dict[str, Any]) -> StepResult:
        action = uses.split("@")[0]
        if action == "actions/checkout":
            self.checkout(with_)
        elif action == "actions/upload-artifact":
            dest = self.artifacts / with_["name"]
            for rel in str(with_["path"]).split():
                src = self.workspace / rel
                if src.is_dir():
                    shutil.copytree(
                        src,
                        dest / (rel if len(str(with_["path"]).split()) > 1 else ""),
                        dirs_exist_ok=True,
                    )
                elif src.exists():
                    dest.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(src, dest / src.name)
        elif action == "actions/download-artifact":
            src = self.artifacts / with_["name"]
            assert src.is_dir(), f"no artifact {with_['name']}"
            shutil.copytree(src, Path(with_["path"]), dirs_exist_ok=True)
        elif action not in (
            "actions/setup-python",
            "actions/upload-pages-artifact",
            "actions/deploy-pages",
        ):
            raise AssertionError(f"action not emulated: {uses}")
        return StepResult(name, ran=True)

    def _run(self, name: str, step: dict[str, Any], with_: dict[str, Any]) -> StepResult:
        script = step["run"]
        if "pip install" in script:
            return StepResult(name, ran=False, output=script)  # pzcat is installed here already
        out_file = self.temp / f"output-{len(self.steps_outputs)}-{abs(hash(name))}"
        out_file.write_text("")
        env = {
            **os.environ,
            **self.extra_env,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "GITHUB_OUTPUT": str(out_file),
            "GITHUB_WORKSPACE": str(self.workspace),
            "RUNNER_TEMP": str(self.temp),
            "CI": "true",
            "GITHUB_ACTIONS": "true",
        }
        env.pop("PZCAT_ROOT", None)
        env.update({k: str(self.text(v)) for k, v in (step.get("env") or {}).items()})
        proc = subprocess.run(
            ["bash", "-e", "-c", script],
            cwd=self.workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        return StepResult(
            name,
            ran=True,
            returncode=proc.returncode,
            output=proc.stdout + proc.stderr,
            outputs=_read_outputs(out_file),
        )


def write_event(path: Path, event: dict[str, Any]) -> Path:
    path.write_text(json.dumps(event), encoding="utf-8")
    return path
