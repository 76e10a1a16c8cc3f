"""Convert a torchaudio wav2vec2 ASR bundle's weights to a Hugging Face Wav2Vec2ForCTC folder.

    .venv/bin/python scripts/torchaudio_to_hf.py OUT_FOLDER [--model WAV2VEC2_ASR_BASE_960H]
                                                 [--checkpoint FILE]
    asrlens infer --engine transformers --model OUT_FOLDER

The weights are loaded exactly as `asrlens infer --engine wav2vec2` loads them
(asrlens.infer.recognizers.wav2vec2_weights.load_bundle_model: the torch hub cache, or
--checkpoint FILE, with the bundle's auxiliary output rows dropped), then renamed with the
inverse of torchaudio's own Hugging Face importer
(torchaudio.models.wav2vec2.utils.import_huggingface_model):

    torchaudio                     Hugging Face Wav2Vec2ForCTC
    feature_extractor.*            wav2vec2.feature_extractor.*
    encoder.feature_projection.*   wav2vec2.feature_projection.*
    encoder.transformer.*          wav2vec2.encoder.*
    aux.*                          lm_head.*

The folder gets the config (the inverse of the importer's _get_config), a vocab.json of the
bundle's labels for a Wav2Vec2CTCTokenizer (blank '<pad>' at 0, '|' the word delimiter, an
'<unk>' the model never outputs) and a feature extractor with the bundle's input
normalisation (`do_normalize` = the bundle's waveform layer norm: off for BASE/LARGE 960H,
on for LV60K). Both engines then see the same input and compute the same network: the
conversion is checked by tests/test_transformers_peer.py (identical transcripts).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

CONVERTIBLE = ("WAV2VEC2_ASR_BASE_960H", "WAV2VEC2_ASR_LARGE_960H",
               "WAV2VEC2_ASR_LARGE_LV60K_960H")
RENAMES = (("feature_extractor.", "wav2vec2.feature_extractor."),
           ("encoder.feature_projection.", "wav2vec2.feature_projection."),
           ("encoder.transformer.", "wav2vec2.encoder."),
           ("aux.", "lm_head."))
BLANK, UNKNOWN = "<pad>", "<unk>"


def convert(out: Path, *, model: str = "WAV2VEC2_ASR_BASE_960H",
            checkpoint: str | None = None) -> Path:
    """Write bundle `model`'s weights (hub cache or checkpoint) as a Wav2Vec2ForCTC folder."""
    import transformers

    from asrlens.errors import AsrlensError
    from asrlens.infer.recognizers.wav2vec2_weights import load_bundle_model

    if model not in CONVERTIBLE:
        raise AsrlensError(f"cannot convert {model}: choose one of {', '.join(CONVERTIBLE)}")
    net, bundle = load_bundle_model(model, checkpoint=checkpoint, device="cpu")
    net = getattr(net, "model", net)  # the LV60K wrapper normalises the waveform first
    params = bundle._params
    labels = list(bundle.get_labels())
    config = transformers.Wav2Vec2Config(**hf_config(params, vocab_size=len(labels)))
    hf_model = transformers.Wav2Vec2ForCTC(config).eval()
    hf_model.load_state_dict(renamed(net.state_dict()), strict=True)
    out.mkdir(parents=True, exist_ok=True)
    hf_model.save_pretrained(out)
    vocab = {BLANK if i == 0 else label: i for i, label in enumerate(labels)}
    vocab[UNKNOWN] = len(vocab)
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    tokenizer = transformers.Wav2Vec2CTCTokenizer(
        str(out / "vocab.json"), unk_token=UNKNOWN, pad_token=BLANK, word_delimiter_token="|",
        do_lower_case=False)
    extractor = transformers.Wav2Vec2FeatureExtractor(
        feature_size=1, sampling_rate=int(bundle.sample_rate), padding_value=0.0,
        do_normalize=bool(bundle._normalize_waveform),
        return_attention_mask=params["extractor_mode"] == "layer_norm")
    transformers.Wav2Vec2Processor(feature_extractor=extractor,
                                   tokenizer=tokenizer).save_pretrained(out)
    return out


def hf_config(params: dict, *, vocab_size: int) -> dict:
    """Wav2Vec2Config arguments from a torchaudio bundle's model parameters."""
    conv = params["extractor_conv_layer_config"] or [(512, 10, 5)] + [(512, 3, 2)] * 4 + [
        (512, 2, 2)] * 2
    return {
        "vocab_size": vocab_size, "pad_token_id": 0,
        "feat_extract_norm": params["extractor_mode"].removesuffix("_norm"),
        "conv_dim": [c for c, _, _ in conv], "conv_kernel": [k for _, k, _ in conv],
        "conv_stride": [s for _, _, s in conv], "conv_bias": params["extractor_conv_bias"],
        "hidden_size": params["encoder_embed_dim"],
        "num_conv_pos_embeddings": params["encoder_pos_conv_kernel"],
        "num_conv_pos_embedding_groups": params["encoder_pos_conv_groups"],
        "num_hidden_layers": params["encoder_num_layers"],
        "num_attention_heads": params["encoder_num_heads"],
        "intermediate_size": params["encoder_ff_interm_features"],
        "do_stable_layer_norm": params["encoder_layer_norm_first"],
        "feat_proj_dropout": 0.0, "hidden_dropout": 0.0, "attention_dropout": 0.0,
        "activation_dropout": 0.0, "layerdrop": 0.0,
        "mask_time_prob": 0.0, "mask_feature_prob": 0.0,  # training only: no masked_spec_embed
    }


def renamed(state: dict) -> dict:
    """torchaudio Wav2Vec2Model state dict -> Wav2Vec2ForCTC names (RENAMES)."""
    out = {}
    for key, value in state.items():
        for source, target in RENAMES:
            if key.startswith(source):
                out[target + key[len(source):]] = value
                break
        else:
            raise KeyError(f"no Hugging Face name for torchaudio parameter {key}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder to write (created if missing)")
    parser.add_argument("--model", default="WAV2VEC2_ASR_BASE_960H", choices=CONVERTIBLE)
    parser.add_argument("--checkpoint", help="weights file instead of the torch hub cache")
    args = parser.parse_args(argv)
    from asrlens.errors import AsrlensError

    try:
        folder = convert(args.out, model=args.model, checkpoint=args.checkpoint)
    except AsrlensError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {folder}: asrlens infer --engine transformers --model {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
