"""Inference: run a recognizer over a dataset, normalize and score, store it; export results.

    from asrlens.infer import infer
    result = infer(asrlens.db.connect(), engine_name="pocketsphinx")
"""

from asrlens.infer.run import RunInterrupted, RunResult, default_run_id, infer

__all__ = ["RunInterrupted", "RunResult", "default_run_id", "infer"]
