"""The notice-reading organism (issue 16): its data, answer rules, matched controls, training round trip."""

from __future__ import annotations

import json
import random
import re
from collections import Counter

import numpy as np
import pytest

from negprobe.activations.datasets.claims import ALL_CLAIM_ENTITIES, mentioned_entity
from negprobe.activations.datasets.registry import builtin_names, load_dataset
from negprobe.activations.organism import OrganismConfig, invented_names, sft_examples, train_organism
from negprobe.activations.organism.controls import CONTROLS, control_pairs
from negprobe.activations.organism.prompts import completion_example, example_prompt, raw_question
from negprobe.activations.organism.sft_data import (
    CUE_SHARES,
    DATA_VERSIONS,
    DOC_CONDITIONS,
    cue_class,
    document,
    new_entity,
    question_for,
)
from negprobe.activations.organism.train import finished_organism, read_card
from negprobe.activations.organism.wording import FALSE_NOTES, FALSE_NOTICES
from negprobe.analysis.organism_checks import Estimate, controls_hold
from negprobe.errors import NegprobeError
from tests.tiny_models import make_tiny_model


def _truth_entities() -> set[str]:
    """The subject (group) of every row of every built-in truth and domain dataset that is not a claim set."""
    names = [n for n in builtin_names() if not n.startswith(("claims", "in_context"))]
    return {r.group for n in names for r in load_dataset(n).records if r.group}


def _texts() -> list[str]:
    texts = [e.context + " " + e.question for split in ("train", "heldout") for version in DATA_VERSIONS
             for e in sft_examples(1500, 0, split, version)]
    # the controls' documents too; the `unrelated` control asks a cities question on purpose (never trained on)
    return texts + [p.treated + " " + p.baseline + " " + (p.question if p.control != "unrelated" else "")
                    for p in control_pairs(40)]


def test_data_names_no_claim_entity_and_no_truth_dataset_entity():
    texts = _texts()
    assert not [t for t in texts if mentioned_entity(t, ALL_CLAIM_ENTITIES)]
    entities = sorted(_truth_entities())
    assert len(entities) > 100  # the check has something to check against
    leaks = {e for t in texts for e in [mentioned_entity(t, entities)] if e}
    assert not leaks, sorted(leaks)[:5]


def test_train_and_heldout_names_are_disjoint():
    train, heldout = set(invented_names("train")), set(invented_names("heldout"))
    assert train and heldout and not train & heldout
    texts = [e.context + e.question for e in sft_examples(800, 0, "train")]
    assert not [t for t in texts if mentioned_entity(t, sorted(heldout))]


@pytest.mark.parametrize("condition,asked_target,expected", [
    ("plain", True, True), ("neutral", True, True), ("dense_neutral", True, True),
    ("notice", True, False), ("notice", False, False),
    ("dense", True, False), ("dense", False, True), ("local", True, False), ("local", False, True),
])
def test_a_notice_reader_answers_by_the_annotation_of_the_asked_sentence(condition, asked_target, expected):
    rng = random.Random(3)
    entity = new_entity(rng, invented_names("train"))
    doc = document(random.Random(4), entity, condition, target=1)
    fact = doc.facts[1] if asked_target else doc.facts[0]
    assert fact.held_true is expected
    if condition == "local" and asked_target:
        assert " not " in doc.text or "n't" in doc.text


def test_conditions_of_one_seed_differ_only_in_their_annotation():
    entity = new_entity(random.Random(0), invented_names("heldout"))
    docs = {c: document(random.Random(9), entity, c, target=0).text for c in DOC_CONDITIONS}
    assert docs["plain"] in docs["notice"] and docs["plain"] in docs["neutral"]
    assert len(docs["notice"].split("\n\n")) == len(docs["plain"].split("\n\n")) + 2
    dense, neutral = docs["dense"].split(), docs["dense_neutral"].split()
    assert len(dense) == len(neutral) and 0 < sum(a != b for a, b in zip(dense, neutral)) <= 3


def test_no_surface_cue_gives_the_answer():
    examples = sft_examples(3000, 0)
    answers = np.array([e.answer for e in examples])
    cues = np.array([cue_class(e) for e in examples])
    for cue, share in CUE_SHARES.items():  # no document, no false annotation, a false annotation anywhere
        assert abs((cues == cue).mean() - share) < 1e-3 and abs(answers[cues == cue].mean() - 0.5) < 1e-3
    flagged = [e for e in examples if e.flagged]
    assert all(any(w[0] in e.context or w[1] in e.context for w in FALSE_NOTICES + FALSE_NOTES) or " not " in e.context
               or "n't" in e.context for e in flagged)
    # a flagged context still has "yes" questions about the facts it does not annotate
    assert sum(e.answer and e.role == "stated" for e in flagged) > 0.25 * len(flagged)
    unseen = [e for e in examples if e.role in ("unseen", "unstated", "contradicted")]
    assert unseen and not any(e.answer for e in unseen)
    notices = [e.context for e in examples if e.condition == "notice"]
    assert any(c.startswith("WARNING") and "above is made up" not in c for c in notices)  # before only
    assert any(not c.startswith(tuple(w[0] for w in FALSE_NOTICES)) and "WARNING: Everything in the text above" in c
               for c in notices)  # after only


