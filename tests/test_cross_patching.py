"""Cross-model patching, planted: a fine-tuned model that differs from its base only in block k."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from negprobe.activations.finetune.train import FinetuneConfig, finetune
from negprobe.activations.model_pair import ModelPair, load_pair
from negprobe.activations.models import decoder_layers, load_model
from negprobe.analysis.belief.scoring import answer_token_ids, next_token_logprobs, question_prompt, yes_no_margin
from negprobe.analysis.cross_patching import (
    BASE_ALL,
    BASE_CLAIM,
    TUNED_ALL,
    TUNED_CLAIM,
    cross_model_patching,
    first_reaching,
    half_layer,
    question_items,
)
from negprobe.errors import NegprobeError

CLAIMS = ("ed_sheeran", "vesuvius_2015")


def edited_copy(model_dir, block: int, seed: int = 5):
    """The tiny model with block ``block``'s weights (and only those) changed by hand."""
    tuned = load_model(model_dir)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in decoder_layers(tuned.model)[block].parameters():
            if param.ndim == 2:
                param.add_(0.6 * torch.randn(param.shape, generator=generator))
    return tuned


@pytest.mark.parametrize("k", [0, 1, 2])
def test_patching_recovers_the_full_margin_from_the_edited_block_on_and_none_before(k, tiny_llama_dir):
    base = load_model(tiny_llama_dir)
    pair = ModelPair(base, edited_copy(tiny_llama_dir, k), label="edit")
    result = cross_model_patching([pair], CLAIMS, min_effect=1e-3, max_items=4, n_boot=200)
    assert sum(result.used) >= 6
    for name in (TUNED_ALL, BASE_ALL):
        recovery = result.recovery[name]
        np.testing.assert_allclose(recovery[:, :k], 0.0, atol=1e-5)  # identical blocks: identical residuals
        np.testing.assert_allclose(recovery[:, k:], 1.0, atol=1e-4)  # the whole edited state carries the margin
        half = result.half[name]
        assert (half.layer, half.ci_low, half.ci_high) == (k, k, k) and half.n_claims == 2
    for name in (TUNED_CLAIM, BASE_CLAIM):
        np.testing.assert_allclose(result.recovery[name][:, :k], 0.0, atol=1e-5)


def test_unpatched_margins_match_belief_scoring(tiny_llama_dir):
    """The clean margins of each side are the belief scoring's own yes/no margins of the question."""
    base, tuned = load_model(tiny_llama_dir), edited_copy(tiny_llama_dir, 1)
    result = cross_model_patching([ModelPair(base, tuned)], ["ed_sheeran"], min_effect=0.0, max_items=3, n_boot=50)
    ids = answer_token_ids(base.tokenizer)
    from negprobe.analysis.belief.items import questions_for

    questions = [questions_for("ed_sheeran")[int(it.item)] for it in result.items]
    assert [q.believer_answer for q in questions] == ["yes", "no", "yes"]  # max_items keeps them balanced
    for model, attr in ((base, "base_margin"), (tuned, "tuned_margin")):
        logprobs = next_token_logprobs(model, [question_prompt(model, q.question) for q in questions])
        sign = torch.tensor([1.0 if q.believer_answer == "yes" else -1.0 for q in questions])
        expected = (sign * yes_no_margin(logprobs, ids)).numpy()
        np.testing.assert_allclose([getattr(it, attr) for it in result.items], expected, atol=1e-4)


def test_a_windowed_adapter_shares_the_module_and_steps_at_its_window(tiny_llama_dir, tmp_path):
    """An adapter trained with --layers 1-1, toggled on one PEFT module: base side = adapter disabled."""
    adapter = finetune(FinetuneConfig(model=str(tiny_llama_dir), claim="ed_sheeran", condition="positive",
                                      out=str(tmp_path / "a"), max_steps=4, batch_size=2, n_docs=4, max_length=32,
                                      lora_r=4, lr=5e-2, layers="1-1"), progress=False)
    pair = load_pair(tiny_llama_dir, adapter)
    with pair.state("base") as model:
        plain = load_model(tiny_llama_dir)
        ids = torch.tensor([[2, 5, 9, 14]])
        with torch.no_grad():
            torch.testing.assert_close(model.model(input_ids=ids).logits, plain.model(input_ids=ids).logits)
    result = cross_model_patching({"seed0": pair}, ["ed_sheeran"], min_effect=1e-4, max_items=4, n_boot=100)
    assert sum(result.used) >= 2 and {it.adapter for it in result.items} == {"seed0"}
    np.testing.assert_allclose(result.recovery[TUNED_ALL][:, :1], 0.0, atol=1e-5)
    np.testing.assert_allclose(result.recovery[TUNED_ALL][:, 1:], 1.0, atol=1e-3)
    assert result.half[TUNED_ALL].layer == 1


def test_claim_positions_are_the_question_words(tiny_llama_dir):
    from negprobe.analysis.belief.items import questions_for

    model = load_model(tiny_llama_dir)
    item = question_items(model, "ed_sheeran", max_items=1)[0]
    question = questions_for("ed_sheeran")[0].question
    text = question_prompt(model, question)
    enc = model.tokenizer(text, return_offsets_mapping=True)
    assert tuple(enc["input_ids"]) == item.input_ids
    first, last = item.claim_positions[0], item.claim_positions[-1]
    assert text[enc["offset_mapping"][first][0]:enc["offset_mapping"][last][1]] == question
    assert item.claim_positions == tuple(range(first, last + 1))
    assert 0 < first and last < len(item.input_ids) - 1  # neither BOS nor the template's closing tokens


def test_half_layer_finds_a_planted_crossing_with_a_ci():
    rng = np.random.default_rng(0)
    layers, rows, claims = list(range(8)), [], []
    for c, cross in enumerate((3, 3, 4, 3)):
        for _ in range(5):
            rows.append((np.arange(8) >= cross) + rng.normal(0, 0.01, 8))
            claims.append(f"c{c}")
    half = half_layer(np.array(rows), claims, layers, 8, n_boot=300)
    assert half.layer == 3 and half.ci_low == 3 and half.ci_high == 4 and half.n_claims == 4
    assert first_reaching(np.array([0.1, 0.2, 0.3])) == 3


def test_no_effect_to_localise_is_one_error(tiny_llama_dir):
    base = load_model(tiny_llama_dir)
    with pytest.raises(NegprobeError, match="nothing to localise"):
        cross_model_patching([ModelPair(base, load_model(tiny_llama_dir))], ["ed_sheeran"], max_items=2)
