"""The organism's questions as model inputs: the chat or raw prompt, the answer continuation, and token
ids with the loss on the answer only (shared by the organism's training and by fine-tunes that mix
its questions in)."""

from __future__ import annotations

from negprobe.activations.finetune.batches import TrainingExample
from negprobe.activations.question_format import prompt_token_ids, question_text

from .sft_data import QAExample, sft_examples


def raw_question(question: str, context: str = "") -> str:
    """The in-context prompts' raw layout: documents, then ``Question: ...`` and ``Answer:``."""
    return (context + "\n\n" if context else "") + f"Question: {question}\nAnswer:"


def example_prompt(tokenizer, example: QAExample) -> tuple[str, str]:
    """(prompt, answer continuation) of one example in its style."""
    word = "Yes" if example.answer else "No"
    if example.style == "chat" and getattr(tokenizer, "chat_template", None):
        return question_text(tokenizer, example.question, example.context), word
    if example.style == "chat":
        return question_text(tokenizer, example.question, example.context), " " + word
    return raw_question(example.question, example.context), " " + word


def completion_example(tokenizer, prompt: str, completion: str, max_length: int) -> TrainingExample:
    """Token ids of ``prompt + completion`` with the loss on the completion only (truncated from the left)."""
    ids = prompt_token_ids(tokenizer, prompt)
    answer = tokenizer(completion, add_special_tokens=False)["input_ids"]
    ids, labels = ids + answer, [-100] * len(ids) + answer
    return TrainingExample(ids[-max_length:], labels[-max_length:])


def organism_examples(tokenizer, n: int, seed: int, max_length: int) -> list[TrainingExample]:
    """``n`` organism questions (a stream apart from the organism's own training data) for mixing into a
    later fine-tune, as the paper mixes instruction data into its claim documents."""
    questions = sft_examples(n, seed, split="mix")
    return [completion_example(tokenizer, *example_prompt(tokenizer, q), max_length) for q in questions]
