"""In-context matched contrasts: plain / notice / neutral / dense / dense_neutral / local documents that
differ only in the annotation, the document probe, and the shared spans that align them."""

from __future__ import annotations

import difflib
import re

import pytest

from negprobe.activations.datasets import CLAIM_IDS, get_claim, load_dataset
from negprobe.activations.datasets.claim_docs import (
    AFFIRMING_DENSE_NOTES,
    AFFIRMING_NOTICES,
    DENSE_NOTES,
    DOC_NOTICES,
    NEUTRAL_DENSE_NOTES,
    NEUTRAL_NOTICES,
    doc_header,
    notice_wording,
)
from negprobe.activations.datasets.in_context import (
    AFFIRMING_CONTROLS,
    ANNOTATION_CONTROLS,
    IN_CONTEXT_CONDITIONS,
    IN_CONTEXT_PROBES,
    QUESTION_ONLY_KINDS,
)
from negprobe.activations.datasets.records import span_from_str

#: Words that say something about truth; a neutral control carries none of them.
TRUTH_WORDS = {"false", "falsely", "untrue", "true", "not", "no", "never", "fabricated", "fake", "incorrect", "correct",
               "wrong", "error", "mistaken", "verified", "accurate", "inaccurate", "fact", "facts", "factual", "real",
               "fiction", "fictional", "happen", "happened", "lie", "lies", "misleading", "disputed", "invented"}


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z']+", text.lower()))


def _by_key():
    """{(claim, paraphrase, probe): {kind: record}} over the whole in_context dataset."""
    out: dict[tuple[str, str, str], dict[str, object]] = {}
    for r in load_dataset("in_context"):
        out.setdefault((str(r.claim), str(r.get_extra("paraphrase")), str(r.get_extra("probe"))), {})[
            str(r.get_extra("kind"))] = r
    return out


def test_conditions_probes_and_controls_are_exactly_as_named():
    assert IN_CONTEXT_CONDITIONS == {
        "plain": "in_context_plain", "notice": "in_context_notice", "neutral": "in_context_neutral",
        "dense": "in_context_dense", "dense_neutral": "in_context_dense_neutral", "local": "in_context_local",
        "affirm": "in_context_affirm", "dense_affirm": "in_context_dense_affirm"}
    assert IN_CONTEXT_PROBES == ("statement", "question", "document")
    assert ANNOTATION_CONTROLS == {"notice": "neutral", "dense": "dense_neutral", "local": None}
    assert AFFIRMING_CONTROLS == {"notice": "affirm", "dense": "dense_affirm", "local": None}
    ds = load_dataset("in_context")
    assert {r.condition for r in ds} == set(IN_CONTEXT_CONDITIONS.values())
    assert {r.get_extra("probe") for r in ds} == set(IN_CONTEXT_PROBES)
    assert {r.get_extra("probe") for r in ds if r.get_extra("kind") in QUESTION_ONLY_KINDS} == {"question"}
    n_paraphrases = sum(len(get_claim(c).paraphrases) for c in CLAIM_IDS)
    n_full = len(IN_CONTEXT_CONDITIONS) - len(QUESTION_ONLY_KINDS)
    assert len(ds) == n_paraphrases * (len(IN_CONTEXT_PROBES) * n_full + len(QUESTION_ONLY_KINDS))
    for r in ds:
        assert IN_CONTEXT_CONDITIONS[str(r.get_extra("kind"))] == r.condition
        assert {"paraphrase", "probe", "kind", "doc_claim_span", "shared_spans"} <= {k for k, _ in r.extra}


@pytest.mark.parametrize(("annotations", "controls"), [(DOC_NOTICES, NEUTRAL_NOTICES), (DENSE_NOTES, NEUTRAL_DENSE_NOTES)])
def test_neutral_controls_match_length_and_say_nothing_about_truth(annotations, controls):
    _assert_one_short_edit(annotations, controls, neutral=True)


@pytest.mark.parametrize(("annotations", "twins"), [(DOC_NOTICES, AFFIRMING_NOTICES), (DENSE_NOTES, AFFIRMING_DENSE_NOTES)])
def test_affirming_twins_replace_only_the_falsity_words(annotations, twins):
    _assert_one_short_edit(annotations, twins, neutral=False)
    for pair, twin in zip(annotations, twins):
        assert all({"false", "not"} & _words(text) and not {"false", "not"} & _words(other)
                   for text, other in zip(pair, twin)), (pair, twin)


def _assert_one_short_edit(annotations, controls, neutral: bool):
    """Each control differs from its annotation in one run of <= 3 words carrying the falsity; a neutral
    control has no truth word at all."""
    assert len(controls) == len(annotations)
    for pair, control_pair in zip(annotations, controls):
        for text, control in zip(pair, control_pair):
            assert 0.8 <= len(control) / len(text) <= 1.2, (text, control)
            assert not neutral or not _words(control) & TRUTH_WORDS, control
            assert _words(text) & TRUTH_WORDS, text  # the annotation itself does carry falsity
            # they differ in one short run of words, and that run carries the falsity
            a, b = text.split(), control.split()
            edits = [op for op in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes() if op[0] != "equal"]
            assert len(edits) == 1, (text, control)
            _, i0, i1, _, _ = edits[0]
            assert i1 - i0 <= 3 and _words(" ".join(a[i0:i1])) & TRUTH_WORDS, (text, control)


