"""Row counts of the preview tables from Datasette's inspect data (a workaround of Datasette 0.65).

Datasette 0.65 compares the table page's count query with the *unescaped* table name, so tables
whose names need brackets (every preview table: internal names start with a digit) never use the
inspect counts and each table page counts the whole table (35+ ms per 1,000,000 rows). Datasette
has no hook for this, so :func:`use_inspect_counts` wraps ``Database.execute`` of the immutable
databases to answer exactly that query from the inspect data (exact: the databases are
immutable). It is the one patch of Datasette internals left; remove it with Datasette >= 1.0.
"""

from __future__ import annotations

import re
import weakref

_PATCHED: weakref.WeakSet = weakref.WeakSet()
_COUNT_SQL = re.compile(r"select count\(\*\) from \[([^\]]+)\] ?")


def use_inspect_counts(datasette) -> None:
    """Answer ``select count(*) from [table]`` of immutable databases from the inspect data."""
    from datasette.database import Results

    for name, db in datasette.databases.items():
        counts = ((datasette.inspect_data or {}).get(name) or {}).get("tables") or {}
        if db.is_mutable or not counts or db in _PATCHED:
            continue
        original = db.execute

        async def execute(sql, params=None, *args, _orig=original, _counts=counts, **kwargs):
            match = _COUNT_SQL.fullmatch(sql) if isinstance(sql, str) else None
            if match and not params and match.group(1) in _counts:
                return Results([(_counts[match.group(1)]["count"],)], False, [("count(*)",)])
            return await _orig(sql, params, *args, **kwargs)

        db.execute = execute
        _PATCHED.add(db)
