"""Keywords in a comparison: which terms run B lost that run A had (view keyword_changes).

    keyword_change_lines(engine, "sphinx", "w2v")
    # ["Keywords B lost (found by sphinx, missed by w2v): 'Gutenberg' 2 of 3, ..."]

Needs the comparison stored (run_comparisons) and both runs analysed with keywords
(`asrlens analyze --keywords FILE`); says nothing otherwise.
"""

from __future__ import annotations

import sqlalchemy as sa

from asrlens.db import named_query, query

TERMS_NAMED = 8
"""Terms listed per line at most."""


def keyword_changes(engine_or_conn: sa.Engine | sa.Connection, run_a: str,
                    run_b: str) -> list[dict]:
    """keyword_changes rows of the pair: term, occurrences, found_a, found_b, lost, gained."""
    return query(engine_or_conn, named_query("compare", "keyword_changes"),
                 run_a=run_a, run_b=run_b)


def keyword_change_lines(engine_or_conn: sa.Engine | sa.Connection, run_a: str,
                         run_b: str) -> list[str]:
    """One line for the terms B lost and one for those it gained; [] when none changed."""
    rows = keyword_changes(engine_or_conn, run_a, run_b)
    out = []
    for column, label in (("lost", f"found by {run_a}, missed by {run_b}"),
                          ("gained", f"missed by {run_a}, found by {run_b}")):
        changed = [r for r in rows if r[column]]
        changed.sort(key=lambda r: (-r[column], r["term"]))
        if not changed:
            continue
        named = ", ".join(f"'{r['term']}' {r[column]} of {r['occurrences']}"
                          for r in changed[:TERMS_NAMED])
        more = f" and {len(changed) - TERMS_NAMED} more" if len(changed) > TERMS_NAMED else ""
        verb = "lost" if column == "lost" else "gained"
        out.append(f"Keywords {run_b} {verb} ({label}): {named}{more}.")
    return out
