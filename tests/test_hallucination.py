"""Hallucination and loop signals (asrlens.analysis.hallucination): crafted cases, and seeded
synthetic hypotheses with injected loops and words over silence, found with precision and
recall of at least 0.95."""

from __future__ import annotations

import random

import numpy as np
import pytest

from asrlens.analysis import hallucination as hal
from asrlens.analysis.tags import Op
from asrlens.scoring.score import score_texts

VOCABULARY = ("the printing art of press which was made by men in this book letter type page "
              "with from most early german work paper ink line time black gothic").split()
LOOP_GRAMS = (["thank", "you"], ["um"], ["so", "so", "what"], ["and", "then", "we", "go"])


def ops_of(ref: str, hyp: str) -> list[Op]:
    return [Op(o.op, o.ref_word, o.hyp_word, o.ref_pos, o.hyp_pos)
            for o in score_texts(ref, hyp).ops]


def test_a_bigram_three_times_is_one_loop():
    loops = hal.find_loops("THANK YOU THANK YOU THANK YOU".split(), ["HELLO"])
    assert loops == [hal.Loop(start=0, n=2, repeats=3, ref_repeats=0, text="THANK YOU")]
    assert loops[0].extra_words == 6


def test_a_single_word_loop_is_not_reported_as_a_bigram():
    loops = hal.find_loops("UM UM UM UM".split(), [])
    assert [(lp.n, lp.repeats) for lp in loops] == [(1, 4)]


def test_repeats_said_in_the_reference_are_not_loops():
    assert hal.find_loops("VERY VERY VERY GOOD".split(), "VERY VERY VERY GOOD".split()) == []
    more = hal.find_loops("VERY VERY VERY VERY GOOD".split(), "VERY VERY VERY GOOD".split())
    assert [(lp.repeats, lp.ref_repeats, lp.extra_words) for lp in more] == [(4, 3, 1)]


def test_two_repeats_are_not_a_loop():
    assert hal.find_loops("A B A B C".split(), []) == []


def test_edge_runs_need_four_inserted_words():
    ops = ops_of("THE CAT", "THANKS FOR WATCHING THIS THE CAT")
    assert hal.edge_runs(ops) == (4, 0)
    assert hal.edge_runs(ops_of("THE CAT", "OH YES THE CAT")) == (0, 0)
    assert hal.edge_runs(ops_of("THE CAT", "THE CAT SUBSCRIBE TO MY CHANNEL")) == (0, 4)
    assert hal.edge_runs(ops_of("", "ONE TWO THREE FOUR FIVE")) == (5, 0)


def test_length_outlier_rule():
    assert hal.length_outlier(10, 15) == "long"
    assert hal.length_outlier(2, 4) is None          # ratio 2 but only 2 extra words
    assert hal.length_outlier(10, 5) == "short"
    assert hal.length_outlier(10, 12) is None
    assert hal.length_outlier(0, 3) == "long"


def test_silent_frames_find_a_silent_stretch():
    rate = 16000
    rng = np.random.default_rng(0)
    speech = 0.3 * rng.standard_normal(rate)
    audio = np.concatenate([speech, np.zeros(rate), speech]).astype(np.float32)
    silent = hal.silent_frames(audio, rate)
    assert len(silent) == 120
    assert silent[40:80].all() and not silent[:40].any() and not silent[80:].any()
    assert hal.in_silence(silent, 1.2, 1.5)
    assert not hal.in_silence(silent, 0.5, 0.7)
    assert not hal.in_silence(silent, 0.9, 1.1)  # half over speech


def test_word_index_map_places_normalized_words():
    def norm(word):
        return word.upper().replace("-", " ")

    assert hal.word_index_map(["well-known", "fact"], 3, norm) == [0, 0, 1]
    assert hal.word_index_map(["well-known", "fact"], 2, norm) is None


