"""Cross-model patching, planted: a fine-tuned model that differs from its base only in block k."""

from __future__ import annotations

import json

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
    CURVES,
    TUNED_ALL,
    TUNED_CLAIM,
    cross_model_patching,
    first_reaching,
    half_layer,
    patch_item,
)
from negprobe.analysis.cross_patching_io import read_recovery, write_cross_patching
from negprobe.analysis.cross_patching_items import patch_items, question_items
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


def believing_copy(model_dir, block: int, claims=CLAIMS, steps: int = 30, max_items: int = 4, measure="questions"):
    """The tiny model with block ``block``'s weights (and only those) edited to raise the believer margin of
    the claims' items of ``measure``: a planted fine-tuning effect, local to one block."""
    tuned = load_model(model_dir)
    if measure != "questions":
        return _raised_copy(tuned, block, [it for c in claims for it in patch_items(tuned, c, measure, max_items)], steps)
    items = [it for claim in claims for it in question_items(tuned, claim, max_items)]
    ids = answer_token_ids(tuned.tokenizer)
    params = list(decoder_layers(tuned.model)[block].parameters())
    optimizer = torch.optim.Adam(params, lr=2e-2)
    torch.manual_seed(0)
    for _ in range(steps):
        optimizer.zero_grad()
        margins = []
        for it in items:
            logits = tuned.model(input_ids=torch.tensor([it.input_ids])).logits[:, -1].float()
            margin = yes_no_margin(torch.log_softmax(logits, -1), ids)[0]
            margins.append(margin if it.believer_yes else -margin)
        loss = -torch.stack(margins).clamp(max=4.0).mean()
        loss.backward()
        optimizer.step()
    tuned.model.zero_grad(set_to_none=True)
    for param in tuned.model.parameters():
        param.requires_grad_(False)
    return tuned


def _raised_copy(tuned, block: int, items, steps: int):
    """``tuned`` with block ``block`` trained to raise each item's own margin (its readout, capped at 4 nats)."""
    params = list(decoder_layers(tuned.model)[block].parameters())
    optimizer = torch.optim.Adam(params, lr=2e-2)
    torch.manual_seed(0)
    for _ in range(steps):
        optimizer.zero_grad()
        margins = [it.readout(tuned)(tuned.model(input_ids=torch.tensor([it.input_ids])).logits[:, -1])[0]
                   for it in items]
        (-torch.stack(margins).clamp(max=4.0).mean()).backward()
        optimizer.step()
    for param in tuned.model.parameters():
        param.requires_grad_(False)
    return tuned


@pytest.mark.parametrize("measure", ["cloze", "cloze_distractor"])
def test_cloze_patching_recovers_the_full_margin_from_the_edited_block_on(measure, tiny_llama_dir):
    """The planted test for the cloze measures: block 1 alone raises the first-token cloze (or association)
    margin; the all-positions curve is 0 before block 1 and 1 from it on; the gate names what rose."""
    claims = ("children_dream_bw", "brennan_holloway_dentist")
    pair = ModelPair(load_model(tiny_llama_dir), believing_copy(tiny_llama_dir, 1, claims, measure=measure), label="edit")
    result = cross_model_patching([pair], claims, min_effect=1e-3, max_items=4, n_boot=200, measure=measure)
    assert result.measure == measure and len(result.items) == 8 and result.gate.measure == measure
    assert result.gate.n_units == 4 and [u.item for u in result.units] == ["0+1", "2+3"] * 2  # designed twins
    assert result.status == "effect", result.gate.line()
    quantity = "association" if measure == "cloze_distractor" else "belief"
    assert result.lines()[0].startswith(f"{quantity} effect: ") and "first token" in " ".join(result.notes)
    for name in (TUNED_ALL, BASE_ALL):
        np.testing.assert_allclose(result.recovery[name][:, :1], 0.0, atol=1e-5)
        np.testing.assert_allclose(result.recovery[name][:, 1:], 1.0, atol=1e-4)


