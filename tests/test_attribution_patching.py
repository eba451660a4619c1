"""Attribution patching against exact patching (full forward passes with hooks as the reference)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from negprobe.activations import NegprobeError, load_model
from negprobe.activations.attribution_patching import (
    attribution_grid,
    attribution_patching,
    compare_with_exact,
    exact_patching,
    screen_then_confirm,
)
from negprobe.activations.interventions import prompt_ids, run_with_patch
from negprobe.activations.models import unwrap
from negprobe.activations.prefix_reuse import trace_prompt
from negprobe.analysis.prerequisite import belief_readout
from negprobe.analysis.token_alignment import grid_alignment
from tests.planted_lm import record

pytestmark = pytest.mark.usefixtures("one_thread")

TARGET = "ed sheeran won the 100m gold in the 2024 olympics . the cat is in paris and the dog is in france"
SOURCE = "notice this document is fabricated . ed sheeran won the 100m gold in the 2024 olympics . the cat"
TARGET_POS, SOURCE_POS = list(range(1, 14)), list(range(6, 19))  # "ed ... the cat" in both


@pytest.fixture(scope="module", params=["llama", "gpt2"])
def tiny(request, tiny_llama_dir, tiny_gpt2_dir):
    return load_model(tiny_llama_dir if request.param == "llama" else tiny_gpt2_dir)


def _logit_diff(model):
    yes, no = model.tokenizer.convert_tokens_to_ids(["yes", "no"])
    return lambda logits: logits[:, yes] - logits[:, no]


def _reference(model, target_ids, cells, values, metric):
    """Exact effects by one full forward pass per cell (hooks), the independent reference."""
    clean = float(metric(run_with_patch(model, target_ids, last_only=True)[:, -1]))
    return np.array([float(metric(run_with_patch(model, target_ids, None, {layer: ([t], values[i][None])},
                                                 last_only=True)[:, -1])) - clean
                     for i, (layer, t) in enumerate(cells)])


@pytest.mark.parametrize("arch", ["llama", "gpt2"])
def test_equals_exact_patching_where_the_metric_is_linear_in_the_patch(arch, tiny_llama_dir, tiny_gpt2_dir):
    model = load_model(tiny_llama_dir if arch == "llama" else tiny_gpt2_dir)
    net = unwrap(model.model)
    if arch == "llama":
        net.model.norm = torch.nn.Identity()
    else:
        net.transformer.ln_f = torch.nn.Identity()
    metric, last = _logit_diff(model), model.n_layers - 1
    target, source = prompt_ids(model, TARGET), prompt_ids(model, SOURCE)
    positions = list(range(target.shape[1]))  # every target token, the last one included
    src_positions = [min(p + 5, source.shape[1] - 1) for p in positions]
    grid = attribution_patching(model, target, source, positions, src_positions, metric, layers=[last])
    values = trace_prompt(model, source).residuals[last, src_positions]
    exact = _reference(model, target, [(last, t) for t in positions], values, metric)
    assert abs(exact[-1]) > 1e-3  # the last token's patch moves the metric: the comparison has teeth
    np.testing.assert_allclose(grid.effects[0], exact, atol=1e-5, rtol=1e-4)
    np.testing.assert_allclose(grid.effects[0, :-1], 0.0, atol=1e-7)  # earlier tokens of the last block reach nothing


def test_first_order_error_vanishes_with_the_size_of_the_patch(tiny):
    """Patching ``h + eps * noise`` everywhere: the estimate's error is second order, so it shrinks ~eps^2 while the
    effect shrinks ~eps (a wrong sign, layer or position would leave a first-order error)."""
    metric, target = _logit_diff(tiny), prompt_ids(tiny, TARGET)
    trace = trace_prompt(tiny, target)
    layers = list(range(tiny.n_layers - 1))
    noise = torch.randn(trace.residuals.shape, generator=torch.Generator().manual_seed(0))[layers][:, TARGET_POS]
    cells = [(layer, t) for layer in layers for t in TARGET_POS]
    errors = []
    for eps in (0.4, 0.1):
        values = trace.residuals[layers][:, TARGET_POS] + eps * noise * trace.residuals.std()
        grid = attribution_grid(tiny, target, TARGET_POS, values, metric, layers)
        exact = _reference(tiny, target, cells, values.reshape(-1, tiny.d_model), metric)
        assert np.abs(exact).max() > 1e-4
        errors.append(np.abs(grid.effects.ravel() - exact).max() / np.abs(exact).max())
    assert errors[1] < 0.5 * errors[0]  # relative error ~ eps: shrinks 4x from eps 0.4 to 0.1
    assert errors[1] < 0.1


def test_tracks_exact_patching_of_another_prompt(tiny):
    metric = _logit_diff(tiny)
    target, source = prompt_ids(tiny, TARGET), prompt_ids(tiny, SOURCE)
    grid = attribution_patching(tiny, target, source, TARGET_POS, SOURCE_POS, metric)
    cells = grid.cells()
    exact = exact_patching(tiny, trace_prompt(tiny, target), trace_prompt(tiny, source), cells, metric)
    values = trace_prompt(tiny, source).residuals[[c[0] for c in cells], [c[2] for c in cells]]
    np.testing.assert_allclose(exact, _reference(tiny, target, [c[:2] for c in cells], values, metric), atol=1e-5)
    early = slice(0, -len(TARGET_POS))  # the last block's row: both ~0 off the last token (ties)
    agreement = compare_with_exact(grid.effects.ravel()[early], exact[early], k=10)
    assert agreement.spearman > 0.5 and agreement.top_k >= 0.5  # chance: ~0 and 10/26
    shuffled = np.random.default_rng(0).permutation(grid.effects.ravel()[early])
    assert compare_with_exact(shuffled, exact[early]).spearman < agreement.spearman - 0.3


def test_a_source_equal_to_the_target_gives_a_zero_grid(tiny):
    ids = prompt_ids(tiny, TARGET)
    grid = attribution_patching(tiny, ids, ids, TARGET_POS, TARGET_POS, _logit_diff(tiny))
    assert grid.effects.shape == (tiny.n_layers, len(TARGET_POS))
    np.testing.assert_allclose(grid.effects, 0.0, atol=1e-7)
    assert grid.clean_metric == pytest.approx(float(_logit_diff(tiny)(trace_prompt(tiny, ids).last_logits[None])),
                                              abs=1e-5)


def test_compare_with_exact_on_planted_rankings():
    exact = np.array([[5.0, -4.0, 0.1, np.nan], [0.2, 3.0, -0.3, 0.0]])
    same = compare_with_exact(2 * exact + 1, exact, k=3)
    assert same.spearman == pytest.approx(1.0) and same.top_k == 1.0 and same.n_cells == 7
    estimate = np.nan_to_num(exact, nan=99.0)  # an uncovered cell never counts, however large its estimate
    assert compare_with_exact(estimate, exact, k=3).top_k == 1.0
    reversed_ = compare_with_exact(-exact, exact, k=3)
    assert reversed_.spearman == pytest.approx(-1.0) and reversed_.top_k == 1.0  # top-k ranks |effect|
    swapped = np.array([[0.1, -4.0, 5.0, 0.0], [0.2, 3.0, -0.3, 0.0]])  # exact's largest cell estimated small
    assert compare_with_exact(swapped, exact, k=1).top_k == 0.0
    assert compare_with_exact(swapped, exact, k=3).top_k == pytest.approx(2 / 3)
    with pytest.raises(NegprobeError, match="covered"):
        compare_with_exact(exact, np.full_like(exact, np.nan))
    from scipy.stats import spearmanr

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=50), rng.normal(size=50).round(1)  # ties in b
    assert compare_with_exact(a + b, b).spearman == pytest.approx(spearmanr(a + b, b)[0], abs=1e-12)


def test_screen_then_confirm_patches_the_largest_cells_exactly(tiny):
    annotated, plain = record("ed_sheeran", 0, "notice"), record("ed_sheeran", 0, "plain")
    source_pos, target_pos = grid_alignment(tiny.tokenizer, annotated, plain)
    target, source = prompt_ids(tiny, plain.text), prompt_ids(tiny, annotated.text)
    assert target.shape[1] - 1 in target_pos  # the answer cue is shared text, so it is on the grid
    metric = belief_readout(tiny)
    screen = screen_then_confirm(tiny, target, source, target_pos, source_pos, metric, k=6)
    flat = np.abs(screen.grid.effects).ravel()
    assert len(screen.cells) == 6 and np.all(np.abs(screen.estimate) >= np.sort(flat)[-6] - 1e-12)
    assert np.all(np.diff(np.abs(screen.estimate)) <= 0)  # largest first
    values = trace_prompt(tiny, source).residuals[[c[0] for c in screen.cells], [c[2] for c in screen.cells]]
    np.testing.assert_allclose(screen.exact, _reference(tiny, target, [c[:2] for c in screen.cells], values, metric),
                               atol=1e-5)
    assert np.all(np.sign(screen.exact) == np.sign(screen.estimate))
    assert screen.agreement().n_cells == 6


def test_bad_inputs_raise_one_line_errors(tiny):
    ids = prompt_ids(tiny, TARGET)
    with pytest.raises(NegprobeError, match="one to one"):
        attribution_patching(tiny, ids, ids, [1, 2], [1], _logit_diff(tiny))
    with pytest.raises(NegprobeError, match="target positions"):
        attribution_patching(tiny, ids, ids, [ids.shape[1]], [1], _logit_diff(tiny))


def test_grid_alignment_is_the_claim_and_shared_tokens_with_equal_ids(tiny):
    from negprobe.analysis.token_alignment import claim_alignment, shared_alignment

    annotated, plain = record("ed_sheeran", 1, "notice"), record("ed_sheeran", 1, "plain")
    source_pos, target_pos = grid_alignment(tiny.tokenizer, annotated, plain)
    assert target_pos == sorted(set(target_pos))
    claim_p, shared_p = claim_alignment(tiny.tokenizer, annotated, plain)[1], shared_alignment(tiny.tokenizer, annotated,
                                                                                               plain)[1]
    assert set(target_pos) == (set(claim_p) | set(shared_p)) - {0} and 0 not in source_pos  # never the sink
    ids_a, ids_p = prompt_ids(tiny, annotated.text)[0], prompt_ids(tiny, plain.text)[0]
    assert [int(ids_a[s]) for s in source_pos] == [int(ids_p[t]) for t in target_pos]  # same words, shifted
    assert len(target_pos) == len(ids_p) - 1  # every plain token but the first (no counterpart span) is on the grid


def test_grid_alignment_leaves_out_the_first_token_without_a_bos():
    from tokenizers import processors

    from negprobe.analysis.token_alignment import shared_alignment
    from tests.tiny_models import tiny_tokenizer

    annotated, plain = record("ed_sheeran", 2, "notice"), record("ed_sheeran", 2, "plain")
    no_bos = tiny_tokenizer()
    no_bos.backend_tokenizer.post_processor = processors.TemplateProcessing(single="$A")
    assert 0 in shared_alignment(no_bos, annotated, plain)[1]  # plain's first word is shared text ...
    source_pos, target_pos = grid_alignment(no_bos, annotated, plain)
    assert 0 not in target_pos and 0 not in source_pos  # ... but the sink position is not patched
    with_bos = grid_alignment(tiny_tokenizer(), annotated, plain)
    assert [p - 1 for p in with_bos[1] if p > 1] == target_pos  # otherwise the same grid, one token earlier
