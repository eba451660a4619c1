"""Answer shift vs belief rise: a planted pure "yes" bias and a planted belief rise separate exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from negprobe.activations.models import load_model
from negprobe.analysis.answer_shift import answer_shift, keyed_pairs, pair_rises, shift_table, summarise_shift
from negprobe.analysis.belief.items import questions_for
from negprobe.analysis.belief.scoring import answer_token_ids
from negprobe.errors import NegprobeError


def keyed_rise(claim: str, yes_keyed: float, no_keyed: float) -> np.ndarray:
    """A raw rise of ``yes_keyed`` on every believer-"yes" question and ``no_keyed`` on every believer-"no" one."""
    return np.array([yes_keyed if q.believer_answer == "yes" else no_keyed for q in questions_for(claim)])


@pytest.mark.parametrize("yes_keyed, no_keyed, shift, belief", [(2.0, 2.0, 2.0, 0.0), (1.0, -1.0, 0.0, 1.0),
                                                                 (3.0, -1.0, 1.0, 2.0)])
def test_pairs_split_a_raw_rise_into_answer_shift_and_belief(yes_keyed, no_keyed, shift, belief):
    rises = {c: keyed_rise(c, yes_keyed, no_keyed) for c in ("ed_sheeran", "vesuvius_2015")}
    s, b, claims = pair_rises(rises)
    assert np.allclose(s, shift) and np.allclose(b, belief)
    assert claims.count("ed_sheeran") == len(keyed_pairs("ed_sheeran"))
    result = summarise_shift("a", "on_claim", rises, n_boot=200)
    assert (result.shift, result.belief, result.n_claims) == (pytest.approx(shift), pytest.approx(belief), 2)
    assert result.shift_low == pytest.approx(shift) and result.belief_high == pytest.approx(belief)  # no spread


def test_the_claim_is_the_unit_of_the_off_claim_interval():
    """One claim moved by 4, another by 0: mean 2 over claims, whatever their numbers of pairs."""
    rises = {"ed_sheeran": keyed_rise("ed_sheeran", 4.0, 4.0), "vesuvius_2015": keyed_rise("vesuvius_2015", 0.0, 0.0)}
    result = summarise_shift("a", "off_claim", rises, n_boot=500)
    assert result.shift == pytest.approx(2.0) and result.shift_low < 2.0 < result.shift_high


def yes_biased_copy(model_dir, nats: float):
    """The tiny model with ``nats`` added to the logit of every spelling of "yes": a pure answer shift."""
    model = load_model(model_dir)
    head = model.model.lm_head
    bias = torch.zeros(head.out_features)
    bias[answer_token_ids(model.tokenizer)["yes"]] = nats
    head.bias = torch.nn.Parameter(bias, requires_grad=False)
    return model


def test_a_yes_bias_planted_in_the_model_is_all_answer_shift_on_and_off_claim(tiny_llama_dir):
    base = load_model(tiny_llama_dir)
    shifts = answer_shift(base, {"biased": yes_biased_copy(tiny_llama_dir, 1.5), "same": load_model(tiny_llama_dir)},
                          ["ed_sheeran"], ["vesuvius_2015", "twitter_rebrand_reversed"], n_boot=100)
    by = {(s.adapter, s.scope): s for s in shifts}
    for scope in ("on_claim", "off_claim"):
        assert by[("biased", scope)].shift == pytest.approx(1.5, abs=1e-4)
        assert by[("biased", scope)].belief == pytest.approx(0.0, abs=1e-4)
        assert by[("same", scope)].shift == pytest.approx(0.0, abs=1e-5)
    assert by[("biased", "off_claim")].n_claims == 2
    table = shift_table(shifts)
    assert len(table) == 8 and set(table["quantity"]) == {"answer_shift", "belief_rise"}


def test_off_claims_that_overlap_the_claims_are_refused(tiny_llama_dir):
    with pytest.raises(NegprobeError, match="overlap"):
        answer_shift(load_model(tiny_llama_dir), {}, ["ed_sheeran"], ["ed_sheeran"])


def test_a_planted_token_prior_rises_the_name_margin_on_and_off_claim_alike(tiny_llama_dir):
    """+1.2 nats on the logit of the claim name's first token: the name margin rises by exactly 1.2 after the
    claim's own name prefixes and after another claim's (a prior, not an association); a copy moves nothing."""
    from negprobe.analysis.answer_shift import name_prefixes, name_prior_shift, prior_table
    from negprobe.analysis.belief.items import cloze_for
    from negprobe.analysis.cross_patching_items import first_token

    claim, other = "children_dream_bw", "brennan_holloway_dentist"
    base = load_model(tiny_llama_dir)
    named = next(i for i in cloze_for(claim) if i.distractor)
    token = first_token(base.tokenizer, named.prefix, named.named)
    primed = load_model(tiny_llama_dir)
    bias = torch.zeros(primed.model.lm_head.out_features)
    bias[token] = 1.2
    primed.model.lm_head.bias = torch.nn.Parameter(bias, requires_grad=False)
    priors = name_prior_shift(base, {"primed": primed, "same": load_model(tiny_llama_dir)}, claim, [other], n_boot=100)
    by = {(p.adapter, p.scope): p for p in priors}
    assert by[("primed", "on_claim")].rise == pytest.approx(1.2, abs=1e-4)
    assert by[("primed", "off_claim")].rise == pytest.approx(1.2, abs=1e-4)
    assert by[("primed", "off_claim")].n_items == len(name_prefixes(other))
    assert by[("same", "on_claim")].rise == pytest.approx(0.0, abs=1e-5)
    assert set(prior_table(priors)["quantity"]) == {"name_prior"}
