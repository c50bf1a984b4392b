"""Hostile YAML: alias bombs, deep nesting, huge numbers refused with codes, fast, in little memory.

In-process through :func:`pzcat.safeyaml.load_yaml`, and with the real ``pzcat`` commands under a
memory limit (``RLIMIT_AS``) and a time limit, on the bomb of the bad-input corpus.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pzcat.errors import CatalogError, ManifestError
from pzcat.manifest import dump_yaml, load_manifest_data
from pzcat.safeyaml import YamlLimits, load_yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from limits import run_limited

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "bad_inputs"
PZCAT = str(Path(sys.executable).with_name("pzcat"))


def bomb(levels: int = 12) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (bomb(), "yaml-alias"),
        ("&a [*a, *a]", "yaml-alias"),  # a recursive alias
        ("x: " + "[" * 100_000 + "]" * 100_000, "yaml-too-deep"),  # flow nesting
        ("x: " + "{a: " * 5_000, "yaml-too-deep"),  # unclosed: too deep before the syntax error
        ("".join(" " * i + "k:\n" for i in range(100)) + " " * 100 + "v: 1\n", "yaml-too-deep"),
        ("id: " + "1" * 4301, "yaml-too-large"),  # int() refuses 4,301 digits
        ("id: -" + "9" * 300 + ":10", "yaml-too-large"),  # sexagesimal, same parser
        ("when: 2026-13-45", "yaml-syntax"),  # month 13: a ValueError inside
        ("a: [1,\n", "yaml-syntax"),
        (b"a: caf\xe9\n", "yaml-syntax"),  # not UTF-8
    ],
)
def test_hostile_documents_have_codes(text: str | bytes, code: str) -> None:
    with pytest.raises(ManifestError) as info:
        load_yaml(text, "m.yaml")
    assert info.value.code == code
    assert len(info.value.message) < 400  # never the expanded input


def test_limits_are_parameters() -> None:
    small = YamlLimits(max_bytes=100, max_depth=2, max_scalar=5, max_nodes=3)
    for text, code in [
        ("x" * 101, "yaml-too-large"),
        ("[[[1]]]", "yaml-too-deep"),
        ("abcdef", "yaml-too-large"),
        ("[1, 2, 3]", "yaml-too-large"),
    ]:
        with pytest.raises(CatalogError) as info:
            load_yaml(text, "c.yaml", limits=small, error=CatalogError)
        assert info.value.code == code
    assert load_yaml("'" + "1" * 4301 + "'") == "1" * 4301  # quoted: text, allowed
    assert load_yaml("") is None


def test_our_own_dumps_never_alias() -> None:
    shared = {"column": "z"}
    text = dump_yaml({"a": shared, "b": shared, "c": [shared]})
    assert "&" not in text and "*" not in text
    assert load_manifest_data(text) == {"a": shared, "b": shared, "c": [shared]}


def test_schema_errors_do_not_echo_huge_values() -> None:
    from pzcat.manifest import parse_manifest

    data = load_manifest_data("id: '" + "x" * 1_000_000 + "'\n")
    with pytest.raises(ManifestError) as info:
        parse_manifest(data)
    assert len(info.value.message) < 300


@pytest.fixture()
def bomb_repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(CORPUS / "yaml_alias_bomb", root)
    (root / "expected.yaml").unlink()
    shutil.copy2(CORPUS / "_base" / "catalog.yaml", root / "catalog.yaml")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


@pytest.mark.parametrize(
    "command", [["validate"], ["build-previews"], ["run", "--pending"], ["build-site"]]
)
def test_bomb_in_pending_provenance_under_limits(bomb_repo: Path, command: list[str]) -> None:
    """The corpus bomb (9**9 strings once expanded) in a pending product's provenance.config."""
    run = run_limited([PZCAT, *command], cwd=bomb_repo, mem_mb=2048, timeout=120)
    assert not run.timed_out
    assert "Traceback" not in run.stderr
    assert run.peak_mb < 600, run.peak_mb
    if command == ["validate"]:
        assert run.returncode == 1
        assert "error[yaml-alias]" in run.stdout
    else:
        assert run.returncode in (0, 1, 2), run.stderr[-2000:]  # skipped or refused, never a crash
