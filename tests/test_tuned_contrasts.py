"""In-context matched-contrast decodability per fine-tuned model and its difference from the base (issue 15, deliverable 5)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from negprobe.analysis.annotation import cv_inflation, fold_mean_ci, layer_ranges, simultaneous_band
from negprobe.analysis.contrasts import ContrastKey, matched_contrasts
from negprobe.analysis.tuned_contrasts import (
    BASE,
    TABLE_COLUMNS,
    compare_with_base,
    in_context_curves,
    in_context_reads,
)
from negprobe.errors import NegprobeError
from negprobe.probes.resampling import bootstrap_mean
from tests.synthetic_stores import planted_store
from tests.tiny_models import make_tiny_model

pytestmark = pytest.mark.usefixtures("one_thread")

NOTICE = ContrastKey("notice", "neutral", "restated claim")
K = 2  # the first block the planted fine-tuning edits


def synthetic_curves(planted, seed: int = 0, n_claims: int = 4):
    """Curves of a synthetic store; the same ``seed`` gives the same rows and noise, so stores differ only in ``planted``."""
    store, _, _ = planted_store(planted, read="statement", seed=seed, n_claims=n_claims, n_paraphrases=4)
    return matched_contrasts({"statement": store}, None, None, n_boot=200, probe="mass_mean")


def test_a_planted_direction_from_layer_k_on_gives_a_difference_from_k_on_only():
    """Base: no notice direction; fine-tuned: the notice rows carry one from layer K on (becomes decodable); and a
    base with the direction at every layer against a fine-tuned model that keeps it before K only (stops being
    decodable). minus_base is exactly 0 before K and clearly positive / negative from K on, with CIs that
    exclude 0; the CI is the bootstrap over claims of the per-fold (per-claim) differences, widened by the
    Nadeau-Bengio factor."""
    result = compare_with_base({BASE: synthetic_curves({}), "gains": synthetic_curves({"notice": (range(K, 8), 4.0)})})
    gains = result.get("gains", NOTICE).minus_base
    np.testing.assert_array_equal(gains.value[:K], 0.0)
    np.testing.assert_array_equal(gains.ci_low[:K], 0.0)
    assert (gains.value[K:] > 0.3).all() and (gains.ci_low[K:] > 0).all()
    changed = result.get("gains", NOTICE).changed  # the simultaneous band over 8 layers and 4 claims: conservative
    assert not changed[:K].any() and changed[K:].any() and changed.sum() <= (gains.ci_low > 0).sum()
    lost = compare_with_base({BASE: synthetic_curves({"notice": (range(8), 4.0)}),
                              "loses": synthetic_curves({"notice": (range(K), 4.0)})})
    loses = lost.get("loses", NOTICE).minus_base
    np.testing.assert_array_equal(loses.value[:K], 0.0)
    assert (loses.value[K:] < -0.3).all() and (loses.ci_high[K:] < 0).all()
    assert (lost.curves[BASE][NOTICE].fold_auroc == 1.0).all()  # the base at the ceiling: the line says so
    assert lost.lines()[0].endswith("the base is at AUROC 1 in every fold at 8 of 8 layers, where a rise cannot show")
    assert "cannot show" not in result.lines()[0]
    base, tuned = result.curves[BASE][NOTICE], result.curves["gains"][NOTICE]
    assert base.folds == tuned.folds and len(base.folds) == 4 and result.get("gains", NOTICE).unit == "claim"
    diff = tuned.fold_auroc - base.fold_auroc  # independent reference: the paired fold differences by hand
    factor = cv_inflation(base.fold_rows)
    mean, low, high = bootstrap_mean((diff.mean(0) + factor * (diff - diff.mean(0))).T, n_boot=1000, seed=0)
    band_low, band_high = simultaneous_band(diff, base.fold_rows)
    np.testing.assert_array_equal(changed, (band_low > 0) | (band_high < 0))
    np.testing.assert_allclose(gains.value, mean)
    np.testing.assert_allclose(gains.ci_low, np.clip(low, -1, 1))
    np.testing.assert_allclose(gains.ci_high, np.clip(high, -1, 1))
    assert result.get("gains", ContrastKey("neutral", "plain", "restated claim")).changed.sum() == 0
    table = result.table()
    assert tuple(table.columns) == TABLE_COLUMNS and set(table["model"]) == {"base", "gains"}
    assert len(table) == 2 * len(result.curves[BASE]) * 8
    line = result.lines()[0]
    assert line.startswith("decodability in context, gains: notice vs neutral (restated claim) minus base, largest ")
    assert f"changed (simultaneous band excludes 0) at {layer_ranges(list(range(8)), changed)} (4 claims)" in line


def test_a_curve_without_fold_rows_gets_its_difference_without_a_ci_and_mismatched_curves_are_refused():
    from dataclasses import replace

    base, tuned = synthetic_curves({}), synthetic_curves({"notice": (range(K, 8), 4.0)})
    bare = {key: replace(curve, fold_rows=()) for key, curve in tuned.items()}
    d = compare_with_base({BASE: base, "t": bare}).get("t", NOTICE).minus_base
    np.testing.assert_allclose(d.value, bare[NOTICE].fold_auroc.mean(0) - base[NOTICE].fold_auroc.mean(0))
    assert np.isnan(d.ci_low).all() and np.isnan(d.ci_high).all() and not compare_with_base(
        {BASE: base, "t": bare}).get("t", NOTICE).changed.any()
    np.testing.assert_allclose(fold_mean_ci(base[NOTICE].fold_auroc, base[NOTICE].fold_rows, 200, 0, (0, 1)).ci_low,
                               base[NOTICE].auroc.ci_low)  # the difference's CI is drawn as the curve's own
    with pytest.raises(NegprobeError, match="different layers or folds"):
        compare_with_base({BASE: base, "t": synthetic_curves({}, n_claims=3)})
    with pytest.raises(NegprobeError, match="lack the base"):
        compare_with_base({"t": tuned})
    with pytest.raises(NegprobeError, match="other contrasts"):
        compare_with_base({BASE: base, "t": {NOTICE: tuned[NOTICE]}})


@pytest.fixture(scope="module")
def reads():
    """The ed_sheeran restated-claim rows (one claim: folds over its 10 paraphrases)."""
    return {"statement": in_context_reads(["ed_sheeran"])["statement"]}


def lora_adapter(base_dir, folder, block: int | None):
    """A LoRA adapter on the attention output projections: all zero (``block=None``: the base function exactly),
    or hand-set to random weights at ``block`` only (a fine-tuning that edits that block alone)."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from negprobe.activations.models import load_model, write_adapter_card

    blocks = [block if block is not None else 0]
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(base_dir),
                           LoraConfig(r=4, lora_alpha=4, target_modules=["o_proj"], layers_to_transform=blocks))
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_" in name:
                param.copy_(torch.zeros_like(param) if block is None and "lora_B" in name
                            else torch.randn(param.shape, generator=generator))
    model.save_pretrained(folder)
    write_adapter_card(folder, load_model(base_dir))
    return folder


