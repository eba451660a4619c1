"""The behavioural prerequisite gate and the claim-level bootstrap, on planted margins."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from negprobe.analysis.causal_findings import bracket_sentence
from negprobe.analysis.claim_level import claim_mean, claim_paraphrase_weights, handoff_layer
from negprobe.analysis.prerequisite import prerequisite_gate
from negprobe.errors import NegprobeError

CLAIMS = [f"claim{i}" for i in range(6)]


def planted_margins(effects: dict[str, float], n_paraphrases: int = 10, noise: float = 0.3, seed: int = 0,
                    claims=CLAIMS) -> pd.DataFrame:
    """Plain margins vary by claim and paraphrase; each kind adds its planted effect plus paired noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for c, claim in enumerate(claims):
        for p in range(n_paraphrases):
            plain = rng.normal(-0.5 + 0.2 * c, 1.0)
            rows.append({"claim": claim, "paraphrase": str(p), "kind": "plain", "margin": plain})
            for kind, effect in effects.items():
                rows.append({"claim": claim, "paraphrase": str(p), "kind": kind,
                             "margin": plain + effect + rng.normal(0, noise)})
    return pd.DataFrame(rows)


def test_an_annotation_that_lowers_belief_by_two_nats_passes():
    gate = prerequisite_gate(planted_margins({"notice": -2.0, "neutral": 0.0})).gates["notice"]
    assert gate.control == "neutral"
    assert set(gate.passing) == set(CLAIMS)
    assert gate.nothing_to_localise() is None
    for effect in gate.vs_plain:
        assert effect.effect == pytest.approx(-2.0, abs=0.35) and effect.ci_high < 0 and effect.sign == -1
        assert effect.n_paraphrases == 10
    assert gate.pooled_vs_plain.ci_low <= -2.0 <= gate.pooled_vs_plain.ci_high
    assert gate.pooled_vs_plain.n_claims == 6 and gate.pooled_vs_plain.n_paraphrases == "10"
    table = gate.table()
    assert set(table["comparison"]) == {"plain", "neutral"} and table["passes"].all()


def test_an_annotation_that_raises_belief_fails_and_says_nothing_to_localise():
    """Issue 13 acceptance (b): a wrong-signed effect, however large and certain, is not negation."""
    gate = prerequisite_gate(planted_margins({"notice": +2.0, "neutral": 0.0})).gates["notice"]
    assert gate.passing == ()
    assert all(e.sign == 1 and e.ci_low > 0 for e in gate.vs_plain)
    sentence = gate.nothing_to_localise()
    assert sentence is not None
    assert sentence.startswith("nothing to localise on this model: it raises belief, the wrong sign for a negation")
    p = gate.pooled_vs_plain
    assert f"effect vs the plain document {p.effect:+.2f} [{p.ci_low:+.2f}, {p.ci_high:+.2f}] nats" in sentence
    assert "6 claims x 10 paraphrases; claims passing at a 0.25 / 0.5 / 1-nat minimum: 0 / 0 / 0)" in sentence
    assert p.effect == pytest.approx(2.0, abs=0.2)


def test_small_or_uncertain_effects_fail_and_the_threshold_is_the_documented_one():
    small = prerequisite_gate(planted_margins({"notice": -0.5})).gates["notice"]
    assert small.min_effect == 1.0 and small.passing == ()  # sign-correct, CI excludes 0, but below 1 nat
    assert "no claim's effect reaches -1 nats" in (small.nothing_to_localise() or "")
    assert all(e.ci_high < 0 for e in small.vs_plain)
    assert prerequisite_gate(planted_margins({"notice": -0.5}), min_effect=0.3).gates["notice"].passing
    diffs = [-7.0, 5.0, -6.0, 4.0, -5.0, 3.0]  # mean -1 nat, but half the paraphrases go the other way
    rows = [{"claim": "c", "paraphrase": str(p), "kind": kind, "margin": value}
            for p, d in enumerate(diffs) for kind, value in (("plain", 0.0), ("notice", d))]
    gate = prerequisite_gate(pd.DataFrame(rows)).gates["notice"]
    (effect,) = gate.vs_plain
    assert effect.effect == pytest.approx(-1.0) and effect.ci_low < 0 < effect.ci_high
    assert gate.passing == ()  # a CI covering 0 never passes