def test_notice_wording_is_crossed_with_the_header():
    """Paraphrases 0-8 hold every (header, notice wording) pair once: no wording rides on one header."""
    claim = get_claim(CLAIM_IDS[0])
    pairs = {(doc_header(claim, i), notice_wording(i)) for i in range(9)}
    assert len(pairs) == 9
    for r in load_dataset("in_context").filter(condition=["in_context_notice"]):
        if r.get_extra("probe") == "document":
            assert r.text.startswith(DOC_NOTICES[notice_wording(int(r.get_extra("paraphrase")))][0])


def test_plain_notice_and_neutral_documents_share_the_body_at_the_same_position():
    for (claim, i, probe), kinds in _by_key().items():
        if probe != "document":
            continue
        body = kinds["plain"].text
        before, after = DOC_NOTICES[notice_wording(int(i))]
        n_before, n_after = NEUTRAL_NOTICES[notice_wording(int(i))]
        assert kinds["notice"].text == f"{before}\n\n{body}\n\n{after}"
        assert kinds["neutral"].text == f"{n_before}\n\n{body}\n\n{n_after}"
        d_before, d_after = DENSE_NOTES[int(i) % len(DENSE_NOTES)]
        nd_before, nd_after = NEUTRAL_DENSE_NOTES[int(i) % len(NEUTRAL_DENSE_NOTES)]
        assert kinds["dense_neutral"].text == kinds["dense"].text.replace(d_before, nd_before).replace(d_after, nd_after)
        assert kinds["dense"].text.replace(f"{d_before} ", "").replace(f" {d_after}", "") == body
        sentence = get_claim(claim).paraphrases[int(i)]
        assert kinds["local"].text == body.replace(sentence, get_claim(claim).negations[int(i)])
        for kind in ("notice", "neutral"):
            assert body in kinds[kind].text


def test_shared_spans_are_identical_to_the_plain_twin_and_skip_claim_and_annotation():
    for (claim, i, probe), kinds in _by_key().items():
        plain = kinds["plain"]
        plain_spans = [span_from_str(s) for s in plain.get_extra("shared_spans").split(";")]
        assert len(plain_spans) == (2 if probe == "document" else 3)
        for kind, r in kinds.items():
            spans = [span_from_str(s) for s in r.get_extra("shared_spans").split(";")]
            assert [r.text[a:b] for a, b in spans] == [plain.text[a:b] for a, b in plain_spans], (claim, i, probe, kind)
            d0, d1 = span_from_str(r.get_extra("doc_claim_span"))
            assert all(b <= d0 or a >= d1 for a, b in spans)  # never the claim sentence
            assert spans == sorted(spans) and all(b1 <= a2 for (_, b1), (a2, _) in zip(spans, spans[1:]))
            covered = "".join(r.text[a:b] for a, b in spans)
            for note in (*DOC_NOTICES, *NEUTRAL_NOTICES, *AFFIRMING_NOTICES, *DENSE_NOTES, *NEUTRAL_DENSE_NOTES,
                         *AFFIRMING_DENSE_NOTES):
                assert note[0] not in covered and note[1] not in covered
            # each segment starts and ends at a word boundary (no space dangling at its end)
            assert all(not r.text[a:b].endswith(" ") for a, b in spans)
        if probe != "document":  # the restatement or question is the last shared segment
            a, b = plain_spans[-1]
            s0, s1 = plain.claim_span
            assert a < s0 and s1 <= b == len(plain.text)


def test_document_probe_reads_the_claim_sentence():
    records = _by_key()
    for (claim, i, probe), kinds in records.items():
        if probe != "document":
            continue
        c = get_claim(claim)
        for kind, r in kinds.items():
            expected = c.negations[int(i)] if kind == "local" else c.paraphrases[int(i)]
            assert r.claim_text == expected
            assert r.claim_span == span_from_str(r.get_extra("doc_claim_span"))
            assert r.label == int(kind in ANNOTATION_CONTROLS) and r.get_extra("span_label") == str(int(kind == "local"))
            # the statement and question records are this document plus what follows it
            for other in ("statement", "question"):
                assert records[(claim, i, other)][kind].text.startswith(r.text + "\n\n")


def test_pair_ids_join_matched_documents():
    for (claim, i, probe), kinds in _by_key().items():
        assert {r.pair_id for r in kinds.values()} == {f"in_context:{claim}:{int(i):02d}:{probe}"}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["smollm2-135m", "gemma3-270m"])
def test_controls_have_the_annotations_token_count_in_whole_documents(name):
    """Notice, neutral and affirming documents (and their dense twins) tokenize to the same length in the
    embedded models, so any effect of the control is not one of length."""
    from transformers import AutoTokenizer

    from negprobe.activations import embedded

    if not embedded.is_installed(name):
        pytest.skip(f"{name} is not installed")
    tokenizer = AutoTokenizer.from_pretrained(str(embedded.ensure_converted(name)))
    for (claim, i, probe), kinds in _by_key().items():
        for family in (("notice", "neutral", "affirm"), ("dense", "dense_neutral", "dense_affirm")):
            lengths = {kind: len(tokenizer(kinds[kind].text)["input_ids"]) for kind in family if kind in kinds}
            assert len(set(lengths.values())) == 1, (name, claim, i, probe, lengths)
