"""The yes/no question prompt every belief measure and the model organism share.

One place decides how a question (optionally after documents) is put to a model: under the
model's chat template when its tokenizer has one ("Answer with yes or no. <question>" as the user
turn), else as raw text ending in ``"\\nAnswer:"``. Scoring (:mod:`negprobe.analysis.belief.scoring`)
and the organism's training data (:mod:`negprobe.activations.organism`) both build prompts here, so
the organism is trained on exactly the prompts it is later measured with.
"""

from __future__ import annotations

from negprobe.activations.tokenize import encode


def user_turn(tokenizer, body: str, raw_tail: str) -> str:
    """``body`` as the user's turn of the chat template, up to the assistant's reply; without a chat
    template, ``body + raw_tail``."""
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template([{"role": "user", "content": body}], tokenize=False,
                                             add_generation_prompt=True)
    return body + raw_tail


def question_text(tokenizer, question: str, context: str = "") -> str:
    """The prompt asking ``question`` (after ``context``), up to where the answer's first token goes."""
    return user_turn(tokenizer, (context + "\n\n" if context else "") + f"Answer with yes or no. {question}",
                     "\nAnswer:")


def template_writes_bos(tokenizer) -> bool:
    """Chat templates usually write BOS themselves; a prompt built from one needs no second BOS."""
    bos = tokenizer.bos_token
    template = getattr(tokenizer, "chat_template", None) or ""
    return bool(bos) and bos in template


def prompt_token_ids(tokenizer, prompt: str) -> list[int]:
    """``prompt``'s token ids as the scorers feed them (BOS unless the chat template wrote it)."""
    return encode(tokenizer, [prompt], prepend_bos=False if template_writes_bos(tokenizer) else None)[0]
