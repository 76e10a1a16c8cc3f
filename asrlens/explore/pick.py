"""Choosing the one file `asrlens explore` looks at: seeded at random, or by id."""

from __future__ import annotations

import random
import secrets

import sqlalchemy as sa

from asrlens.catalog import missing_labels, resolve_dataset
from asrlens.db import named_query, query
from asrlens.errors import AsrlensError

MAX_SEED = 1_000_000
"""Seeds drawn when none is given lie in [0, MAX_SEED): short enough to type back."""


def pick_utterance(
    engine: sa.Engine | sa.Connection,
    *,
    dataset: str | None = None,
    seed: int | None = None,
    utt_id: str | None = None,
) -> dict:
    """One ingested utterance with readable audio, as a dict.

    With `utt_id`, that utterance; otherwise one chosen at random among the readable
    utterances of `dataset` (None: the default dataset, asrlens.catalog), using `seed` —
    drawn and returned when None, so the choice can be repeated. The same seed on the same
    database picks the same utterance.

    Keys: dataset, utt_id, transcript, normalized_transcript, audio_path, root, sample_rate
    (Hz), channels, frames, duration_s (s) as ingest recorded them, and seed (None with
    utt_id). Raises AsrlensError when nothing is ingested, the dataset or id is unknown, or
    no audio is readable.
    """
    if seed is not None and utt_id is not None:
        raise AsrlensError("give either --seed or --utt, not both")
    named = dataset
    dataset = resolve_dataset(engine, dataset)
    if utt_id is not None:
        return _by_id(engine, utt_id=utt_id, dataset=dataset, named=named)

    keys = named_query("explore", "readable_keys")
    first = query(engine, keys, dataset=dataset, skip=0)
    if not first:
        no_labels = missing_labels(engine, dataset)
        if no_labels is not None:
            raise no_labels
        scope = f"dataset {named!r}" if named else "this database"
        raise AsrlensError(
            f"no utterance in {scope} has readable audio: every label lacks its file or the "
            f"file could not be decoded (see `asrlens sql \"select kind, count(*) from "
            f"ingest_issues group by kind\"`)"
        )
    if seed is None:
        seed = secrets.randbelow(MAX_SEED)
    skip = random.Random(seed).choice(range(first[0]["readable"]))  # as choice(rows) would
    key = query(engine, keys, dataset=dataset, skip=skip)[0]
    chosen = query(engine, named_query("explore", "readable_utterances"),
                   dataset=key["dataset"], utt_id=key["utt_id"])[0]
    return {**chosen, "seed": seed}


def _by_id(engine, *, utt_id: str, dataset: str, named: str | None) -> dict:
    """The readable utterance `utt_id` of `dataset`; messages name the dataset when the
    user named it."""
    rows = query(engine, named_query("explore", "readable_utterances"),
                 dataset=dataset, utt_id=utt_id)
    if rows:  # (dataset, utt_id) is the key: one row
        return {**rows[0], "seed": None}
    status = query(engine, named_query("explore", "utterance_status"),
                   utt_id=utt_id, dataset=dataset)
    where = f" in dataset {named!r}" if named else ""
    if not status:
        raise AsrlensError(
            f"no utterance {utt_id!r}{where}: ids are the first field of the labels file "
            f"(list them with `asrlens sql \"select utt_id from utterances\"`)"
        )
    row = status[0]
    if row["audio_path"] is None:
        why = "its audio file is missing"
    else:
        why = f"its audio file {row['audio_path']} could not be read"
    detail = f" ({row['issue']})" if row["issue"] else ""
    raise AsrlensError(f"utterance {utt_id!r}{where} has no readable audio: {why}{detail}")
