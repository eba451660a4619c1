"""The behavioural prerequisite per fine-tuned model and its change from the base (issue 15, deliverable 5)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from negprobe.analysis.claim_level import t_interval
from negprobe.analysis.tuned_prerequisite import from_margins, in_context_questions, margin_change, tuned_prerequisite
from negprobe.errors import NegprobeError
from tests.test_prerequisite import planted_margins


def test_the_change_is_the_paired_difference_in_differences_pooled_over_claims():
    """Base: the notice lowers belief by 2 nats; fine-tuned: by 0.5. The change (+1.5) is the claim mean of
    each claim's paraphrase mean of (t_notice - t_plain) - (b_notice - b_plain), with a t CI over claims."""
    base = planted_margins({"notice": -2.0, "neutral": 0.0}, seed=0)
    tuned = planted_margins({"notice": -0.5, "neutral": 0.0}, seed=1)
    result = from_margins({"base": base, "pos": tuned})
    assert set(result.per_model["base"].gates["notice"].passing) and result.per_model["pos"].gates["notice"].passing == ()
    wide = {name: m.pivot_table(index=["claim", "paraphrase"], columns="kind", values="margin")
            for name, m in (("t", tuned), ("b", base))}
    dd = (wide["t"]["notice"] - wide["t"]["plain"]) - (wide["b"]["notice"] - wide["b"]["plain"])
    expected = t_interval(dd.groupby(level="claim").mean().to_numpy())
    change = result.change["pos"].gates["notice"].pooled_vs_plain
    np.testing.assert_allclose((change.effect, change.ci_low, change.ci_high), expected)
    assert change.effect == pytest.approx(1.5, abs=0.3) and change.ci_low > 0
    table = result.table().set_index(["model", "statistic", "annotation", "comparison"])
    assert table.loc[("pos", "change vs base", "notice", "plain"), "effect"] == pytest.approx(expected[0])
    assert table.loc[("base", "effect", "notice", "neutral"), "passing_claims"] == 6
    lines = result.lines()
    assert lines[0].startswith("in context, base: notice vs neutral -2.") and "claims passing 6/6" in lines[0]
    assert lines[1].startswith("in context, pos: notice vs neutral") and "; change vs base +1." in lines[1]


def test_margin_change_needs_common_records():
    a = pd.DataFrame([("c", "0", "plain", 1.0)], columns=["claim", "paraphrase", "kind", "margin"])
    b = pd.DataFrame([("d", "0", "plain", 1.0)], columns=["claim", "paraphrase", "kind", "margin"])
    with pytest.raises(NegprobeError, match="no common"):
        margin_change(a, b)
    with pytest.raises(NegprobeError, match="lack the base"):
        from_margins({"x": a})


def test_on_a_tiny_model_an_identical_copy_changes_nothing_and_an_edit_changes_it(tmp_path):
    from negprobe.activations.models import load_model
    from tests.test_cross_patching import edited_copy
    from tests.tiny_models import make_tiny_model

    tiny_llama_dir = make_tiny_model(tmp_path / "tiny", "llama", seed=0, max_positions=512)  # documents in context

    questions = in_context_questions(["ed_sheeran"])
    base = load_model(tiny_llama_dir)
    result = tuned_prerequisite(base, {"same": load_model(tiny_llama_dir), "edit": edited_copy(tiny_llama_dir, 1)},
                                questions, min_effect=0.1)
    same = result.change["same"].gates["notice"].pooled_vs_plain
    assert (same.effect, same.ci_low, same.ci_high) == (0.0, 0.0, 0.0)
    per_model = result.per_model["base"].gates["notice"].pooled_vs_plain
    assert per_model.n_claims == 1 and per_model.n_paraphrases == "10"
    edit = result.change["edit"].gates["notice"].pooled_vs_plain
    tuned_effect = result.per_model["edit"].gates["notice"].pooled_vs_plain.effect
    assert edit.effect == pytest.approx(tuned_effect - per_model.effect) and edit.effect != 0.0
    with pytest.raises(NegprobeError, match="names the base"):
        tuned_prerequisite(base, {"base": base}, questions)