def _synthetic_file(rng: random.Random, rate: int, np_rng):
    """A reference, audio (speech-like noise with silent gaps), and a hypothesis with word
    times; some files get a loop, some get words inserted over silence. Returns the ops,
    times, the audio, and the injected truth (loop starts, inserted hyp positions)."""
    n = rng.randint(8, 20)
    ref = [rng.choice(VOCABULARY) for _ in range(n)]
    hyp, times, loop_starts, silent_inserts = [], [], set(), set()
    audio, t = [], 0.0

    def speech(seconds):
        audio.append(0.2 * np_rng.standard_normal(int(seconds * rate)))

    def silence(seconds):
        audio.append(np.zeros(int(seconds * rate)))

    for i, word in enumerate(ref):
        speech(0.3)
        hyp.append(word)
        times.append((t + 0.02, t + 0.28))
        t += 0.3
        if rng.random() < 0.25:  # a pause, maybe with a hallucinated word over it
            silence(0.6)
            if rng.random() < 0.6:
                silent_inserts.add(len(hyp))
                hyp.append(rng.choice(["thanks", "you", "oh", "yeah"]))
                times.append((t + 0.15, t + 0.45))
            t += 0.6
        if i == n // 2 and rng.random() < 0.5:  # a loop, hallucinated over speech
            gram = rng.choice(LOOP_GRAMS)
            repeats = rng.randint(3, 6)
            loop_starts.add(len(hyp))
            for _ in range(repeats):
                for g in gram:
                    hyp.append(g)
                    times.append((t, t + 0.05))
            speech(0.1)
            t += 0.1
    return ref, hyp, times, np.concatenate(audio).astype(np.float32), loop_starts, silent_inserts


def test_injected_loops_and_silent_insertions_are_found_with_high_precision_and_recall():
    rng, np_rng, rate = random.Random(7), np.random.default_rng(7), 8000
    tp = {"loop": 0, "silence": 0}
    fp = {"loop": 0, "silence": 0}
    fn = {"loop": 0, "silence": 0}
    for k in range(120):
        ref, hyp, times, audio, loops, inserts = _synthetic_file(rng, rate, np_rng)
        ops = ops_of(" ".join(ref), " ".join(hyp))
        row, events = hal.file_signals(ops, keys={"run_id": "r", "utt_id": f"u{k}"},
                                       times=times, silent=hal.silent_frames(audio, rate))
        found_loops = {e["hyp_pos"] for e in events if e["kind"] == "loop"}
        found_silent = {e["hyp_pos"] for e in events if e["kind"] == "silence_insertion"}
        for name, truth, found in (("loop", loops, found_loops),
                                   ("silence", inserts, found_silent)):
            tp[name] += len(truth & found)
            fp[name] += len(found - truth)
            fn[name] += len(truth - found)
        assert row["inserted_in_silence"] == len(found_silent)
    for name in tp:
        assert tp[name] >= 50, f"too few injected {name} events to measure: {tp[name]}"
        precision = tp[name] / (tp[name] + fp[name])
        recall = tp[name] / (tp[name] + fn[name])
        assert precision >= 0.95 and recall >= 0.95, (name, precision, recall)


def test_file_signals_without_word_times_do_not_check_silence():
    ops = ops_of("THE CAT SAT", "THE CAT SAT ON ON ON ON")
    row, events = hal.file_signals(ops, keys={"run_id": "r", "utt_id": "u"})
    assert row["inserted_in_silence"] is None and row["silence_s"] is None
    assert row["loops"] == 1 and row["flagged"]
    assert [e["kind"] for e in events] == ["loop", "edge_end", "length_ratio"]


@pytest.mark.parametrize("hyp,flagged", [("THE CAT SAT", False), ("THE CAT", False),
                                         ("THE CAT SAT AND AND AND", True)])
def test_flagged_only_with_a_signal(hyp, flagged):
    row, _ = hal.file_signals(ops_of("THE CAT SAT", hyp), keys={})
    assert row["flagged"] is flagged
