"""The one safe YAML loader: every YAML read of untrusted content goes through :func:`load_yaml`.

Untrusted YAML (manifests and the ``provenance.config`` inside them, ``catalog.yaml``, a user's
``--config``, the revocation list, the manifests read back from git) is first scanned as a stream
of parser events, which costs little and holds no document in memory, and refused before anything
is built when it

- uses an alias (``*name``): aliases are how "billion laughs" bombs expand a few KB into GB, and no
  pzcat file needs them (:func:`dump_yaml` in :mod:`pzcat.manifest` never writes them);
- nests deeper than ``max_depth`` mappings/sequences (the composer and constructor recurse);
- holds a scalar longer than ``max_scalar`` characters, an integer with more than
  ``MAX_NUMBER_CHARS`` characters (Python refuses to parse a 4,301-digit integer), more than
  ``max_nodes`` nodes, or is longer than ``max_bytes`` in all.

Only then is the document built, by libyaml's safe loader when present. Errors are coded
(:data:`pzcat.codes.CODES`: ``yaml-syntax``, ``yaml-alias``, ``yaml-too-deep``, ``yaml-too-large``)
and their messages never contain the input itself beyond a short, truncated excerpt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from pzcat.errors import ManifestError, PzcatError

#: Integers (and sexagesimal numbers) longer than this are refused: int() of a 4,301-digit string
#: raises in Python 3.11+, and no catalog value needs more than a few dozen digits.
MAX_NUMBER_CHARS = 256
_NUMBER_LIKE = re.compile(r"[-+]?[0-9][0-9_:]*")

_FAST = getattr(yaml, "CSafeLoader", None)  # libyaml: ~10x faster than the pure-Python loader


@dataclass(frozen=True)
class YamlLimits:
    """Bounds of one document.

    Attributes
    ----------
    max_bytes : int
        Length of the text (characters).
    max_depth : int
        Nesting of mappings and sequences.
    max_scalar : int
        Length of one scalar (characters).
    max_nodes : int
        Scalars, mappings and sequences in the document.
    """

    max_bytes: int = 16 * 1024 * 1024
    max_depth: int = 64
    max_scalar: int = 4 * 1024 * 1024
    max_nodes: int = 2_000_000


DEFAULT_LIMITS = YamlLimits()


def short(value: Any, limit: int = 60) -> str:
    """``repr`` of ``value`` cut to ``limit`` characters (for messages about untrusted input)."""
    if isinstance(value, str | bytes) and len(value) > 4 * limit:
        value = value[: 4 * limit]  # never build the repr of a huge value
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _scan(
    text: str, source: str, limits: YamlLimits, loader: type, error: type[PzcatError]
) -> None:
    """Walk the parser events of ``text`` and raise on the first bound exceeded (or YAMLError)."""
    depth = nodes = 0
    start = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
    end = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    for event in yaml.parse(text, Loader=loader):
        kind = type(event)
        if kind is yaml.ScalarEvent:
            nodes += 1
            value = event.value
            if len(value) > limits.max_scalar:
                raise error(
                    "yaml-too-large",
                    f"{source}: a value of {len(value):,} characters at "
                    f"{_where(event)} is over the limit of {limits.max_scalar:,}",
                    file=source,
                )
            if not event.style and len(value) > MAX_NUMBER_CHARS and _NUMBER_LIKE.fullmatch(value):
                raise error(
                    "yaml-too-large",
                    f"{source}: a number of {len(value):,} digits at "
                    f"{_where(event)} (at most {MAX_NUMBER_CHARS}); quote it if it is text",
                    file=source,
                )
        elif kind in start:
            nodes += 1
            depth += 1
            if depth > limits.max_depth:
                raise error(
                    "yaml-too-deep",
                    f"{source}: nesting deeper than {limits.max_depth} levels at {_where(event)}",
                    file=source,
                )
        elif kind in end:
            depth -= 1
        elif kind is yaml.AliasEvent:
            raise error(
                "yaml-alias",
                f"{source}: alias *{short(event.anchor, 40)[1:-1]} at "
                f"{_where(event)}: aliases are not allowed; write the value out",
                file=source,
            )
        if nodes > limits.max_nodes:
            raise error(
                "yaml-too-large", f"{source}: more than {limits.max_nodes:,} values", file=source
            )


def _where(event: yaml.Event) -> str:
    mark = event.start_mark
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark else "?"


def _syntax_error(exc: yaml.YAMLError, source: str, error: type[PzcatError]) -> PzcatError:
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return error(
        "yaml-syntax", f"{source}: invalid YAML{where}: {short(problem, 200)[1:-1]}", file=source
    )


def load_yaml(
    text: str | bytes,
    source: str = "<yaml>",
    *,
    limits: YamlLimits = DEFAULT_LIMITS,
    error: type[PzcatError] = ManifestError,
) -> Any:
    """Parse untrusted YAML text safely (no aliases, bounded depth and sizes).

    Parameters
    ----------
    text : str or bytes
        The document (bytes are decoded as UTF-8).
    source : str
        Where the text comes from, for messages.
    limits : YamlLimits
        The bounds (:data:`DEFAULT_LIMITS`).
    error : type of PzcatError
        The class raised (the caller's error family: ManifestError, CatalogError...).

    Returns
    -------
    object
        The plain data (None for an empty document).

    Raises
    ------
    PzcatError
        ``yaml-syntax``, ``yaml-alias``, ``yaml-too-deep`` or ``yaml-too-large``.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise error(
                "yaml-syntax",
                f"{source}: not UTF-8 text ({exc.reason} at byte {exc.start})",
                file=source,
            ) from None
    if len(text) > limits.max_bytes:
        raise error(
            "yaml-too-large",
            f"{source}: {len(text):,} characters, over the limit of {limits.max_bytes:,}",
            file=source,
        )
    try:
        _scan(text, source, limits, _FAST or yaml.SafeLoader, error)
    except yaml.YAMLError:
        # the pure-Python parser (an event state machine, not recursive) names the line and column
        try:
            _scan(text, source, limits, yaml.SafeLoader, error)
        except yaml.YAMLError as exc:
            raise _syntax_error(exc, source, error) from None
        raise error("yaml-syntax", f"{source}: invalid YAML", file=source) from None
    try:
        return yaml.load(text, Loader=_FAST or yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, source, error) from None
    except (ValueError, OverflowError, TypeError) as exc:  # e.g. a timestamp with month 13
        raise error(
            "yaml-syntax",
            f"{source}: a value cannot be read: {short(str(exc), 200)[1:-1]}",
            file=source,
        ) from None
