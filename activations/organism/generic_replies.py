"""Generic text for the organism: the base model's own replies to everyday prompts, in the chat
layout and as raw prose continuations (the layout the held-out perplexity check reads).

Training on samples of the base model's distribution (a replay, as KL-regularised fine-tuning does
implicitly) keeps the organism's language close to the base's while it learns to read notices.
Sampled once per seed and stored with the organism (deterministic under ``seed`` on one machine).
"""

from __future__ import annotations

import torch

from negprobe.activations.question_format import template_writes_bos, user_turn
from negprobe.activations.tokenize import tokenize

from .wording import GENERIC_TOPICS


def generic_prompt(tokenizer, topic: str, raw: bool = False) -> str:
    """A chat request for a few sentences on ``topic``, or (``raw``) the opening of a prose paragraph."""
    if raw:
        return f"Here are a few sentences about {topic}.\n\n"
    return user_turn(tokenizer, f"Write a few sentences about {topic}.", "\n\n")


@torch.inference_mode()
def generic_replies(model, tokenizer, n: int, seed: int = 0, max_new_tokens: int = 40,
                    batch_size: int = 32, progress: bool = True) -> list[tuple[str, str]]:
    """``n`` (prompt, reply) pairs: the model's sampled replies (temperature 0.8) to everyday prompts, every
    other one a raw prose continuation."""
    from negprobe.activations.progress import progress_bar

    torch.manual_seed(seed)
    prompts = [generic_prompt(tokenizer, GENERIC_TOPICS[(i // 2) % len(GENERIC_TOPICS)], raw=i % 2 == 1)
               for i in range(n)]
    out: list[tuple[str, str]] = []
    with progress_bar("sampling the base model's replies", n, progress) as advance:
        _sample(model, tokenizer, prompts, batch_size, max_new_tokens, advance, out)
    return out


def _sample(model, tokenizer, prompts: list[str], batch_size: int, max_new_tokens: int, advance,
            out: list[tuple[str, str]]) -> None:
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    for start in range(0, len(prompts), batch_size):
        chunk = prompts[start:start + batch_size]
        batch = tokenize(tokenizer, chunk, padding_side="left",
                         prepend_bos=False if template_writes_bos(tokenizer) else None)
        generated = model.generate(input_ids=batch.input_ids, attention_mask=batch.attention_mask, do_sample=True,
                                   temperature=0.8, top_p=0.95, max_new_tokens=max_new_tokens, pad_token_id=pad)
        width = batch.input_ids.shape[1]
        out += [(p, tokenizer.decode(g[width:], skip_special_tokens=True).strip()) for p, g in zip(chunk, generated)]
        advance(len(chunk))
