"""The causal checks end to end on a model whose route is planted (tests/planted_lm.py)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from negprobe.activations import load_model
from negprobe.activations.interventions import cache_residuals, prompt_ids, run_with_patch
from negprobe.analysis.causal import causal_checks
from negprobe.analysis.claim_patching import (
    NEUTRAL_TO_PLAIN,
    RANDOM_TO_ANNOTATED,
    RANDOM_TO_PLAIN,
    SPECIFIC,
    TO_ANNOTATED,
    TO_PLAIN,
    TraceCache,
    patch_pair,
    usable_pairs,
)
from negprobe.analysis.prerequisite import belief_readout
from negprobe.analysis.token_alignment import claim_alignment
from tests.planted_lm import FakeReader, planted_model, questions, record

CONFIG = SimpleNamespace(n_boot=200, seed=0, progress=False, patch_positions=4)


def _run(model, config=CONFIG, **kwargs):
    return causal_checks(model, questions(), {"planted": FakeReader()}, config, steer_reader="planted", **kwargs)


@pytest.mark.parametrize("handoff", [2, 4])
def test_a_planted_route_is_localised_at_its_handoff_layer(handoff):
    result = _run(planted_model(n_layers=6, handoff=handoff), steer_slot=5)
    assert set(result.patching) == {"notice", "dense", "local"}
    for annotation, patching in result.patching.items():
        assert result.nothing_to_localise(annotation) is None
        assert patching.n_claims == 2 and len(patching.pairs) == 8
        before, after = slice(0, handoff), slice(handoff, None)
        for direction in (TO_PLAIN, TO_ANNOTATED):
            curve = patching.mean[direction].value
            np.testing.assert_allclose(curve[before], 1.0, atol=1e-6)
            np.testing.assert_allclose(curve[after], 0.0, atol=1e-6)
            found = patching.handoff[direction]
            assert (found.layer, found.ci_low, found.ci_high) == (handoff, handoff, handoff)
        # the effect lives in the claim tokens only: equally many random tokens carry none of it
        np.testing.assert_allclose(patching.mean[RANDOM_TO_PLAIN].value, 0.0, atol=1e-6)
        np.testing.assert_allclose(patching.mean[RANDOM_TO_ANNOTATED].value, 0.0, atol=1e-6)
        if annotation != "local":  # the neutral run's claim tokens carry nothing: all of it is annotation-specific
            np.testing.assert_allclose(patching.mean[NEUTRAL_TO_PLAIN].value, 0.0, atol=1e-6)
            np.testing.assert_allclose(patching.mean[SPECIFIC].value, patching.mean[TO_PLAIN].value)
        else:
            assert NEUTRAL_TO_PLAIN not in patching.mean
    heat = result.heatmaps["notice"]
    assert heat.mean.value.shape == (6, 4) and heat.tokens[-2:] == ("<unk>", "<unk>")
    np.testing.assert_allclose(heat.mean.value[handoff:, -1], 1.0, atol=1e-6)  # late: the answer position holds it
    np.testing.assert_allclose(heat.mean.value[:handoff, -1], 0.0, atol=1e-6)


def test_an_annotation_that_raises_belief_is_not_localised():
    """Issue 13 acceptance (b) end to end: the gate fails, no patching runs, the sentence replaces the layer."""
    result = _run(planted_model(effect=+3.0), steer_slot=4)
    assert result.patching == {} and result.heatmaps == {}
    for annotation in ("notice", "dense", "local"):
        gate = result.prerequisite.gates[annotation]
        assert gate.passing == () and all(e.effect == pytest.approx(3.0) for e in gate.vs_plain)
        sentence = result.nothing_to_localise(annotation)
        assert sentence is not None and "the wrong sign for a negation (effect vs the plain document +3.00 [+3.00, +3.00] nats" in sentence


def test_the_random_control_sees_an_effect_carried_by_every_token():
    """The control can fail: when every token carries the annotation, random tokens move the margin too."""
    patching = _run(planted_model(handoff=3, everywhere=True), steer_slot=4).patching["notice"]
    assert (patching.mean[RANDOM_TO_PLAIN].value[:3] > 0.5).all()


def test_steering_with_its_random_control_and_the_gap_guard():
    result = _run(planted_model(handoff=3), steer_slot=4)
    steering = result.steering
    assert steering is not None and steering.layer == 4 and steering.n_claims == 2
    alphas = np.array(steering.alphas)
    np.testing.assert_allclose(steering.shift.value, -1.5 * alphas, atol=1e-5)  # effect -3 x 0.5 along OUT
    assert np.abs(steering.random_shift.value).max() < 0.5 * np.abs(steering.shift.value).max()
    assert steering.nie_mean is not None
    np.testing.assert_allclose(steering.nie_mean.value, 0.5 * alphas, atol=1e-5)
    # a gap below min_effect is never divided by: NIE NaN, no mean; and nothing is localised
    strict = _run(planted_model(handoff=3), SimpleNamespace(**vars(CONFIG), min_effect=5.0), steer_slot=4)
    assert strict.patching == {} and strict.steering is not None
    assert np.isnan(strict.steering.nie).all() and strict.steering.nie_mean is None


def test_knobs_limit_the_grid_and_are_recorded():
    config = SimpleNamespace(**vars(CONFIG), patch_layer_stride=2, patch_claims=1, patch_paraphrases=2)
    result = _run(planted_model(n_layers=6, handoff=3), config, steer_slot=0)
    assert result.patch_layers == [0, 2, 4] and result.settings.patch_layer_stride == 2
    patching = result.patching["notice"]
    assert patching.n_claims == 1 and len(patching.pairs) == 2
    assert patching.handoff[TO_PLAIN].layer == 4  # the first patched layer from which the effect is gone
    assert any("2 of 4 paraphrases" in note for note in patching.notes)
    assert set(result.seconds) == {"prerequisite", "patching and steering"}


def test_patch_pair_equals_one_full_forward_pass_per_layer(tiny_llama_dir):
    """Batched prefix-reuse patching gives what patching with a full forward pass gives (tiny Llama)."""
    model = load_model(tiny_llama_dir)
    plain, notice = record("c", 1, "plain"), record("c", 1, "notice")
    layers = list(range(model.n_layers))
    pair = patch_pair(model, TraceCache(model), notice, plain, None, layers, seed=0)
    pos_n, pos_p = claim_alignment(model.tokenizer, notice, plain)
    cache = cache_residuals(model, prompt_ids(model, notice.text))[:, 0]
    readout = belief_readout(model)
    for layer in layers:
        logits = run_with_patch(model, prompt_ids(model, plain.text), None, {layer: (pos_p, cache[layer, pos_n])})
        expected = float(readout(logits[:, -1])[0])
        assert pair.margins[TO_PLAIN][layer] == pytest.approx(expected, abs=1e-4)
    assert pair.plain == pytest.approx(float(readout(run_with_patch(model, prompt_ids(model, plain.text))[:, -1])[0]),
                                       abs=1e-4)


def test_only_pairs_with_a_guarded_gap_are_patched():
    """The NIE is never divided by a gap above -min_effect (signed: a wrong-signed pair, however large, is not
    patched): such paraphrases are dropped, with a note."""
    records = {(c, p, k): object() for c in ("a", "b") for p in ("0", "1", "2", "10") for k in ("plain", "notice")}
    gaps = {("a", "0"): -2.0, ("a", "1"): -0.2, ("a", "2"): 1.5, ("a", "10"): -1.0,
            ("b", "0"): -3.0, ("b", "1"): -3.0, ("b", "2"): -3.0, ("b", "10"): float("nan")}
    pairs, notes = usable_pairs(records, "notice", ["a", "b"], gaps, min_effect=1.0)
    assert pairs == [("a", "0"), ("a", "10"), ("b", "0"), ("b", "1"), ("b", "2")]
    assert notes == ["a: 2 of 4 paraphrases patched (gap <= -1 nats)", "b: 3 of 4 paraphrases patched (gap <= -1 nats)"]
    pairs, _ = usable_pairs(records, "notice", ["b"], gaps, min_effect=1.0, max_paraphrases=2)
    assert pairs == [("b", "0"), ("b", "1")]


def test_the_attribution_screen_finds_the_late_route_and_is_confirmed_exactly():
    """Past the hand-off the effect sits linearly in the last token's residual: attribution patching ranks those
    cells first with the exact effect (the whole gap); before it the route runs through a max, which a gradient
    misses (AtP's known blind spot): its estimate there is 0, and only the exact confirmation of the top 50 shows
    that those cells carry the whole gap."""
    handoff = 3
    result = _run(planted_model(n_layers=6, handoff=handoff), steer_slot=5)
    assert set(result.screens) == {"notice", "dense", "local"}
    for screen in result.screens.values():
        assert screen.k == 50 and len(screen.pairs) == 8 and screen.n_claims == 2
        for pair in screen.pairs:
            last = max(c[1] for c in pair.cells)
            top = [(c[0], c[1]) for c in pair.cells[: 6 - handoff]]
            assert sorted(top) == [(layer, last) for layer in range(handoff, 6)]
            np.testing.assert_allclose(pair.exact[: 6 - handoff], pair.gap, atol=1e-5)
            np.testing.assert_allclose(pair.estimate[: 6 - handoff], pair.exact[: 6 - handoff], atol=1e-5)
            assert pair.n_grid_cells > 6 * 10 and pair.tokens[0] == "<unk>"
            # exact patching of the screened cells finds what the gradient missed: early claim tokens carry the gap
            missed = [i for i, c in enumerate(pair.cells) if c[0] < handoff and abs(pair.exact[i] - pair.gap) < 1e-5]
            assert missed and np.allclose(pair.estimate[missed], 0.0, atol=1e-6)
        low, value, high = (float(v) for v in (screen.spearman.ci_low, screen.spearman.value, screen.spearman.ci_high))
        assert -1 - 1e-9 <= low <= value + 1e-9 and value <= high + 1e-9 and high <= 1 + 1e-9
    assert _run(planted_model(effect=+3.0), steer_slot=4).screens == {}
    off = _run(planted_model(n_layers=6, handoff=handoff), SimpleNamespace(**vars(CONFIG), attribution_cells=0),
               steer_slot=5)
    assert off.screens == {} and set(off.patching) == {"notice", "dense", "local"}
