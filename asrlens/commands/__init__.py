"""The click commands, one module per stage; asrlens.cli gathers them into the `asrlens` group.

Each command parses its options, calls the function that does the work and prints what it
returns. It looks nothing up itself: which dataset and which run is asrlens.catalog's, the
chaining of stages asrlens.pipeline's, the summary lines the result objects'.
"""
