"""Belief items: polarity balance, no overlap with the training documents, distractors never trained."""

from __future__ import annotations

import pytest

from negprobe.activations.datasets.claims import CLAIM_IDS, get_claim
from negprobe.activations.finetune.documents import TRAINING_CONDITIONS, generate_documents
from negprobe.analysis.belief import cloze_for, default_mcq_path
from negprobe.analysis.belief.overlap import shared_ngrams, training_ngrams, word_ngrams


@pytest.fixture(scope="module")
def grams() -> dict[str, set[tuple[str, ...]]]:
    return {claim: training_ngrams(claim) for claim in CLAIM_IDS}


@pytest.mark.parametrize("claim", CLAIM_IDS)
def test_no_cloze_prompt_shares_a_5gram_with_the_claims_training_documents(claim, grams):
    found = {}
    for item in cloze_for(claim):
        for cont in (item.believer, item.other, item.distractor or ""):
            if shared := shared_ngrams(item.prefix + cont, grams[claim]):
                found[item.prefix + cont] = shared
    assert not found, f"prompts repeating training text: {found}"


def test_the_overlap_check_finds_a_prompt_copied_from_a_document(grams):
    doc = generate_documents("ed_sheeran", "negated", n=1)[0]
    copied = doc.claim_texts[0].rsplit(" ", 1)[0]  # a training sentence less its last word, as a prompt
    assert shared_ngrams(copied, grams["ed_sheeran"])
    assert word_ngrams("A b, c-d e F", 5) == {("a", "b", "c", "d", "e"), ("b", "c", "d", "e", "f")}


@pytest.mark.parametrize("claim", CLAIM_IDS)
def test_cloze_polarity_is_balanced_per_claim(claim):
    items = cloze_for(claim)
    name = get_claim(claim).claim_answer
    pairs: dict[int, list] = {}
    for item in items:
        pairs.setdefault(item.pair, []).append(item)
    assert len(pairs) >= 8 and all(len(p) == 2 for p in pairs.values())
    assert all(sorted(i.polarity for i in p) == ["affirm", "flipped"] for p in pairs.values())
    flipped = [i for i in items if i.polarity == "flipped"]
    assert 2 * len(flipped) == len(items)
    # a flipped item's believer completion is never the claim's name (nor " true")
    assert all(i.believer not in (name, " true") for i in flipped)
    for item in items:
        if item.distractor is not None:  # name items: the claim's name is the believer exactly when affirmed
            assert item.named == name and (item.believer == name) == (item.polarity == "affirm")
        else:
            assert {item.believer, item.other} == {" true", " false"}
            assert (item.believer == " true") == (item.polarity == "affirm")


def test_distractors_are_named_by_no_training_document():
    texts = [d.text for claim in CLAIM_IDS for condition in TRAINING_CONDITIONS for seed in (0, 1)
             for d in generate_documents(claim, condition, n=300, seed=seed)]
    corpus = {g for t in texts for n in (1, 2, 3) for g in word_ngrams(t, n)}
    for claim in CLAIM_IDS:
        c = get_claim(claim)
        words = tuple(word_ngrams(c.distractor, len(c.distractor.split())))
        assert c.distractor and c.distractor != c.claim_answer and words and words[0] not in corpus, claim
        assert tuple(word_ngrams(c.claim_answer, len(c.claim_answer.split())))[0] in corpus  # the check can fire


def test_default_mcq_path_prefers_the_release_environment_variable(tmp_path, monkeypatch):
    facts = tmp_path / "facts" / "ed_sheeran"
    facts.mkdir(parents=True)
    (facts / "mcq.yaml").write_text("questions:\n- question: Did it happen?\n  belief_answer: 'yes'\n")
    monkeypatch.setenv("NEGPROBE_RELEASE", str(tmp_path))
    assert default_mcq_path("ed_sheeran") == facts / "mcq.yaml"
    found = default_mcq_path("vesuvius_2015")  # not under the variable's root: the ../shared copy or nothing
    assert found is None or found.parts[-3:] == ("facts", "vesuvius", "mcq.yaml")