def test_an_adapter_that_lets_block_k_read_the_context_makes_the_notice_decodable_from_k_on(reads, tmp_path):
    """Base: a tiny model whose attention outputs are all zero, so the read token sees no context and every
    contrast sits at chance (AUROC 0.5) at every layer. Fine-tuned: a LoRA adapter that gives block K's
    attention an output (hand-set): the notice reaches the restated claim from layer K on. minus_base is
    exactly 0 before K (the two models compute the same residuals there) and +0.5 from K on."""
    from transformers import AutoModelForCausalLM

    from negprobe.activations.model_pair import load_pair
    from negprobe.activations.models import load_model

    tiny = make_tiny_model(tmp_path / "tiny", "llama", seed=0, layers=4, max_positions=512)
    blind = AutoModelForCausalLM.from_pretrained(tiny)
    with torch.no_grad():
        for layer in blind.model.layers:
            layer.self_attn.o_proj.weight.zero_()
    blind.save_pretrained(tiny)  # same folder: the tokenizer stays, the fingerprint follows the new weights
    pair = load_pair(tiny, lora_adapter(tiny, tmp_path / "adapter", K), label="edit")
    store = str(tmp_path / "store")
    curves = {BASE: in_context_curves(load_model(tiny), reads, store=store, n_boot=100, probe="mass_mean"),
              "edit": in_context_curves(pair.tuned, reads, store=store, n_boot=100, probe="mass_mean")}
    result = compare_with_base(curves)
    for key, curve in curves[BASE].items():
        np.testing.assert_array_equal(curve.auroc.value, 0.5)
        d = result.get("edit", key).minus_base
        np.testing.assert_array_equal(d.value[:K], 0.0)
    for key in (NOTICE, ContrastKey("dense", "dense_neutral", "restated claim")):
        d = result.get("edit", key).minus_base
        assert (d.value[K:] >= 0.4).all() and (d.ci_low[K:] > 0).all(), (key, d.value)
        assert np.flatnonzero(result.get("edit", key).changed).tolist() == [K, K + 1]
    assert result.get("edit", NOTICE).unit == "paraphrase" and result.get("edit", NOTICE).n_folds == 10


