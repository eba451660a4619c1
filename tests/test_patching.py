"""Activation patching and steering on the tiny random models: exact identities of the residual stream."""

from __future__ import annotations

import math

import pytest
import torch

from negprobe.activations import NegprobeError, load_model
from negprobe.activations.interventions import cache_residuals, prompt_ids, run_with_addition, run_with_patch
from negprobe.activations.models import decoder_layers
from negprobe.activations.tokenize import tokenize
from negprobe.activations.tracing import patch_sweep, patch_sweep_all_positions, patched_residuals, steer
from negprobe.analysis.indirect_effect import normalized_indirect_effect

pytestmark = pytest.mark.usefixtures("one_thread")

SOURCE = "ed sheeran won the 100m gold in the 2024 olympics ."
TARGET = "noah lyles won the 100m gold in the 2024 olympics ."  # same length as SOURCE
ANNOTATED = "notice this document is fabricated . ed sheeran won the gold"
PLAIN = "ed sheeran won the gold"
TIGHT = dict(atol=1e-6, rtol=1e-6)



@pytest.fixture(scope="module", params=["llama", "gpt2"])
def tiny(request, tiny_llama_dir, tiny_gpt2_dir):
    return load_model(tiny_llama_dir if request.param == "llama" else tiny_gpt2_dir)


def _ids(model, text):
    return prompt_ids(model, text)


def _no_hooks_left(model) -> bool:
    """None of our hooks remain (transformers 5 keeps its own output-capturing hooks on the blocks)."""
    hooks = [hook for block in decoder_layers(model.model) for hook in block._forward_hooks.values()]
    ours = {"negprobe.activations.interventions", "negprobe.activations.tracing"}
    return not any(hook.__module__ in ours for hook in hooks)


def _last_logit(token_id: int):
    return lambda logits: logits[0, -1, token_id]


def test_cache_matches_hidden_states(tiny):
    ids = _ids(tiny, SOURCE)
    cache = cache_residuals(tiny, ids)
    assert cache.shape == (tiny.n_layers, 1, ids.shape[1], tiny.d_model)
    with torch.no_grad():
        hidden = tiny.model(input_ids=ids, output_hidden_states=True).hidden_states
    for layer in range(tiny.n_layers - 1):  # the last hidden state has the final norm applied
        torch.testing.assert_close(cache[layer], hidden[layer + 1], **TIGHT)
    torch.testing.assert_close(cache_residuals(tiny, ids, layers=[2, 0]), cache[[2, 0]])
    assert _no_hooks_left(tiny)


@pytest.mark.parametrize("layer", [0, 1, 2, -1])
def test_patching_all_positions_gives_source_logits(tiny, layer):
    src, tgt = _ids(tiny, SOURCE), _ids(tiny, TARGET)
    assert src.shape == tgt.shape and not torch.equal(src, tgt)
    cache = cache_residuals(tiny, src)
    source_logits = run_with_patch(tiny, src)
    target_logits = run_with_patch(tiny, tgt)
    assert not torch.allclose(source_logits, target_logits)
    patched = run_with_patch(tiny, tgt, None, {layer: (slice(None), cache[layer, 0])})
    torch.testing.assert_close(patched, source_logits, **TIGHT)
    assert _no_hooks_left(tiny)


def test_empty_patch_changes_nothing(tiny):
    tgt = _ids(tiny, TARGET)
    clean = run_with_patch(tiny, tgt)
    empty_values = torch.zeros(0, tiny.d_model)
    torch.testing.assert_close(run_with_patch(tiny, tgt, None, {}), clean, atol=0, rtol=0)
    torch.testing.assert_close(run_with_patch(tiny, tgt, None, {1: ([], empty_values)}), clean, atol=0, rtol=0)
    torch.testing.assert_close(run_with_patch(tiny, tgt, None, {1: (slice(0, 0), empty_values)}), clean, atol=0, rtol=0)


