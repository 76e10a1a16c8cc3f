"""Ranges of utterance ids that split a dataset into batches of a few thousand files, so that
analyze reads, works on and writes one batch at a time (memory does not grow with the data).

    for batch in utt_ranges(conn, dataset="ljspeech", size=5000):
        rows = _sql(conn, "run_ops_range", run_id=run_id, **batch)   # :lo, :hi

A range is `lo <= utt_id < hi` in DuckDB's order of utt_id; the first has lo None and the last
hi None, so the ranges cover every utt_id there is, in the dataset's utterances or not.
Every query that reads per batch takes :lo and :hi (see queries/*_range.sql).
"""

from __future__ import annotations

import sqlalchemy as sa

from asrlens.db import named_query


def utt_ranges(conn: sa.Connection, *, dataset: str, size: int) -> list[dict]:
    """{lo, hi} per batch of `size` utterances of `dataset`, in utt_id order (one range,
    unbounded both ways, for a dataset without utterances)."""
    starts = [r[0] for r in conn.execute(sa.text(named_query("analysis", "batch_starts")),
                                         {"dataset": dataset, "size": size}).all()]
    bounds = [None, *starts[1:], None]
    return [{"lo": lo, "hi": hi} for lo, hi in zip(bounds, bounds[1:], strict=False)]