def test_the_base_against_itself_through_a_zero_adapter_changes_nothing_at_any_layer(reads, tmp_path):
    """A LoRA adapter whose update is exactly zero: its activations are cached separately (the store key holds the
    adapter's fingerprint) and the curves recomputed, yet minus_base is 0 at every layer of every contrast,
    while the base itself decodes some contrast (so the test could see a difference)."""
    from negprobe.activations.model_pair import load_pair
    from negprobe.activations.models import load_model

    tiny = make_tiny_model(tmp_path / "tiny", "llama", seed=0, layers=3, max_positions=512)
    pair = load_pair(tiny, lora_adapter(tiny, tmp_path / "zero", None), label="zero")
    base = load_model(tiny)
    assert pair.tuned.fingerprint != base.fingerprint
    store = str(tmp_path / "store")
    result = compare_with_base({BASE: in_context_curves(base, reads, store=store, n_boot=100, probe="mass_mean"),
                                "zero": in_context_curves(pair.tuned, reads, store=store, n_boot=100, probe="mass_mean")})
    assert any((c.auroc.value != 0.5).any() for c in result.curves[BASE].values())
    for key in result.curves[BASE]:
        d = result.get("zero", key).minus_base
        np.testing.assert_array_equal(d.value, 0.0)
        np.testing.assert_array_equal(d.ci_low, 0.0)
        np.testing.assert_array_equal(d.ci_high, 0.0)
        assert not result.get("zero", key).changed.any()
    assert len(list((tmp_path / "store").iterdir())) >= 2  # two stores: one per fingerprint


def test_the_finetuned_report_reads_the_change_per_layer_with_its_gate(tmp_path):
    """contrasts_by_model.csv -> one per-layer series: the primary notice contrast (vs its neutral twin) at the
    restated claim, the mean over the fine-tuned models' minus_base, gated on their simultaneous bands."""
    from negprobe.analysis.finetuned_report import findings_paragraph
    from negprobe.analysis.finetuned_series import CONTRASTS, contrasts_series

    base, late = synthetic_curves({}), synthetic_curves({"notice": (range(K, 8), 8.0)})
    result = compare_with_base({BASE: base, "s0": late, "s1": late})
    result.table().to_csv(tmp_path / "c.csv", index=False)
    s = contrasts_series(tmp_path / "c.csv")
    d = result.get("s0", NOTICE)
    np.testing.assert_allclose(s.value, d.minus_base.value)
    np.testing.assert_allclose(s.low, d.minus_base.ci_low)
    assert s.passed and s.band == "envelope of 2 models' 95% CIs" and "2 of 2 model(s)" in s.reason
    assert s.marker is None and not d.changed[K:].all()  # 4 claims: the simultaneous band does not hold to the end
    assert s.ylabel == "AUROC change, notice vs neutral"
    table = result.table()
    table["changed"] = table["layer"] >= K + 1  # planted: every model's band excludes 0 from layer K + 1 on
    table.to_csv(tmp_path / "planted.csv", index=False)
    assert contrasts_series(tmp_path / "planted.csv").marker == K + 1
    table.loc[(table["model"] == "s1") & (table["layer"] == 7), "changed"] = False  # one model drops at the last layer
    table.to_csv(tmp_path / "planted.csv", index=False)
    assert contrasts_series(tmp_path / "planted.csv").marker is None
    assert "fine-tuning changes the annotation's decodability: notice vs neutral at the restated claim" in \
        findings_paragraph({CONTRASTS: s})
    compare_with_base({BASE: base, "same": base}).table().to_csv(tmp_path / "same.csv", index=False)
    same = contrasts_series(tmp_path / "same.csv")
    assert not same.passed and "in any of 1 model(s) (change +0.000 to +0.000)" in same.reason
    assert "decodability, fine-tuned - base: nothing to localise" in findings_paragraph({CONTRASTS: same})
    with pytest.raises(NegprobeError, match="no fine-tuned model's local contrast"):
        contrasts_series(tmp_path / "same.csv", "local", "document claim")  # synthetic stores: statements only
    with pytest.raises(NegprobeError, match="use one of notice, dense, local"):
        contrasts_series(tmp_path / "same.csv", "negated")