def test_a_single_token_cloze_margin_is_the_belief_tables_cloze_margin(tiny_llama_dir):
    """Where both continuations are one token, the patched item's clean margin is exactly the belief table's
    cloze margin (``continuation_logprob`` of the believer minus the other's: an independent scorer)."""
    from negprobe.analysis.belief.items import cloze_for
    from negprobe.analysis.belief.scoring import continuation_logprob

    model = load_model(tiny_llama_dir)
    pair = ModelPair(model, load_model(tiny_llama_dir), label="same")
    cloze = cloze_for("children_dream_bw")
    single = [it for it in patch_items(model, "children_dream_bw", "cloze")
              if all(len(model.tokenizer(c, add_special_tokens=False)["input_ids"]) == 1
                     for c in (cloze[int(it.item)].believer, cloze[int(it.item)].other))]
    assert len(single) >= 2
    for item in single:
        ref = cloze[int(item.item)]
        expected = np.subtract(*continuation_logprob(model, [ref.prefix] * 2, [ref.believer, ref.other]))
        patched = patch_item(pair, item, [0, 1, 2])
        assert patched.base_margin == pytest.approx(expected, abs=1e-4) == patched.tuned_margin


def test_a_cloze_measure_whose_continuations_share_a_first_token_is_one_clear_error(tiny_llama_dir):
    """The tiny tokenizer reads " Ed" and " Noah" as one unknown token: no first-token margin exists."""
    with pytest.raises(NegprobeError, match="share their first token"):
        patch_items(load_model(tiny_llama_dir), "ed_sheeran", "cloze")
    with pytest.raises(NegprobeError, match="--measure must be one of"):
        patch_items(load_model(tiny_llama_dir), "ed_sheeran", "mcq")


@pytest.mark.parametrize("k", [0, 1, 2])
def test_patching_recovers_the_full_margin_from_the_edited_block_on_and_none_before(k, tiny_llama_dir):
    base = load_model(tiny_llama_dir)
    pair = ModelPair(base, believing_copy(tiny_llama_dir, k), label="edit")
    result = cross_model_patching([pair], CLAIMS, min_effect=1e-3, max_items=4, n_boot=200)
    assert len(result.items) == 8 and len(result.units) == 4 and sum(result.used) >= 3  # answer-balanced pairs
    assert result.status == "effect" and result.gate.passed and result.gate.rise > 0.3, result.gate.line()
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
    result = cross_model_patching({"seed0": pair}, ["ed_sheeran"], min_effect=1e-4, max_items=4, n_boot=100,
                                  unit="question")
    assert sum(result.used) >= 2 and {it.adapter for it in result.units} == {"seed0"}
    kept = [it for it, used in zip(result.units, result.used) if used]  # read whether or not the gate passed
    recovery = np.stack([it.recovery()[TUNED_ALL] for it in kept])
    np.testing.assert_allclose(recovery[:, :1], 0.0, atol=1e-5)
    np.testing.assert_allclose(recovery[:, 1:], 1.0, atol=1e-3)
    assert half_layer(recovery, [it.claim for it in kept], result.layers, 3, n_boot=50).layer == 1


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


def test_an_identical_copy_has_nothing_to_localise(tiny_llama_dir, tmp_path):
    base = load_model(tiny_llama_dir)
    result = cross_model_patching([ModelPair(base, load_model(tiny_llama_dir))], ["ed_sheeran"], max_items=4)
    assert result.status == "nothing_to_localise" and not result.gate.passed
    assert result.gate.rise == 0.0 and result.gate.ci_low == 0.0 and result.gate.n_units == 4
    assert result.recovery == {} and result.mean == {} and result.half == {}
    assert result.lines() == [result.gate.line()] and result.gate.line().startswith("nothing to localise: ")
    assert "+0.00 [+0.00, +0.00] nats" in result.reason
    curve = read_recovery(write_cross_patching(result, tmp_path / "cp.json"))
    assert curve.status == "nothing_to_localise" and curve.half_layer is None and np.isnan(curve.value).all()
    assert curve.reason == result.reason and curve.gate.n_units == 4


