"""The run section's scoring part: what each WER counts, raw beside normalized, the rules.

Called by asrlens.report.sections.run; reads run_summary, transcripts and the view
normalizer_word_effects (asrlens/schema.sql).
"""

from __future__ import annotations

import sqlalchemy as sa

from asrlens.errors import AsrlensError
from asrlens.report.context import run_query
from asrlens.scoring.align import ALIGNMENTS
from asrlens.scoring.normalize import MINIMAL, get_normalizer

WORD_EFFECTS = 10
"""Words listed each way (errors the normalizer removed, errors it added)."""
ALIGNMENT_TEXT = {
    "unit": "unit costs: every substitution, insertion and deletion costs 1 (jiwer)",
    "sclite": "NIST sclite's costs: substitution 4, insertion and deletion 3, with sclite's "
              "tie-break; counts match `sctk sclite`",
}
assert set(ALIGNMENT_TEXT) == set(ALIGNMENTS)


def build_scoring(engine: sa.Engine, run_id: str, summary: dict) -> dict:
    """The figures and lists of the run's scoring part (summary: its run_summary row)."""
    effects = run_query(engine, "run_normalizer_effects", run_id=run_id, limit=WORD_EFFECTS)
    return {
        "exclusions": run_query(engine, "run_exclusions", run_id=run_id),
        "alignment": ALIGNMENT_TEXT.get(summary["alignment"], summary["alignment"]),
        "normalizer": _normalizer(summary["normalizer"]),
        "minimal": {"id": MINIMAL.id, "rules": MINIMAL.rule_list},
        "word_effects": WORD_EFFECTS,
        "removed": [e for e in effects if e["change"] < 0],
        "added": [e for e in effects if e["change"] > 0],
    }


def _normalizer(normalizer_id: str) -> dict:
    """The run's normalizer id with its rules in words ([] for one this asrlens lacks)."""
    try:
        normalizer = get_normalizer(normalizer_id)
    except AsrlensError:
        return {"id": normalizer_id, "description": None, "rules": ()}
    return {"id": normalizer_id, "description": normalizer.description,
            "rules": normalizer.rule_list}
