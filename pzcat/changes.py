"""Reviewing a change against a base: trusted configuration, admin-only paths, deleted products.

A pull request is judged by rules it cannot edit: the admins and limits come from the base's
``catalog.yaml`` (:func:`trusted_config`), only ``manifests/`` and ``products/`` may be changed by
someone who is not an admin (:func:`admin_only_paths`), and a product is never deleted
(:func:`deleted_manifests`; deprecate it instead). :func:`pzcat.validate.validate_catalog` calls
these when it is given ``changed_since``; :func:`key_line` places an issue on its manifest line
for GitHub annotations.

Examples
--------
>>> admin_only_paths({"manifests/1_a.yaml", "pzcat/validate.py", "tokens/revoked.yaml"})
['pzcat/validate.py', 'tokens/revoked.yaml']
>>> key_line("id: 1\\nfiles:\\n  - path: a\\n    sha256: x\\n", "files.0.sha256")
4
"""

from __future__ import annotations

from pathlib import Path

import yaml

from pzcat import git
from pzcat.config import CONFIG_FILE, CatalogConfig, parse_config
from pzcat.errors import CatalogError, PzcatError
from pzcat.safeyaml import load_yaml

#: What a contributor who is not an admin may change; everything else (catalog.yaml, tokens/,
#: .github/, the code, the build files) is admin-only.
CONTRIBUTOR_PREFIXES = ("manifests/", "products/")


def trusted_config(root: Path, spec: str) -> CatalogConfig:
    """The configuration the change is judged by: a ``catalog.yaml`` file (or a folder holding
    one), else the ``catalog.yaml`` of the Git ref ``spec``.

    Raises
    ------
    CatalogError
        ``catalog-config`` (unreadable or invalid) or ``git-unavailable`` (no such file or ref).
    """
    path = Path(spec)
    if path.is_dir():
        path = path / CONFIG_FILE
    if path.is_file():
        return parse_config(path.read_text(encoding="utf-8"), str(path))
    text = git.show(root, spec, CONFIG_FILE)
    if text is None:
        raise CatalogError(
            "git-unavailable",
            f"--trusted-config {spec!r} is neither a file nor a Git ref holding {CONFIG_FILE}",
        )
    return parse_config(text, f"{spec}:{CONFIG_FILE}")


def judged_config(current: CatalogConfig, trusted: CatalogConfig) -> CatalogConfig:
    """``current`` with the trusted admins and limits (the rules a change cannot edit)."""
    return current.model_copy(
        update={
            "admins": list(trusted.admins),
            "limits": trusted.limits,
            "previews_require_token": trusted.previews_require_token,
        }
    )


def admin_only_paths(changed: set[str]) -> list[str]:
    """The changed paths that only an admin may change, sorted."""
    return sorted(p for p in changed if not p.startswith(CONTRIBUTOR_PREFIXES))


def deleted_manifests(root: Path, ref: str, changed: set[str]) -> list[str]:
    """Manifests that exist at ``ref`` and are gone from the working tree, sorted."""
    return sorted(
        p
        for p in changed
        if p.startswith("manifests/")
        and p.endswith(".yaml")
        and not (Path(root) / p).exists()
        and git.show(root, ref, p) is not None
    )


def key_line(text: str, key: str | None) -> int | None:
    """1-based line of the dotted ``key`` (``files.0.sha256``) in YAML ``text``.

    The deepest key found is used (``columns.z`` on a manifest without ``z`` gives the line of
    ``columns``); None when the text is not YAML or the first key is absent.
    """
    if not key:
        return None
    try:
        load_yaml(text, "<manifest>")  # the safe loader's bounds first (no aliases...)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, PzcatError):
        return None
    line = None
    for part in key.split("."):
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if getattr(k, "value", None) == part), None)
            if found is None:
                break
            line, node = found[0].start_mark.line + 1, found[1]
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
            line = node.start_mark.line + 1
        else:
            break
    return line
