"""The stable integer ids of the Photo-z Server API, derived from the repository.

The original Photo-z Server numbers product types, releases, users, files and column contents with
database keys. pzcat has no database: every id below is computed from what the repository holds, so
it is the same on every clone, every server process and every run, and it never needs storing.

=================  ===============================================================================
entity             id
=================  ===============================================================================
product            the manifest's ``id`` (never reused)
product type       its 1-based position in ``catalog.yaml`` ``product_types`` (append new ones)
release            its 1-based position in ``catalog.yaml`` ``releases`` (append new ones)
user               CRC-32 of the lower-cased user name, as a positive 31-bit integer
file               ``product id * 1000 + n``: ``n`` (1-999) from the CRC-32 of the file's path in
                   the manifest; on a clash within one product the next free ``n`` (files in
                   manifest order)
column content     ``product id * 100000 + position`` (1-based) of the column in the main file
pipeline           1 = ``combine_redshift_dedup``, 2 = ``training_set_maker``
process            the id of the product the run writes (one run, one product)
=================  ===============================================================================

Examples
--------
>>> user_id("Alice") == user_id("alice")
True
>>> content_id(12, 3)
1200003
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

FILE_ID_FACTOR = 1000
CONTENT_ID_FACTOR = 100_000
PIPELINE_IDS = {"combine_redshift_dedup": 1, "training_set_maker": 2}


def position_id(names: Iterable[str], name: str | None) -> int | None:
    """1-based position of ``name`` in ``names`` (None when absent or ``name`` is None)."""
    if name is None:
        return None
    for i, candidate in enumerate(names, start=1):
        if candidate == name:
            return i
    return None


def user_id(username: str) -> int:
    """The id of a user: CRC-32 of the lower-cased name, 31 bits, never 0."""
    return (zlib.crc32(username.strip().lower().encode("utf-8")) & 0x7FFFFFFF) or 1


def file_ids(product_id: int, keys: list[str]) -> list[int]:
    """The ids of a product's files, one per key (the file's path or url), in the same order."""
    used: set[int] = set()
    out = []
    for key in keys:
        n = zlib.crc32(key.encode("utf-8")) % (FILE_ID_FACTOR - 1) + 1
        while n in used:
            n = n % (FILE_ID_FACTOR - 1) + 1
        used.add(n)
        out.append(product_id * FILE_ID_FACTOR + n)
    return out


def product_of_file(file_id: int) -> int:
    """The product id a file id belongs to."""
    return file_id // FILE_ID_FACTOR


def content_id(product_id: int, position: int) -> int:
    """The id of the column at 1-based ``position`` of the product's main file."""
    return product_id * CONTENT_ID_FACTOR + position


def split_content_id(cid: int) -> tuple[int, int]:
    """(product id, 1-based column position) of a content id."""
    return cid // CONTENT_ID_FACTOR, cid % CONTENT_ID_FACTOR