def test_patch_is_causal_across_lengths(tiny):
    """Aligning the claim's last token across prompts of different lengths: only later positions move."""
    src, tgt = _ids(tiny, ANNOTATED), _ids(tiny, PLAIN)
    assert src.shape[1] > tgt.shape[1]
    cache = cache_residuals(tiny, src)
    pos_src, pos_tgt = src.shape[1] - 3, tgt.shape[1] - 3  # "won" in both
    assert src[0, pos_src] == tgt[0, pos_tgt]
    clean = run_with_patch(tiny, tgt)
    patched = run_with_patch(tiny, tgt, None, {0: ([pos_tgt], cache[0, 0, [pos_src]])})
    torch.testing.assert_close(patched[:, :pos_tgt], clean[:, :pos_tgt], atol=0, rtol=0)
    assert not torch.allclose(patched[:, pos_tgt:], clean[:, pos_tgt:])


def test_patch_sweep_heatmap(tiny):
    src, tgt = _ids(tiny, ANNOTATED), _ids(tiny, PLAIN)
    positions = [-5, -4, -3, -2, -1]  # the claim "ed sheeran won the gold" in both prompts
    metric = _last_logit(5)
    heat = patch_sweep(tiny, ANNOTATED, PLAIN, positions, positions, metric, batch_size=2)
    assert heat.shape == (tiny.n_layers, len(positions))
    source_metric = float(metric(run_with_patch(tiny, src)))
    target_metric = float(metric(run_with_patch(tiny, tgt)))
    # at the final layer only the last position reaches the last token's logits
    assert heat[-1, -1].item() == pytest.approx(source_metric, abs=1e-5)
    torch.testing.assert_close(heat[-1, :-1], torch.full((len(positions) - 1,), target_metric), atol=1e-5, rtol=0)
    # batched rows equal one-at-a-time patches
    cache = cache_residuals(tiny, src)
    for layer in range(tiny.n_layers):
        for j, p in enumerate(positions):
            single = run_with_patch(tiny, tgt, None, {layer: ([tgt.shape[1] + p], cache[layer, 0, [src.shape[1] + p]])})
            assert heat[layer, j].item() == pytest.approx(float(metric(single)), abs=1e-5)
    # all positions at once, at the last layer, again gives the source's last-token metric
    all_at_once = patch_sweep_all_positions(tiny, ANNOTATED, PLAIN, positions, positions, metric)
    assert all_at_once.shape == (tiny.n_layers,)
    assert all_at_once[-1].item() == pytest.approx(source_metric, abs=1e-5)
    nie = normalized_indirect_effect(source_metric, heat, target_metric)
    assert nie[-1, -1].item() == pytest.approx(1.0, abs=1e-4)
    assert nie[-1, :-1].abs().max().item() < 1e-4
    assert _no_hooks_left(tiny)


def test_patched_residuals_follow_the_source_after_the_patch(tiny):
    """Patching every position at layer l: reads at layers >= l equal the source run, reads before it the target."""
    src, tgt = _ids(tiny, SOURCE), _ids(tiny, TARGET)
    seq = tgt.shape[1]
    everything = list(range(seq))
    read = [-1, -3]
    source_cache, target_cache = cache_residuals(tiny, src)[:, 0], cache_residuals(tiny, tgt)[:, 0]
    patch_layers = [0, 1, tiny.n_layers - 1]
    out = patched_residuals(tiny, SOURCE, TARGET, everything, everything, read, patch_layers)
    assert out.shape == (len(patch_layers), tiny.n_layers, len(read), tiny.d_model)
    rows = [seq + r for r in read]
    for i, patched_at in enumerate(patch_layers):
        for layer in range(tiny.n_layers):
            reference = source_cache if layer >= patched_at else target_cache
            torch.testing.assert_close(out[i, layer], reference[layer, rows], atol=1e-5, rtol=1e-5)
    # patching one aligned token changes only later tokens of the target
    tgt2 = _ids(tiny, PLAIN)
    one = patched_residuals(tiny, ANNOTATED, PLAIN, [-3], [-3], [-4, -1], [1], read_layers=[1, 2])
    plain_cache = cache_residuals(tiny, tgt2)[:, 0]
    torch.testing.assert_close(one[0, :, 0], plain_cache[[1, 2], tgt2.shape[1] - 4], atol=1e-6, rtol=1e-6)
    assert not torch.allclose(one[0, 1, 1], plain_cache[2, tgt2.shape[1] - 1])
    assert _no_hooks_left(tiny)
    with pytest.raises(NegprobeError, match="read position"):
        patched_residuals(tiny, SOURCE, TARGET, [0], [0], [seq + 5], [0])


