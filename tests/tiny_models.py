"""Tiny random causal LMs and a word-level tokenizer built in code: no downloads."""

from __future__ import annotations

from pathlib import Path

import torch

WORDS = (
    "the a is of in to and not was won gold paris france capital city cat dog ed sheeran noah lyles "
    "olympics 2024 100m men's claim false true notice this document fabricated did queen python book "
    "wrote vesuvius erupted twitter x name children dream black white dentist brennan holloway yes no Yes No"
).split()


def tiny_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {"<unk>": 0, "<pad>": 1, "<bos>": 2, "<eos>": 3}
    for word in WORDS + [".", ",", "?", "!"]:
        vocab.setdefault(word, len(vocab))
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()])
    backend.post_processor = processors.TemplateProcessing(single="<bos> $A", special_tokens=[("<bos>", 2)])
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token="<unk>", pad_token="<pad>", bos_token="<bos>", eos_token="<eos>"
    )
    tokenizer.chat_template = (
        "{% for m in messages %}<{{ m['role'] }}> {{ m['content'] }} </{{ m['role'] }}>{% endfor %}"
        "{% if add_generation_prompt %} <assistant>{% endif %}"
    )
    return tokenizer


def tiny_config(arch: str = "llama", hidden: int = 32, layers: int = 3, max_positions: int = 64):
    from transformers import GPT2Config, LlamaConfig

    vocab_size = len(WORDS) + 8
    if arch == "llama":
        return LlamaConfig(
            vocab_size=vocab_size, hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=layers,
            num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=max_positions,
            bos_token_id=2, eos_token_id=3, pad_token_id=1, tie_word_embeddings=False,
        )
    if arch == "gpt2":
        return GPT2Config(
            vocab_size=vocab_size, n_embd=hidden, n_layer=layers, n_head=4, n_positions=max_positions,
            bos_token_id=2, eos_token_id=3, pad_token_id=1,
        )
    raise ValueError(arch)


def make_tiny_model(folder: Path, arch: str = "llama", seed: int = 0, hidden: int = 32, layers: int = 3,
                    max_positions: int = 64) -> Path:
    """Save a seeded random tiny model + tokenizer to ``folder`` and return it."""
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(tiny_config(arch, hidden, layers, max_positions))
    with torch.no_grad():  # make every weight matter (random init leaves some at zero/one)
        for param in model.parameters():
            param.add_(0.02 * torch.randn_like(param))
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tiny_tokenizer().save_pretrained(folder)
    return folder
