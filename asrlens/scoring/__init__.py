"""The scoring core, below every stage: what ingest, infer, analysis, compare and the report
share to turn texts into numbers.

- `normalize`: named text normalizations (`--normalizer`), recorded with each run;
- `align`: word alignments with unit or NIST sclite costs;
- `score`: one file's counts and rates (WER, MER, WIL, WIP, CER) and its alignment;
- `bootstrap`: corpus rates from summed counts, and their bootstrap intervals.

Nothing here reads or writes the database or imports a stage.
"""