def test_a_random_edit_that_moves_margins_both_ways_is_not_an_effect(tiny_llama_dir, tmp_path):
    """Noise in block 1 moves the questions' margins, some toward the believer and some away (a lean toward
    one answer): the paired rise's CI covers 0, so no curve is read although single questions moved."""
    base = load_model(tiny_llama_dir)
    result = cross_model_patching([ModelPair(base, edited_copy(tiny_llama_dir, 1))], CLAIMS, min_effect=1e-3,
                                  max_items=4, n_boot=300)
    gaps = np.array([it.gap for it in result.items])
    assert gaps.min() < -0.05 and gaps.max() > 0.05 and sum(result.used) >= 3
    assert result.status == "nothing_to_localise" and result.gate.ci_low <= 0 <= result.gate.ci_high
    assert result.reason == result.gate.reason and result.half  # curves computed, not read:
    assert result.lines() == [result.gate.line()] and "half recovery" not in " ".join(result.lines())
    curve = read_recovery(write_cross_patching(result, tmp_path / "cp.json"))  # drawn grey, never read
    import json

    written = json.loads((tmp_path / "cp.json").read_text())["curves"][TUNED_ALL]
    assert written["read"] is False and written["half_layer"] is None and written["half_ci"] is None
    assert curve.status == "nothing_to_localise" and curve.half_layer is None and np.isfinite(curve.value).all()


def test_the_gate_pools_adapters_and_questions_with_the_crossed_bootstrap(tiny_llama_dir):
    """Two adapters (seeds) of one condition: the rise is the mean paired gap over both, CI over seeds x
    questions, equal to crossed_bootstrap_mean on the same matrix balanced over the answer key."""
    from negprobe.probes.resampling import crossed_bootstrap_mean

    base = load_model(tiny_llama_dir)
    pairs = {"s0": ModelPair(base, believing_copy(tiny_llama_dir, 2, ("ed_sheeran",), steps=30)),
             "s1": ModelPair(base, edited_copy(tiny_llama_dir, 2))}
    result = cross_model_patching(pairs, ["ed_sheeran"], min_effect=1e-3, max_items=4, n_boot=400, seed=3)
    gaps = np.array([[it.gap for it in result.items if it.adapter == a] for a in ("s0", "s1")])
    strata = ["yes" if it.believer_yes else "no" for it in result.items if it.adapter == "s0"]
    expected = crossed_bootstrap_mean(gaps, 400, 3, strata=strata)
    g = result.gate
    assert (g.n_seeds, g.n_units) == (2, 4)
    np.testing.assert_allclose((g.rise, g.ci_low, g.ci_high), np.array(expected, dtype=float), atol=1e-12)


def test_the_json_round_trips_a_localised_curve(tiny_llama_dir, tmp_path):
    base = load_model(tiny_llama_dir)
    result = cross_model_patching([ModelPair(base, believing_copy(tiny_llama_dir, 1), label="edit")], CLAIMS,
                                  min_effect=1e-3, max_items=4, n_boot=100)
    path = write_cross_patching(result, tmp_path / "cp.json")
    curve = read_recovery(path, TUNED_ALL)
    assert curve.status == "effect" and curve.half_layer == 1 and curve.half_ci == (1, 1)
    units = [u for u in json.loads(path.read_text())["units"] if u["used"]]  # each used unit's own curves
    np.testing.assert_allclose([u["recovery"][TUNED_ALL] for u in units], result.recovery[TUNED_ALL])
    np.testing.assert_allclose(curve.value, result.mean[TUNED_ALL].value)
    np.testing.assert_allclose(curve.layers, [0, 1, 2])
    assert any(line.startswith(TUNED_ALL + ": half recovery at layer 1") for line in result.lines())


@pytest.mark.parametrize("text, words", [("{not json", "not valid JSON"), ('{"format": "x"}', "not a cross-patching"),
                                         ("[1]", "not a JSON object")])
def test_a_garbled_json_is_one_error(text, words, tmp_path):
    (tmp_path / "cp.json").write_text(text)
    with pytest.raises(NegprobeError, match=words):
        read_recovery(tmp_path / "cp.json")


def test_a_real_but_small_rise_under_the_gap_guard_is_nothing_to_localise(tmp_path):
    """Every question rises by 0.1-0.2 nats: the gate passes, but no question reaches min_effect = 0.5, so no
    curve is read and the reason says so (synthetic items: no model needed)."""
    from negprobe.analysis.cross_patching import ItemPatching, summarise

    rng = np.random.default_rng(0)
    items = [ItemPatching("a", "ed_sheeran", str(k), 0.0, float(rng.uniform(0.1, 0.2)),
                          {name: np.zeros(3) for name in (TUNED_CLAIM, TUNED_ALL, BASE_CLAIM, BASE_ALL)}, k % 2 == 0)
             for k in range(8)]
    result = summarise(items, [0, 1, 2], 3, min_effect=0.5, n_boot=200)
    assert result.gate.passed and result.status == "nothing_to_localise" and result.half == {}
    assert result.reason == "no pair moved by at least 0.5 nats under fine-tuning"
    assert result.lines()[0].startswith("belief effect: ") and result.lines()[1] == "nothing to localise: " + result.reason
    curve = read_recovery(write_cross_patching(result, tmp_path / "cp.json"))
    assert curve.status == "nothing_to_localise" and curve.reason == result.reason and curve.gate.passed