def test_a_neutral_text_that_lowers_belief_as_much_blocks_the_gate():
    """The drop is bought by any text there: annotated vs neutral has no sign-correct effect."""
    gate = prerequisite_gate(planted_margins({"notice": -2.0, "neutral": -2.0})).gates["notice"]
    assert all(e.effect <= -1.0 for e in gate.vs_plain)
    assert gate.passing == ()
    assert gate.pooled_vs_control is not None and gate.pooled_vs_control.ci_low <= 0 <= gate.pooled_vs_control.ci_high


@pytest.mark.parametrize(("neutral", "inside"), [(-0.5, True), (-3.0, False)])
def test_the_affirming_twin_brackets_the_neutral_control(neutral, inside):
    """notice -2, affirm +1 (planted): the truth words move belief by -3; a neutral control at -0.5 sits
    between the two, one at -3 (below the false notice) does not; the twin never enters the pass rule."""
    gate = prerequisite_gate(planted_margins({"notice": -2.0, "neutral": neutral, "affirm": 1.0})).gates["notice"]
    assert gate.affirming == "affirm"
    assert gate.pooled_vs_affirming is not None and gate.pooled_vs_affirming.effect == pytest.approx(-3.0, abs=0.2)
    assert gate.pooled_affirmed is not None and gate.pooled_affirmed.effect == pytest.approx(1.0, abs=0.2)
    assert gate.neutral_in_bracket() is inside
    text = bracket_sentence(gate)
    assert f"sits {'between' if inside else 'outside'} the two" in text and "lowers it, -3." in text
    table = gate.table()
    assert set(table.loc[table["annotation"] == "affirm", "comparison"]) == {"plain"}
    assert table.loc[table["annotation"] == "affirm", "passes"].isna().all()
    assert set(table.loc[(table["annotation"] == "notice"), "comparison"]) == {"plain", "neutral", "affirm"}
    no_twin = prerequisite_gate(planted_margins({"notice": -2.0, "neutral": neutral})).gates["notice"]
    assert no_twin.neutral_in_bracket() is None and bracket_sentence(no_twin) == ""
    assert no_twin.passing == gate.passing


def test_per_claim_gate_and_annotations_without_a_control():
    margins = planted_margins({"local": -2.0})
    # claim0 has no effect: only it fails
    sel = (margins["claim"] == "claim0") & (margins["kind"] == "local")
    plain = margins[(margins["claim"] == "claim0") & (margins["kind"] == "plain")]["margin"].to_numpy()
    margins.loc[sel, "margin"] = plain + np.random.default_rng(1).normal(0, 0.3, len(plain))
    gate = prerequisite_gate(margins).gates["local"]
    assert gate.control is None and gate.vs_control == ()
    assert set(gate.passing) == set(CLAIMS) - {"claim0"}
    assert prerequisite_gate(margins).gap("local", "claim1", "3") == pytest.approx(
        margins.query("claim == 'claim1' and paraphrase == '3' and kind == 'local'")["margin"].item()
        - margins.query("claim == 'claim1' and paraphrase == '3' and kind == 'plain'")["margin"].item())


def test_gate_bad_inputs():
    with pytest.raises(NegprobeError, match="min_effect"):
        prerequisite_gate(planted_margins({"notice": -2.0}), min_effect=0)
    with pytest.raises(NegprobeError, match="plain"):
        prerequisite_gate(planted_margins({"notice": -2.0}).query("kind != 'plain'"))
    with pytest.raises(NegprobeError, match="columns"):
        prerequisite_gate(pd.DataFrame({"claim": ["a"]}))


# --------------------------------------------------------------------------- claim-level bootstrap