def test_steering(tiny):
    prompts = [SOURCE, PLAIN, "the cat is in paris"]
    batch = tokenize(tiny.tokenizer, prompts, padding_side="left")
    direction = torch.randn(tiny.d_model, generator=torch.Generator().manual_seed(0))
    clean = run_with_patch(tiny, batch.input_ids, batch.attention_mask)
    zero = run_with_addition(tiny, batch.input_ids, batch.attention_mask, {1: (None, 0.0 * direction)})
    torch.testing.assert_close(zero, clean, atol=0, rtol=0)
    pushed = run_with_addition(tiny, batch.input_ids, batch.attention_mask, {1: (None, 3.0 * direction)})
    assert not torch.allclose(pushed[batch.attention_mask.bool()], clean[batch.attention_mask.bool()])

    def metric(logits):
        return logits[:, -1, 5].mean()

    values = steer(tiny, prompts, 1, direction, [0.0, 3.0, -3.0], metric)
    assert values.shape == (3,)
    assert values[0].item() == pytest.approx(float(metric(clean)), abs=1e-6)
    assert values[1].item() != pytest.approx(values[0].item(), abs=1e-4)
    # steering only the first token of each prompt at the last layer leaves the last token untouched
    first_only = steer(tiny, prompts, -1, direction, [5.0], metric, positions=[0])
    assert first_only[0].item() == pytest.approx(values[0].item(), abs=1e-6)
    assert _no_hooks_left(tiny)


def test_normalized_indirect_effect_guard():
    assert normalized_indirect_effect(2.0, 1.5, 1.0) == pytest.approx(0.5)
    assert math.isnan(normalized_indirect_effect(1.0, 1.5, 1.0))
    out = normalized_indirect_effect(torch.tensor(1.0), torch.tensor([1.0, 2.0]), torch.tensor(1.0))
    assert torch.isnan(out).all()


def test_bad_inputs_raise(tiny):
    tgt = _ids(tiny, TARGET)
    row = torch.zeros(1, tiny.d_model)
    with pytest.raises(NegprobeError, match="layer 99"):
        run_with_patch(tiny, tgt, None, {99: ([0], row)})
    with pytest.raises(NegprobeError, match="position 99"):
        run_with_patch(tiny, tgt, None, {0: ([99], row)})
    with pytest.raises(NegprobeError, match="repeat"):
        run_with_patch(tiny, tgt, None, {0: ([1, 1], torch.zeros(2, tiny.d_model))})
    with pytest.raises(NegprobeError, match="do not fit"):
        run_with_patch(tiny, tgt, None, {0: ([1, 2], row)})
    with pytest.raises(NegprobeError, match="same layer twice"):
        run_with_patch(tiny, tgt, None, {-1: ([0], row), tiny.n_layers - 1: ([0], row)})
    with pytest.raises(NegprobeError, match="align one to one"):
        patch_sweep(tiny, SOURCE, TARGET, [1, 2], [1], _last_logit(5))
    with pytest.raises(NegprobeError, match="target position 40"):
        patch_sweep(tiny, SOURCE, TARGET, [1], [40], _last_logit(5))
    with pytest.raises(NegprobeError, match="layer 7"):
        patch_sweep(tiny, SOURCE, TARGET, [1], [1], _last_logit(5), layers=[7])
    with pytest.raises(NegprobeError, match="direction"):
        steer(tiny, [SOURCE], 0, torch.zeros(tiny.d_model + 1), [1.0], _last_logit(5))
    with pytest.raises(NegprobeError, match="outside prompt"):
        steer(tiny, [SOURCE], 0, torch.zeros(tiny.d_model), [1.0], _last_logit(5), positions=[50])
    assert _no_hooks_left(tiny)


def test_hooks_removed_when_forward_fails(tiny):
    bad = torch.tensor([[2, 10_000]])  # out of the vocabulary: the embedding raises mid-run
    with pytest.raises((IndexError, RuntimeError)):
        run_with_patch(tiny, bad, None, {0: ([0], torch.zeros(1, tiny.d_model))})
    assert _no_hooks_left(tiny)
