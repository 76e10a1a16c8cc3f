"""Error analysis: which files fail, the likely reasons, and what they share.

    from asrlens.analysis import analyze
    result = analyze(engine, run_id="sphinx")   # AnalysisResult; the tables are filled
    print("\\n".join(result.summary))

Modules: `text` (words and what the raw transcript says about them), `features`
(per-utterance features), `tags` (the error tag rules), `effects` (feature vs WER),
`summary` (the written summary), `pipeline` (analyze: reads and writes the database).
"""

from asrlens.analysis.pipeline import AnalysisResult, analyze

__all__ = ["AnalysisResult", "analyze"]
