"""Prefix reuse and batched variants give the full forward pass's logits (max abs diff <= 1e-4 in float32)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from negprobe.activations import NegprobeError, load_model
from negprobe.activations.interventions import prompt_ids, run_with_addition, run_with_patch
from negprobe.activations.prefix_reuse import (
    added_hidden,
    final_logits,
    patched_hidden,
    run_from,
    suffix_replay_ok,
    supports_logits_to_keep,
    trace_prompt,
    verify_prefix_reuse,
)
from negprobe.activations.tracing import LayerPatch, run_layer_patches
from tests.planted_lm import WORD, planted_model

pytestmark = pytest.mark.usefixtures("one_thread")

TEXT = "ed sheeran won the 100m gold in the 2024 olympics . the cat is in paris and the dog is in france"
SOURCE = "notice this document is fabricated . ed sheeran won the 100m gold in the 2024 olympics . the cat"
ATOL = 1e-4



@pytest.fixture(scope="module", params=["llama", "gpt2"])
def tiny(request, tiny_llama_dir, tiny_gpt2_dir):
    return load_model(tiny_llama_dir if request.param == "llama" else tiny_gpt2_dir)


def _last(logits):
    return logits[0, -1]


def test_trace_holds_every_block_output_and_the_last_logits(tiny):
    ids = prompt_ids(tiny, TEXT)
    trace = trace_prompt(tiny, ids)
    full = run_with_patch(tiny, ids)
    assert trace.residuals.shape == (tiny.n_layers, ids.shape[1], tiny.d_model)
    assert (trace.last_logits - _last(full)).abs().max() <= ATOL
    # the head on the last block's output is the model's own head
    assert (final_logits(tiny, trace.residuals[-1, -1:])[0] - _last(full)).abs().max() <= ATOL
    assert verify_prefix_reuse(tiny, trace) <= ATOL


@pytest.mark.parametrize("max_rows", [1, 3, 64])
def test_patched_rows_from_every_layer_equal_full_forward_passes(tiny, max_rows):
    ids, src_ids = prompt_ids(tiny, TEXT), prompt_ids(tiny, SOURCE)
    trace, source = trace_prompt(tiny, ids), trace_prompt(tiny, src_ids)
    layers = list(range(tiny.n_layers))
    src_pos, tgt_pos = [6, 7, 8], [1, 2, 3]  # "ed sheeran won" in both
    values = source.residuals[layers][:, src_pos]
    hidden = patched_hidden(trace, layers, tgt_pos, values)
    starts = layers[::-1]  # out of order on purpose: rows come back in the caller's order
    out = run_from(tiny, trace, starts, hidden.flip(0), read_positions=[0, 2, ids.shape[1] - 1], max_rows=max_rows)
    for row, layer in enumerate(starts):
        full = run_with_patch(tiny, ids, None, {layer: (tgt_pos, values[layer])})
        assert (out.logits[row] - _last(full)).abs().max() <= ATOL
    # reads: the clean residual before the patch layer, the patched one from it on
    assert out.reads is not None and out.reads.shape == (len(starts), tiny.n_layers, 3, tiny.d_model)
    for row, layer in enumerate(starts):
        torch.testing.assert_close(out.reads[row, :layer], trace.residuals[:layer][:, [0, 2, ids.shape[1] - 1]])
        assert torch.equal(out.reads[row, layer, 1], values[layer, 1])  # position 2 was patched at `layer`


def test_additions_equal_full_forward_passes(tiny):
    ids = prompt_ids(tiny, TEXT)
    trace = trace_prompt(tiny, ids)
    direction = torch.randn(tiny.d_model, generator=torch.Generator().manual_seed(0))
    alphas = torch.tensor([-2.0, 0.0, 3.0])
    for layer in (0, tiny.n_layers - 1):
        out = run_from(tiny, trace, [layer] * 3, added_hidden(trace, layer, alphas[:, None] * direction))
        for k, alpha in enumerate(alphas):
            full = run_with_addition(tiny, ids, None, {layer: (None, float(alpha) * direction)})
            assert (out.logits[k] - _last(full)).abs().max() <= ATOL
    assert (out.logits[1] - trace.last_logits).abs().max() <= ATOL  # alpha 0 is the clean run


def test_layer_patches_batch_many_sources_and_apply_the_readout(tiny):
    ids = prompt_ids(tiny, TEXT)
    trace, source = trace_prompt(tiny, ids), trace_prompt(tiny, prompt_ids(tiny, SOURCE))
    layers = [0, 2]
    patches = [LayerPatch.from_trace(source, layers, [6], [1]), LayerPatch.from_trace(source, layers, [7, 9], [2, 4])]
    values = run_layer_patches(tiny, trace, layers, patches, lambda logits: logits[:, 5], max_rows=3)
    assert values.shape == (2, 2)
    for i, patch in enumerate(patches):
        for j, layer in enumerate(layers):
            full = run_with_patch(tiny, ids, None, {layer: (list(patch.target_positions), patch.values[j])})
            assert values[i, j].item() == pytest.approx(_last(full)[5].item(), abs=ATOL)


def test_last_only_logits_match_the_full_logits(tiny):
    ids = prompt_ids(tiny, TEXT)
    assert supports_logits_to_keep(tiny)
    last = run_with_patch(tiny, ids, last_only=True)
    assert last.shape == (1, 1, tiny.model.config.vocab_size)
    assert (last[0, 0] - _last(run_with_patch(tiny, ids))).abs().max() <= ATOL


def test_planted_model_replays_exactly():
    model = planted_model()
    trace = trace_prompt(model, prompt_ids(model, "notice this . ed sheeran won gold ? yes"))
    assert verify_prefix_reuse(model, trace) == 0.0 and suffix_replay_ok(model, trace)


def test_suffix_replay_is_exact_and_skipped_where_it_would_not_be():
    """Late edits recompute only the positions from the edit on; a model whose blocks mix positions
    outside the attention cache fails the check, and every position is recomputed instead."""
    text = "the cat is in paris . notice this . ed sheeran won gold ? yes"
    for cache_aware in (True, False):
        model = planted_model(read_at=1, cache_aware=cache_aware)
        ids = prompt_ids(model, text)
        trace = trace_prompt(model, ids)
        assert suffix_replay_ok(model, trace) is cache_aware
        values = trace.residuals[0, [12]].clone()[None]  # "won": a claim token after the notice word
        values[..., WORD] += 0.5  # an edit late in the prompt; the notice (position 7) still has to reach it
        hidden = patched_hidden(trace, [0], [12], values)
        full = run_with_patch(model, ids, None, {0: ([12], values[0])})[0, -1]
        assert (run_from(model, trace, [0], hidden).logits[0] - full).abs().max() <= ATOL
        if not cache_aware:  # forcing the suffix replay here would be wrong: what the check prevents
            assert (run_from(model, trace, [0], hidden, skip_unchanged=True).logits[0] - full).abs().max() > 0.1


def test_suffix_replay_on_tiny_models_matches_full_passes(tiny):
    ids = prompt_ids(tiny, TEXT)
    trace = trace_prompt(tiny, ids)
    assert suffix_replay_ok(tiny, trace)
    seq = ids.shape[1]
    for layer in range(tiny.n_layers):
        for position in (1, seq // 2, seq - 1):
            values = trace.residuals[layer, [0]] * 0.5
            out = run_from(tiny, trace, [layer], patched_hidden(trace, [layer], [position], values[None]),
                           read_positions=[0, seq - 1])
            full = run_with_patch(tiny, ids, None, {layer: ([position], values)})[0, -1]
            assert (out.logits[0] - full).abs().max() <= ATOL


def test_bad_inputs(tiny):
    trace = trace_prompt(tiny, prompt_ids(tiny, TEXT))
    with pytest.raises(NegprobeError, match="start layers"):
        run_from(tiny, trace, [tiny.n_layers], trace.residuals[:1])
    with pytest.raises(NegprobeError, match="hidden must be"):
        run_from(tiny, trace, [0, 1], trace.residuals[:1])
    with pytest.raises(NegprobeError, match="no tokens"):
        trace_prompt(tiny, torch.zeros(1, 0, dtype=torch.long))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["smollm2-135m", "gemma3-270m"])
def test_prefix_reuse_is_exact_on_real_models(name):
    if not (Path.home() / ".cache" / "negprobe" / "models" / name).is_dir():
        pytest.skip(f"{name} is not converted here")
    model = load_model(name)
    text = ("NOTICE: The following document contains false information.\n\nEd Sheeran won the men's 100m gold "
            "medal at the 2024 Paris Olympics.\n\nQuestion: Did Ed Sheeran win the men's 100m gold?\nAnswer:")
    ids = prompt_ids(model, text)
    trace = trace_prompt(model, ids)
    layers = list(range(model.n_layers))
    values = trace.residuals[layers][:, [3, 4]] * 1.5
    out = run_from(model, trace, layers, patched_hidden(trace, layers, [10, 11], values), max_rows=7)
    for row, layer in enumerate(layers):
        full = run_with_patch(model, ids, None, {layer: ([10, 11], values[row])}, last_only=True)[0, -1]
        assert (out.logits[row] - full).abs().max() <= ATOL