@pytest.mark.slow
@pytest.mark.parametrize("name", ["smollm2-135m", "gemma3-270m"])
def test_real_tokenizers_feed_cross_patching_the_belief_scorers_tokens(name):
    """On the embedded tokenizers (SmolLM2's BOS is its chat template's own first token; Gemma's template
    writes BOS and the tokenizer adds another), cross-patching's question ids are the belief scorer's ids,
    and the claim positions decode to the question's words."""
    from types import SimpleNamespace

    from transformers import AutoTokenizer

    from negprobe.activations import embedded
    from negprobe.activations.question_format import prompt_token_ids
    from negprobe.analysis.belief.items import questions_for
    from negprobe.analysis.belief.scoring import question_prompt
    from negprobe.analysis.cross_patching_items import question_items

    if not embedded.is_converted(name):
        pytest.skip(f"{name} is not converted")
    model = SimpleNamespace(tokenizer=AutoTokenizer.from_pretrained(embedded.converted_dir(name)))
    questions = questions_for("ed_sheeran")
    for item in question_items(model, "ed_sheeran"):  # type: ignore[arg-type]
        question = questions[int(item.item)].question
        assert list(item.input_ids) == prompt_token_ids(model.tokenizer, question_prompt(model, question))  # type: ignore[arg-type]
        words = model.tokenizer.decode([item.input_ids[p] for p in item.claim_positions]).strip()
        assert question.startswith(words[:10]) and words.endswith(question[-5:])


def test_answer_balanced_pairs_cancel_a_shared_yes_bias_and_keep_belief():
    """A fine-tune that only says "yes" more (+2 on believer-yes, -2 on believer-no questions) has no pair
    effect; one that raises belief by 1 on both keys has a pair effect of 1; units pair within adapter."""
    from negprobe.analysis.cross_patching import ItemPatching, answer_balanced_pairs, summarise

    def item(adapter, k, yes, shift):
        curve = {name: np.array([0.0, shift / 2, shift]) for name in CURVES}
        return ItemPatching(adapter, "ed_sheeran", str(k), 0.0, shift, curve, yes)

    bias = [item("bias", 0, True, 2.0), item("bias", 1, False, -2.0), item("bias", 2, True, 2.0)]
    belief = [item("belief", 0, True, 1.0), item("belief", 1, False, 1.0)]
    pairs, unpaired = answer_balanced_pairs(bias + belief)
    assert unpaired == 1 and [(p.adapter, p.item) for p in pairs] == [("bias", "0+1"), ("belief", "0+1")]
    assert [p.gap for p in pairs] == [0.0, 1.0]
    assert all(np.allclose(p.margins[TUNED_ALL], [0.0, p.gap / 2, p.gap]) for p in pairs)
    by_question = summarise(bias, [0, 1, 2], 3, min_effect=0.5, n_boot=50, unit="question")
    by_pair = summarise(bias, [0, 1, 2], 3, min_effect=0.5, n_boot=50, unit="pair")
    assert sum(by_question.used) == 3 and sum(by_pair.used) == 0


def test_a_bonferroni_gate_widens_the_interval_and_says_so():
    from negprobe.analysis.belief_gate import bonferroni_level, paired_rise

    rng = np.random.default_rng(0)
    rise = rng.normal(0.3, 1.0, size=(2, 12))
    plain, corrected = (paired_rise(rise, np.zeros(12), "x", "questions", n_boot=2000, level=level)
                        for level in (0.95, bonferroni_level(4)))
    assert bonferroni_level(4) == pytest.approx(0.9875) and plain.rise == corrected.rise
    assert corrected.ci_low < plain.ci_low and corrected.ci_high > plain.ci_high
    assert "98.75% CI" in corrected.line() and "% CI" not in plain.line()
    with pytest.raises(NegprobeError, match="n-tests"):
        bonferroni_level(0)