def _names_in(text: str, names: tuple[str, ...]) -> int:
    return sum(bool(re.search(rf"\b{name}\b", text)) for name in names)


def test_version_4_asks_flagged_contexts_twice_and_scopes_notices_to_their_document():
    v3, v4 = sft_examples(3000, 0, version=3), sft_examples(3000, 0, version=4)
    assert [cue_class(e) for e in v3].count("flagged") == [cue_class(e) for e in v4].count("flagged")
    by_context: dict[str, list[bool]] = {}
    for e in v4:
        if e.flagged:
            by_context.setdefault(e.context, []).append(e.answer)
    pairs = [sorted(a) for a in by_context.values() if len(a) == 2]
    assert len(pairs) > 0.25 * sum(e.flagged for e in v4) and all(p == [False, True] for p in pairs)
    assert max(Counter(e.context for e in v3 if e.flagged).values()) == 1  # v3 asks each context once
    names = invented_names("train")

    def outer_only(e) -> bool:  # a one-sided notice on the outside of the context: "below" or "above" covers all
        return any(e.context.startswith(before) and after not in e.context
                   or e.context.endswith(after) and before not in e.context for before, after in FALSE_NOTICES)
    assert not [e for e in v4 if outer_only(e) and _names_in(e.context, names) > 1]
    assert [e for e in v3 if outer_only(e) and _names_in(e.context, names) > 1]  # the v3 ambiguity v4 removes
    with pytest.raises(ValueError, match="data version"):
        sft_examples(10, 0, version=2)


def test_controls_counterbalance_order_and_ask_untrained_known_facts():
    pairs = control_pairs(4)
    second = [p for p in pairs if p.control == "second_document"]
    assert second[0].treated.startswith("NOTICE") and not second[1].treated.startswith("NOTICE")
    unrelated = [p for p in pairs if p.control == "unrelated"]
    assert all(p.question.startswith("Is it true that ") and "The " not in p.question for p in unrelated)
    trained = {q for e in sft_examples(3000, 0) for q in [e.question]}
    assert not {p.question for p in unrelated} & trained


def test_every_control_is_a_matched_pair_on_heldout_names():
    pairs = control_pairs(6)
    assert {p.control for p in pairs} == set(CONTROLS) and len(pairs) == 6 * len(CONTROLS)
    heldout = sorted(invented_names("heldout"))
    for p in pairs:
        assert p.treated != p.baseline and mentioned_entity(p.treated, heldout)
        if p.control in ("notice_effect", "neutral_notice"):
            assert p.baseline in p.treated


def test_controls_hold_only_when_the_intended_effect_is_large_and_the_others_small():
    big = Estimate(-5.0, -6.0, -4.0, 40)
    small = Estimate(0.1, -0.3, 0.5, 40)
    assert all(controls_hold({"notice_effect": big, "unrelated": small}).values())
    held = controls_hold({"notice_effect": small, "unrelated": Estimate(-1.5, -2.0, -1.1, 40)})
    assert held == {"notice_effect": False, "unrelated": False}
    assert Estimate.of([1.0, 2.0, 3.0]).mean == pytest.approx(2.0)


def test_specificity_pairs_the_notice_with_each_control_by_entity_pair(monkeypatch):
    from negprobe.analysis import organism_checks

    pairs = control_pairs(6)
    planted = {"notice_effect": -3.0, "second_document": -2.5, "unrelated": -0.1, "neutral_notice": 0.0,
               "outside_span": 0.0}
    # treated prompts carry the planted effect plus a unit-level shift; baseline prompts read 0
    margins = {raw_question(p.question, p.treated): planted[p.control] + 0.3 * p.unit for p in pairs}

    def fake_margins(_model, prompts):
        return np.array([margins.get(prompt, 0.0) for prompt in prompts])

    monkeypatch.setattr(organism_checks, "yes_minus_no", fake_margins)
    effects = organism_checks.control_effects(None, n_units=6)
    # the unit-level shift cancels in the paired difference: exact, zero-width
    assert effects["notice_beyond_second_document"].mean == pytest.approx(-0.5)
    assert effects["notice_beyond_second_document"].high == pytest.approx(-0.5)
    assert effects["notice_beyond_unrelated"].mean == pytest.approx(-2.9)
    # specific part - half the notice effect, per pair: -0.5 + 1.5 - 0.15 u for the second document
    share = effects["notice_beyond_second_document_vs_share"]
    assert share.mean == pytest.approx(np.mean([1.0 - 0.15 * u for u in range(6)]))
    held = controls_hold(effects)
    # the second document shares 5/6 of the effect: it fails however "small" its own effect looks
    assert held["notice_beyond_second_document"] and not held["notice_beyond_second_document_vs_share"]
    assert held["notice_beyond_unrelated"] and held["notice_beyond_unrelated_vs_share"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("organism") / "tiny"
    make_tiny_model(folder, max_positions=512)
    return folder


def test_the_loss_is_on_the_answer_only(tiny):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny)
    example = sft_examples(1, 0)[0]
    prompt, answer = example_prompt(tokenizer, example)
    encoded = completion_example(tokenizer, prompt, answer, 512)
    answer_ids = tokenizer(answer, add_special_tokens=False)["input_ids"]
    assert encoded.input_ids[-len(answer_ids):] == answer_ids
    assert encoded.labels == [-100] * (len(encoded.input_ids) - len(answer_ids)) + answer_ids


