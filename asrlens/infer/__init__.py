"""Inference: run a recognizer over a dataset, normalize and score, store it; export results.

    from asrlens.infer import infer
    result = infer(asrlens.db.connect(), engine_name="pocketsphinx")

The names below are imported on first use, so importing `asrlens.infer` does not load
torch. Normalizers, alignment and rates live in `asrlens.scoring`, below every stage.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "infer": "asrlens.infer.run",
    "default_run_id": "asrlens.infer.run",
    "RunResult": "asrlens.infer.run",
    "RunInterrupted": "asrlens.infer.run",
    "NothingScored": "asrlens.infer.run",
    "export_run": "asrlens.infer.export",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'asrlens.infer' has no attribute {name!r}")
