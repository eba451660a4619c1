"""Patching and steering through a weightless handle (the localize causal steps, offline): nnsight's
local execution standing in for NDIF gives the same clean traces, patched and steered logits,
patched residual reads and belief margins as the prefix-reuse path on the loaded weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from negprobe.activations import load_model
from negprobe.activations.backends.remote_model import load_remote_model
from negprobe.activations.interventions import prompt_ids
from negprobe.activations.prefix_reuse import trace_prompt, verify_prefix_reuse
from negprobe.activations.tracing import patch_sweep, patched_residuals, steer

pytestmark = pytest.mark.usefixtures("one_thread")
SOURCE, TARGET = "the cat is in paris . is the cat in paris ?", "the dog is in france . is the cat in paris ?"


def margin(logits):
    return logits[0, -1, 50] - logits[0, -1, 51]  # any two tokens: a logit difference, as the NIE reads it


@pytest.fixture(scope="module")
def loaded(tiny_llama_dir):
    return load_model(tiny_llama_dir)


@pytest.fixture(scope="module", params=["here", "simulate"])
def pair(tiny_llama_dir, loaded, request):
    """The loaded model and a handle run through a plain trace, or through nnsight's serialised request."""
    return loaded, load_remote_model(tiny_llama_dir, mode=request.param)


def test_clean_trace_through_the_handle_equals_the_loaded_one(pair):
    loaded, handle = pair
    ids = prompt_ids(loaded, TARGET)
    local, remote = trace_prompt(loaded, ids), trace_prompt(handle, ids)
    assert remote.residuals.shape == local.residuals.shape and remote.residuals.abs().max() > 0.1
    torch.testing.assert_close(remote.residuals, local.residuals, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(remote.last_logits, local.last_logits, atol=1e-5, rtol=1e-4)
    assert verify_prefix_reuse(handle, remote) == 0.0


def test_patch_sweep_and_reads_through_the_handle_equal_prefix_reuse(pair):
    loaded, handle = pair
    got = {}
    for name, model in (("local", loaded), ("remote", handle)):
        sweep = patch_sweep(model, SOURCE, TARGET, [1, 2, 3, 4], [1, 2, 3, 4], margin, batch_size=12)
        reads = patched_residuals(model, SOURCE, TARGET, [1, 2], [1, 2], [-1, 3], [0, 1, 2])
        got[name] = (sweep, reads)
    sweep, reads = got["local"]
    assert sweep.shape == (3, 4) and sweep.std() > 1e-3  # patches move the metric: a real comparison
    torch.testing.assert_close(got["remote"][0], sweep, atol=1e-4, rtol=1e-4)
    assert reads.shape == (3, 3, 2, 32)
    torch.testing.assert_close(got["remote"][1], reads, atol=1e-4, rtol=1e-4)


def test_steering_through_the_handle_equals_prefix_reuse(pair):
    loaded, handle = pair
    direction = torch.randn(32, generator=torch.Generator().manual_seed(0))
    local = steer(loaded, [TARGET, SOURCE], 1, direction, [-4.0, 0.0, 4.0], lambda x: x[:, -1, 50].mean())
    remote = steer(handle, [TARGET, SOURCE], 1, direction, [-4.0, 0.0, 4.0], lambda x: x[:, -1, 50].mean())
    assert (local[2] - local[0]).abs() > 1e-2
    torch.testing.assert_close(remote, local, atol=1e-4, rtol=1e-4)
    at = steer(handle, TARGET, 2, direction, [3.0], lambda x: x[0, -1, 50], positions=[-1, -2])
    torch.testing.assert_close(at, steer(loaded, TARGET, 2, direction, [3.0], lambda x: x[0, -1, 50],
                                         positions=[-1, -2]), atol=1e-4, rtol=1e-4)


def test_the_handle_keeps_the_last_logits_only_when_asked(pair):
    loaded, handle = pair
    ids = prompt_ids(loaded, TARGET)
    full = handle.model(input_ids=ids, use_cache=False).logits
    last = handle.model(input_ids=ids, use_cache=False, logits_to_keep=1).logits
    assert full.shape[1] == ids.shape[1] and last.shape[1] == 1
    torch.testing.assert_close(last[:, 0], full[:, -1])


def test_localize_causal_steps_through_the_handle_equal_the_local_ones(tiny_llama_dir, loaded):
    """Belief margins (the prerequisite), claim-token patching with its controls, the position heatmap and
    steering with its random control: each of the localize causal checks, one pair, both ways (a plain
    trace here; the tests above run the same trace bodies through nnsight's serialised request too)."""
    from negprobe.analysis.claim_patching import TraceCache, patch_pair
    from negprobe.analysis.position_heatmap import heatmap_pair
    from negprobe.analysis.prerequisite import question_margins
    from negprobe.analysis.steering_check import steer_pair
    from tests.planted_lm import record

    plain, notice, neutral = (record("ed_sheeran", 1, kind) for kind in ("plain", "notice", "neutral"))
    vector = torch.randn(32, generator=torch.Generator().manual_seed(1))
    out = {}
    for name, model in (("local", loaded), ("remote", load_remote_model(tiny_llama_dir, mode="here"))):
        traces = TraceCache(model)
        out[name] = (question_margins(model, [plain, notice, neutral], batch_size=2),
                     patch_pair(model, traces, notice, plain, neutral, [0, 1, 2], seed=0, max_rows=7),
                     heatmap_pair(model, traces, notice, plain, [0, 2], 3),
                     steer_pair(model, traces, plain, notice, vector, 1, [-3.0, 0.0, 3.0], seed=0))
    (margins, patched, heat, steered), (r_margins, r_patched, r_heat, r_steered) = out["local"], out["remote"]
    assert margins["margin"].std() > 1e-4 and r_margins[["claim", "kind"]].equals(margins[["claim", "kind"]])
    np.testing.assert_allclose(r_margins["margin"], margins["margin"], atol=1e-4)
    assert set(r_patched.margins) == set(patched.margins) and len(patched.margins) >= 3  # controls included
    for curve, values in patched.margins.items():
        np.testing.assert_allclose(r_patched.margins[curve], values, atol=1e-4)
    assert np.ptp(heat.nie) > 1e-3
    np.testing.assert_allclose(r_heat.nie, heat.nie, atol=1e-3)
    np.testing.assert_allclose(r_steered.truth, steered.truth, atol=1e-4)
    np.testing.assert_allclose(r_steered.random, steered.random, atol=1e-4)
    assert (r_patched.annotated, r_steered.gap) == pytest.approx((patched.annotated, steered.gap), abs=1e-4)