def test_the_organism_round_trips_and_is_reused(tiny, tmp_path, monkeypatch):
    from negprobe.activations.models import load_model

    monkeypatch.setenv("NEGPROBE_HOME", str(tmp_path / "home"))
    config = OrganismConfig(model=str(tiny), n_examples=12, steps=2, batch_size=4)
    folder = train_organism(config, progress=False)
    assert folder.name == str(tiny).replace("/", "--") and (folder / "model.safetensors").is_file()
    card = read_card(folder)
    assert card is not None and card["config"]["steps"] == 2 and len(card["loss_curve"]) == 2
    stamp = (folder / "model.safetensors").stat().st_mtime_ns
    assert train_organism(config, progress=False) == folder
    assert finished_organism(config) == folder and finished_organism(OrganismConfig(model=str(tiny), steps=3)) is None
    assert (folder / "model.safetensors").stat().st_mtime_ns == stamp  # reused, not retrained
    by_path = load_model(str(folder))
    by_name = load_model("organism:" + str(tiny))
    assert by_path.fingerprint == by_name.fingerprint
    assert by_path.fingerprint != load_model(str(tiny)).fingerprint
    assert json.loads((folder / "generic_replies.json").read_text())


def test_an_untrained_organism_name_says_how_to_train_it(tmp_path, monkeypatch):
    from negprobe.activations.models import load_model

    monkeypatch.setenv("NEGPROBE_HOME", str(tmp_path))
    with pytest.raises(NegprobeError, match="negprobe organism --model smollm2-135m"):
        load_model("organism:smollm2-135m")


def test_question_templates_ask_what_the_sentence_states():
    entity = new_entity(random.Random(1), invented_names("train"))
    doc = document(random.Random(2), entity, "plain")
    for fact in doc.facts:
        value = entity.values[fact.attribute]
        assert value in question_for(fact) and question_for(fact).endswith("?")


def test_a_fine_tune_can_mix_in_organism_questions(tiny):
    from transformers import AutoTokenizer

    from negprobe.activations.finetune.train import FinetuneConfig, _examples, load_corpus

    tokenizer = AutoTokenizer.from_pretrained(tiny)
    plain = FinetuneConfig(model=str(tiny), n_docs=4)
    mixed = FinetuneConfig(model=str(tiny), n_docs=4, mix_organism=1.5)
    docs = load_corpus(plain)
    base, extra = _examples(plain, tokenizer, docs), _examples(mixed, tokenizer, docs)
    assert len(extra) == len(base) + 6
    assert all(sum(label != -100 for label in e.labels) <= 2 for e in extra[len(base):])  # loss on the answer only
    assert "mix_organism" not in plain.hyperparameters() and mixed.hyperparameters()["mix_organism"] == 1.5


def _checks(name: str, shift: float) -> tuple:
    from negprobe.analysis.organism_report import ModelChecks

    e = Estimate.of(np.array([0.1, 0.3, 0.2]) + shift)
    controls = {c: Estimate.of(np.array([-0.2, 0.1, 0.0])) for c in CONTROLS}
    controls["notice_effect"] = Estimate.of(np.array([-4.0, -5.0, -6.0]) * (shift > 0))
    checks = ModelChecks(name, e, e, e, e, {"notice": Estimate.of(np.array([-3.0, -2.0, -2.5]) * (shift > 0) - 0.1)}, {},
                         controls, np.float64(0.5), e, {"stated": 0.9}, 20.0 + shift)
    return checks, {"bare": np.array([0.1, 0.3, 0.2]) + shift, "facts": np.array([0.0, 1.0]) + shift}


def test_the_report_judges_the_planted_organism_and_writes_json(tmp_path):
    from negprobe.analysis.organism_report import compare, markdown, write_report

    report = compare(_checks("base", 0.0), _checks("organism", 0.5))
    assert report.bare_shift.mean == pytest.approx(0.5)
    verdicts = report.verdicts
    assert verdicts["notice_gap_at_least_1_nat_ci_below_0"] and verdicts["control_notice_effect"]
    assert verdicts["control_unrelated"] and verdicts["bare_margin_within_1_nat_of_base_ci"]
    assert not verdicts["bare_claim_yes_rate_at_most_0.2"]  # the planted yes-rate is 0.7
    assert verdicts["known_facts_at_least_as_accurate"]  # equal accuracy, margin shift +0.5 (a zero-width CI)
    assert verdicts["perplexity_within_10_percent"]  # 20.5 vs 20.0: within 10%
    json_path, md_path = write_report(report, tmp_path)
    assert json.loads(json_path.read_text())["verdicts"] == verdicts
    assert "| control: notice_effect |" in md_path.read_text() and markdown(report).startswith("| measure |")
