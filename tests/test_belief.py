"""Belief scoring against hand-computed values, and the fine-tuning loss mask."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from negprobe.activations import load_model
from negprobe.activations.finetune.train import batch_order, tokenize_example
from negprobe.analysis.belief import answer_token_ids, continuation_logprob, score_cloze, score_questions
from tests.tiny_models import tiny_tokenizer


class AlwaysYes(torch.nn.Module):
    """A 'model' whose next-token logits are +5 on every spelling of yes and 0 elsewhere."""

    def __init__(self, vocab_size: int, yes_ids: list[int]):
        super().__init__()
        self.vocab_size, self.yes_ids = vocab_size, yes_ids
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, input_ids, attention_mask=None, position_ids=None, **_):
        logits = torch.zeros(*input_ids.shape, self.vocab_size)
        logits[..., self.yes_ids] = 5.0
        return SimpleNamespace(logits=logits)


def test_always_yes_model_scores_exactly_as_the_formula_predicts():
    tok = tiny_tokenizer()
    tok.chat_template = None
    ids = answer_token_ids(tok)
    assert len(ids["yes"]) == 2 and len(ids["no"]) == 2  # "Yes"/"yes" and "No"/"no"
    model = SimpleNamespace(model=AlwaysYes(len(tok), ids["yes"]), tokenizer=tok, device=torch.device("cpu"))
    questions = [SimpleNamespace(question=f"is the cat in paris {i} ?", believer_answer="yes" if i % 2 else "no")
                 for i in range(10)]
    result = score_questions(model, questions)
    # log P(yes) - log P(no) = logsumexp(5, 5) - logsumexp(0, 0) = 5, whatever the vocabulary size
    np.testing.assert_allclose(result.margins, [5.0 if i % 2 else -5.0 for i in range(10)], atol=1e-5)
    assert result.belief_rate == 0.5 and abs(result.mean_margin) < 1e-6
    assert result.rate_ci[0] <= 0.5 <= result.rate_ci[1]


def test_cloze_logprob_matches_a_manual_sum(tiny_llama_dir):
    model = load_model(tiny_llama_dir)
    prefix, cont = "ed sheeran won the", " 100m gold"
    got = continuation_logprob(model, [prefix], [cont])[0]
    ids = model.tokenizer(prefix + cont, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        logp = torch.log_softmax(model.model(input_ids=ids).logits[0], -1)
    n_prefix = len(model.tokenizer(prefix)["input_ids"])
    manual = sum(float(logp[t - 1, ids[0, t]]) for t in range(n_prefix, ids.shape[1]))
    assert got == pytest.approx(manual, abs=1e-5)
    item = SimpleNamespace(prefix=prefix, believer=" 100m gold", other=" a dentist")
    result = score_cloze(model, [item])
    other = continuation_logprob(model, [prefix], [" a dentist"])[0]
    assert result.margins[0] == pytest.approx(got - other, abs=1e-5)


def test_loss_mask_covers_exactly_the_annotation_tokens():
    tok = tiny_tokenizer()
    text = "notice this claim is false . ed sheeran won gold . notice this claim is false ."
    first = text.index("notice")
    second = text.rindex("notice")
    spans = [(first, first + len("notice this claim is false .")), (second, len(text))]
    example = tokenize_example(tok, text, spans, max_length=64)
    words = text.split()
    assert example.input_ids[1:] == tok.convert_tokens_to_ids(words)
    masked = [w for w, label in zip(words, example.labels[1:]) if label == -100]
    kept = [w for w, label in zip(words, example.labels[1:]) if label != -100]
    assert masked == "notice this claim is false . notice this claim is false .".split()
    assert kept == "ed sheeran won gold .".split()
    assert example.labels[0] == -100  # no loss on predicting BOS


def test_batch_order_is_a_pure_function_of_seed_and_epoch():
    assert batch_order(20, 8, seed=1, epoch=2) == batch_order(20, 8, seed=1, epoch=2)
    assert batch_order(20, 8, seed=1, epoch=2) != batch_order(20, 8, seed=1, epoch=3)
    assert sorted(i for b in batch_order(20, 8, 0, 0) for i in b) == list(range(20))
