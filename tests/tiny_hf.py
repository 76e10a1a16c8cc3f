"""Tiny random Hugging Face speech models, written with save_pretrained like a user's folder.

    folder = save_ctc(tmp_path / "w2v", "wav2vec2", norm="group")   # Wav2Vec2ForCTC
    folder = save_whisper(tmp_path / "whisper")    # WhisperForConditionalGeneration

Built offline from configs (2 layers, hidden size 32) with their processors: a
Wav2Vec2CTCTokenizer over a vocab file written here, and a WhisperTokenizer over a byte-level
vocabulary (256 byte symbols, a few merges, Whisper's special and timestamp tokens). The
weights are random: these models exercise loading, shapes, batching and timings, never
accuracy.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

LETTERS = list("ETAOINSHRDLUCMWFGYPBVKJXQZ'")
CTC_VOCAB = ["<pad>", "|", *LETTERS, "<unk>"]  # blank 0, word separator 1
HIDDEN = 32
CTC_CONFIGS = {  # architecture -> (config class, model class) in transformers
    "wav2vec2": ("Wav2Vec2Config", "Wav2Vec2ForCTC"),
    "hubert": ("HubertConfig", "HubertForCTC"),
    "wavlm": ("WavLMConfig", "WavLMForCTC"),
    "data2vec-audio": ("Data2VecAudioConfig", "Data2VecAudioForCTC"),
}


def save_ctc(folder: Path, arch: str = "wav2vec2", *, norm: str = "group",
             head_scale: float = 20.0, seed: int = 0) -> Path:
    """A 2-layer random `arch` CTC model + Wav2Vec2Processor saved in folder.

    norm 'group' (wav2vec2-base family: no attention mask from the processor) or 'layer'
    (large family: the processor gives one). The CTC head is scaled by head_scale so each
    frame's best class wins clearly (a random head is nearly flat, where noise of 1e-7 would
    flip argmaxes).
    """
    import transformers

    folder.mkdir(parents=True, exist_ok=True)
    config_class, model_class = (getattr(transformers, name) for name in CTC_CONFIGS[arch])
    config = config_class(
        vocab_size=len(CTC_VOCAB) - 1, hidden_size=HIDDEN, num_hidden_layers=2,
        num_attention_heads=2, intermediate_size=64, conv_dim=(16,) * 7,
        num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2, feat_extract_norm=norm,
        do_stable_layer_norm=norm == "layer", pad_token_id=0, ctc_loss_reduction="mean",
        hidden_dropout=0.0, attention_dropout=0.0, activation_dropout=0.0,
        feat_proj_dropout=0.0, layerdrop=0.0, mask_time_prob=0.0,
    )
    torch.manual_seed(seed)
    model = model_class(config).eval()
    with torch.no_grad():
        model.lm_head.weight.mul_(head_scale)
    model.save_pretrained(folder)
    vocab = {token: i for i, token in enumerate(CTC_VOCAB)}
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    tokenizer = transformers.Wav2Vec2CTCTokenizer(
        str(folder / "vocab.json"), unk_token="<unk>", pad_token="<pad>",
        word_delimiter_token="|")
    extractor = transformers.Wav2Vec2FeatureExtractor(
        feature_size=1, sampling_rate=16000, padding_value=0.0, do_normalize=True,
        return_attention_mask=norm == "layer")
    transformers.Wav2Vec2Processor(feature_extractor=extractor,
                                   tokenizer=tokenizer).save_pretrained(folder)
    return folder


WHISPER_SPECIALS = ["<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|transcribe|>",
                    "<|translate|>", "<|startoflm|>", "<|startofprev|>", "<|nospeech|>",
                    "<|notimestamps|>"]  # <|notimestamps|> last: timestamps follow it
WHISPER_MERGES = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("Ġ", "a"), ("i", "n"), ("Ġ", "s")]
WORD_TOKENS = ["Ġthe", "Ġa", "Ġs", "Ġt"]  # what the tiny model is made to say
MAX_TARGET_POSITIONS = 64  # decoder positions: bounds every window at 56 new tokens (fast)


def save_whisper(folder: Path, *, alignment_heads: bool = True, seed: int = 0) -> Path:
    """A 2-layer random WhisperForConditionalGeneration + WhisperProcessor saved in folder.

    The generation config holds what Whisper's generate reads (prompt tokens, languages,
    tasks, timestamps) and, with alignment_heads, the cross-attention heads used for word
    timestamps. A few word tokens (WORD_TOKENS) and end-of-text are favoured in the tied output
    layer, so greedy decoding produces words.
    """
    import transformers
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    folder.mkdir(parents=True, exist_ok=True)
    vocab = {symbol: i for i, symbol in enumerate(bytes_to_unicode().values())}
    for first, second in WHISPER_MERGES:
        vocab[first + second] = len(vocab)
    tokenizer = transformers.WhisperTokenizer(vocab=vocab, merges=WHISPER_MERGES,
                                              pad_token="<|endoftext|>")
    tokenizer.add_special_tokens({"additional_special_tokens": WHISPER_SPECIALS[1:]})
    tokenizer.add_tokens([f"<|{i * 0.02:.2f}|>" for i in range(1501)])
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in WHISPER_SPECIALS}
    eot = ids["<|endoftext|>"]
    config = transformers.WhisperConfig(
        vocab_size=len(tokenizer), num_mel_bins=80, d_model=HIDDEN, encoder_layers=2,
        decoder_layers=2, encoder_attention_heads=2, decoder_attention_heads=2,
        encoder_ffn_dim=64, decoder_ffn_dim=64, max_source_positions=1500,
        max_target_positions=MAX_TARGET_POSITIONS, pad_token_id=eot, bos_token_id=eot,
        eos_token_id=eot,
        decoder_start_token_id=ids["<|startoftranscript|>"], dropout=0.0,
    )
    torch.manual_seed(seed)
    model = transformers.WhisperForConditionalGeneration(config).eval()
    keep = [vocab[token] for token in WORD_TOKENS] + [eot]
    with torch.no_grad():  # tied output layer: all but a few word tokens shrunk
        weight = model.model.decoder.embed_tokens.weight
        kept = weight[keep].clone()
        weight.mul_(0.01)
        weight[keep] = kept * 3.0
    gen = transformers.GenerationConfig.from_model_config(config)
    gen._from_model_config = False  # keep this file's settings when loaded
    gen.decoder_start_token_id = ids["<|startoftranscript|>"]
    gen.no_timestamps_token_id = ids["<|notimestamps|>"]
    gen.prev_sot_token_id = ids["<|startofprev|>"]
    gen.lang_to_id = {"<|en|>": ids["<|en|>"]}
    gen.task_to_id = {"transcribe": ids["<|transcribe|>"], "translate": ids["<|translate|>"]}
    gen.is_multilingual = True
    gen.max_initial_timestamp_index = 50
    gen.begin_suppress_tokens = [vocab["Ġ"], eot]
    gen.suppress_tokens = []
    gen.max_length = MAX_TARGET_POSITIONS
    if alignment_heads:
        gen.alignment_heads = [[1, 0], [1, 1]]
    model.generation_config = gen
    model.save_pretrained(folder)
    extractor = transformers.WhisperFeatureExtractor(feature_size=80)
    transformers.WhisperProcessor(feature_extractor=extractor,
                                  tokenizer=tokenizer).save_pretrained(folder)
    return folder