def test_two_stage_weights_draw_claims_then_paraphrases():
    claims = np.repeat(["a", "b", "c"], [2, 3, 5])
    w = claim_paraphrase_weights(claims, n_boot=400, seed=3)
    assert w.shape == (400, 10)
    copies = np.stack([w[:, claims == name].sum(1) / size for name, size in (("a", 2), ("b", 3), ("c", 5))], 1)
    assert np.allclose(copies, np.round(copies))  # a claim's rows sum to copies x its row count
    assert (copies.sum(1) == 3).all()  # three claims drawn per replicate
    # paraphrases do not move together within a claim (the second stage)
    assert (w[:, claims == "c"].std(1) > 0).mean() > 0.5
    np.testing.assert_array_equal(w, claim_paraphrase_weights(claims, 400, seed=3))


def test_claim_mean_weighs_claims_equally_and_its_ci_covers_the_truth():
    claims = np.repeat(["a", "b"], [1, 9])
    values = np.r_[10.0, np.zeros(9)]
    assert claim_mean(values, claims, 50).value == pytest.approx(5.0)  # not 1.0 (the mean over rows)
    rng = np.random.default_rng(0)
    hits = 0
    for _ in range(60):
        claim_effects = rng.normal(1.0, 0.5, 8)
        rows = np.repeat(claim_effects, 6) + rng.normal(0, 0.5, 48)
        result = claim_mean(rows, np.repeat(np.arange(8), 6), n_boot=300, seed=int(rng.integers(1 << 30)))
        hits += result.ci_low <= 1.0 <= result.ci_high
    assert hits / 60 >= 0.85


def test_handoff_layer_is_found_where_a_planted_effect_stops():
    rng = np.random.default_rng(0)
    layers = list(range(12))
    curve = np.where(np.arange(12) < 7, 1.0, 0.05)
    nie = curve[None] + rng.normal(0, 0.05, (24, 12))
    claims = np.repeat([f"c{i}" for i in range(6)], 4)
    found = handoff_layer(nie, claims, layers, n_layers=12)
    assert found.layer == 7 and found.ci_low <= 7 <= found.ci_high and found.n_claims == 6
    # every 2nd layer patched: the same stop reported in layer units
    strided = handoff_layer(nie[:, ::2], claims, layers[::2], n_layers=12)
    assert strided.layer == 8
    # still carried at the last layer: "never" = past the last layer; no effect at all: no hand-off
    assert handoff_layer(np.ones((6, 12)), np.arange(6), layers, 12, 50).layer == 12
    assert handoff_layer(-np.ones((6, 12)), np.arange(6), layers, 12, 50).layer is None
    with pytest.raises(NegprobeError, match="non-finite"):
        handoff_layer(np.full((6, 12), np.nan), np.arange(6), layers, 12, 50)


def test_wording_effects_recover_a_planted_effect_per_wording():
    """notice lowers belief by 2 nats with wording 2 only; the neutral notice does nothing at any wording."""
    from negprobe.activations.datasets.claim_docs import notice_wording
    from negprobe.analysis.prerequisite import wording_effects

    margins = planted_margins({"notice": 0.0, "neutral": 0.0}, n_paraphrases=9, noise=0.1)
    hit = (margins["kind"] == "notice") & (margins["paraphrase"].astype(int).map(notice_wording) == 2)
    margins.loc[hit, "margin"] -= 2.0
    table = wording_effects(margins).set_index(["kind", "wording"])
    assert set(table.index) == {(k, w) for k in ("notice", "neutral") for w in range(3)}
    assert table.loc[("notice", 2), "effect"] == pytest.approx(-2.0, abs=0.15)
    assert table.loc[("notice", 2), "ci_high"] < -1.5
    for wording in (0, 1):
        assert table.loc[("notice", wording), "ci_low"] < 0 < table.loc[("notice", wording), "ci_high"] or \
            abs(table.loc[("notice", wording), "effect"]) < 0.15
    assert (table["n_claims"] == 6).all() and (table["n_paraphrases"] == 18).all()
    assert table.loc[("notice", 2), "annotation_text"].startswith("NOTICE: This document describes events that did not happen")
