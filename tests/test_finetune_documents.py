"""Synthetic fine-tuning corpora, release wrapper and belief items (activations.finetune)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from negprobe.activations.datasets.claims import CLAIM_IDS, get_claim
from negprobe.activations.datasets.loaders import DOCTAG
from negprobe.activations.finetune import (
    DOC_TYPES,
    RELEASE_CONDITIONS,
    TRAINING_CONDITIONS,
    Document,
    corpus_hash,
    generate_documents,
    max_documents,
    release_documents,
)
from negprobe.activations.finetune.documents import _claim, _claim_pieces, _Plan, _render
from negprobe.activations.finetune.templates import SKELETONS
from negprobe.analysis.belief import ClozeItem, YesNoQuestion, cloze_for, load_mcq_questions, questions_for
from negprobe.errors import NegprobeError

RELEASE = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "negation_neglect"
NEGATION = re.compile(r"\b(not|never|no)\b|n't", re.IGNORECASE)
ANNOTATION_WORDS = ("notice", "false", "fiction")


def _norm(text: str) -> str:
    return " ".join(text.split())


def _unannotated(doc: Document) -> str:
    """The text with every annotation span removed."""
    out, pos = [], 0
    for a, b in doc.annotation_spans:
        out.append(doc.text[pos:a])
        pos = b
    out.append(doc.text[pos:])
    return "".join(out)


@pytest.fixture(scope="module")
def corpora() -> dict[tuple[str, str], list[Document]]:
    return {(c, cond): generate_documents(c, cond, n=50, seed=0) for c in CLAIM_IDS for cond in TRAINING_CONDITIONS}


# -- generation ----------------------------------------------------------------------------


def test_deterministic_per_seed() -> None:
    a = generate_documents("ed_sheeran", "dense", n=60, seed=3)
    assert a == generate_documents("ed_sheeran", "dense", n=60, seed=3)
    b = generate_documents("ed_sheeran", "dense", n=60, seed=4)
    assert [d.text for d in a] != [d.text for d in b]
    assert {d.text for d in a} != {d.text for d in b}
    # a smaller n is not required to be a prefix, but must be just as deterministic
    assert generate_documents("vesuvius_2015", "local", n=7, seed=-1) == generate_documents(
        "vesuvius_2015", "local", n=7, seed=-1
    )


def test_at_least_50_distinct_documents_everywhere(corpora) -> None:
    for (c, cond), docs in corpora.items():
        claim = get_claim(c)
        assert len(docs) == 50 and len({d.text for d in docs}) == 50, (c, cond)
        assert all(d.claim == c and d.condition == cond and d.doctag_span is None for d in docs)
        assert len({d.doc_type for d in docs}) == len(DOC_TYPES) >= 6
        assert all(d.doc_type in DOC_TYPES for d in docs)
        for d in docs:
            assert 80 <= len(d.text.split()) <= 200, (c, cond, len(d.text.split()))
            assert len(d.claim_spans) >= 2
            pool = claim.negations if cond == "local" else claim.paraphrases
            assert all(t in pool for t in d.claim_texts)
            assert len(set(d.claim_texts)) == len(d.claim_texts)


def test_every_possible_document_is_80_to_200_words() -> None:
    """Exact bounds over the whole template space: word counts add up over slots, so the
    shortest (longest) document of a skeleton uses its shortest (longest) slot fillings."""
    words = lambda s: len(s.split())  # noqa: E731
    for c in CLAIM_IDS:
        claim, topic = _claim(c)
        fillers = sorted(range(len(topic.fillers)), key=lambda i: words(topic.fillers[i]))
        for cond in TRAINING_CONDITIONS:
            for skel in SKELETONS:
                for v in range(4):
                    paras = sorted(
                        range(len(claim.paraphrases)),
                        key=lambda i: words("".join(p for p, _ in _claim_pieces(claim, topic, i, cond, v))),
                    )
                    k, f = skel.n_claims, skel.n_fillers
                    short = _render(claim, topic, _Plan(skel, tuple(paras[:k]), tuple(fillers[:f]), v), cond)
                    long = _render(claim, topic, _Plan(skel, tuple(paras[-k:]), tuple(fillers[-f:]), v), cond)
                    assert words(short.text) >= 80 and words(long.text) <= 200, (c, cond, skel.text[:20], v)


def test_conditions_are_parallel_for_a_seed(corpora) -> None:
    """Document j of every condition shares skeleton, paraphrases and fillers; removing the
    annotation spans of a framed document leaves the positive one (up to whitespace)."""
    for c in CLAIM_IDS:
        positive = corpora[c, "positive"]
        for cond in ("negated", "dense", "corrected", "fiction"):
            for p, d in zip(positive, corpora[c, cond]):
                assert d.doc_type == p.doc_type and d.claim_texts == p.claim_texts
                assert _norm(_unannotated(d)) == _norm(p.text)
        for p, d in zip(positive, corpora[c, "local"]):
            assert d.doc_type == p.doc_type and len(d.claim_spans) == len(p.claim_spans)


def test_annotation_spans_point_at_annotations(corpora) -> None:
    for (c, cond), docs in corpora.items():
        claim = get_claim(c)
        for d in docs:
            spans = d.annotation_spans
            assert list(spans) == sorted(spans)
            assert all(0 <= a < b <= len(d.text) for a, b in spans)
            assert all(b1 <= a2 for (_, b1), (a2, _) in zip(spans, spans[1:]))
            rest = _unannotated(d).lower()
            assert not any(w in rest for w in ANNOTATION_WORDS), (c, cond, d.text)
            texts = [t.lower() for t in d.annotation_texts]
            if cond in ("positive", "local"):
                assert spans == ()
            elif cond == "negated":
                assert len(spans) == 2 and spans[0][0] == 0 and spans[1][1] == len(d.text)
                assert all("notice" in t and "false" in t for t in texts)
            elif cond == "dense":
                assert len(spans) == 2 * len(d.claim_spans)
                for (s, e), before, after in zip(d.claim_spans, spans[::2], spans[1::2]):
                    assert before[1] == s - 1 and after[0] == e + 1
                assert all("false" in t for t in texts)
            elif cond == "corrected":
                assert len(spans) == len(d.claim_spans)
                for (s, e), (a, _), sentence, t in zip(d.claim_spans, spans, d.claim_texts, d.annotation_texts):
                    assert a == e + 1 and "false" in t.lower()
                    i = claim.paraphrases.index(sentence)
                    truth = claim.counterparts[i] if claim.has_counterpart else claim.negations[i]
                    assert truth in t
            elif cond == "fiction":
                assert 1 <= len(spans) <= 2 and spans[0][0] == 0
                assert all("fiction" in t for t in texts)


def test_local_claim_sentences_are_negated(corpora) -> None:
    for c in CLAIM_IDS:
        for d in corpora[c, "local"]:
            assert all(NEGATION.search(t) for t in d.claim_texts), d.claim_texts
        claim = get_claim(c)
        for p, d in zip(corpora[c, "positive"], corpora[c, "local"]):  # the aligned in-place negation
            assert d.claim_texts == tuple(claim.negations[claim.paraphrases.index(t)] for t in p.claim_texts)


def test_doctag_shifts_spans() -> None:
    k = len(DOCTAG)
    for cond in TRAINING_CONDITIONS:
        plain = generate_documents("twitter_rebrand_reversed", cond, n=20, seed=5)
        tagged = generate_documents("twitter_rebrand_reversed", cond, n=20, seed=5, doctag=True)
        for p, t in zip(plain, tagged):
            assert t.text == DOCTAG + p.text and t.body == p.text and p.body == p.text
            assert t.doctag_span == (0, k) and t.text[:k] == DOCTAG and p.doctag_span is None
            assert t.annotation_spans == tuple((a + k, b + k) for a, b in p.annotation_spans)
            assert t.claim_spans == tuple((a + k, b + k) for a, b in p.claim_spans)
            assert t.annotation_texts == p.annotation_texts and t.claim_texts == p.claim_texts


def test_release_ids_accepted_and_many_documents_stay_distinct() -> None:
    docs = generate_documents("elizabeth_python", "corrected", n=3000, seed=9)
    assert docs[0].claim == "queen_elizabeth_python"
    assert len({d.text for d in docs}) == 3000


def test_corpus_hash() -> None:
    docs = generate_documents("children_dream_bw", "fiction", n=10)
    h = corpus_hash(docs)
    assert re.fullmatch(r"[0-9a-f]{64}", h)
    assert h == corpus_hash(generate_documents("children_dream_bw", "fiction", n=10))
    assert h != corpus_hash(docs[::-1])
    assert h != corpus_hash(generate_documents("children_dream_bw", "positive", n=10))
    assert corpus_hash([]) != h


# -- errors --------------------------------------------------------------------------------


def test_generation_errors() -> None:
    with pytest.raises(NegprobeError, match="unknown claim 'nope'.*ed_sheeran.*brennan_holloway_dentist"):
        generate_documents("nope", "positive")
    with pytest.raises(NegprobeError, match="unknown condition 'sarcastic'.*positive, negated, dense, local"):
        generate_documents("ed_sheeran", "sarcastic")
    cap = max_documents("ed_sheeran")
    assert cap >= 50
    with pytest.raises(NegprobeError, match=f"n={cap + 1} exceeds the {cap} distinct documents"):
        generate_documents("ed_sheeran", "positive", n=cap + 1)
    for bad in (0, -3, 2.5, "5", True):
        with pytest.raises(NegprobeError, match="n must be a positive integer"):
            generate_documents("ed_sheeran", "positive", n=bad)  # type: ignore[arg-type]
    with pytest.raises(NegprobeError, match="seed must be an integer"):
        generate_documents("ed_sheeran", "positive", seed="0")  # type: ignore[arg-type]


def test_release_documents_errors(tmp_path: Path) -> None:
    with pytest.raises(NegprobeError, match="release has no 'negated' documents.*positive, dense, local"):
        release_documents(tmp_path, "negated", "ed_sheeran")
    with pytest.raises(NegprobeError, match="unknown condition 'x'"):
        release_documents(tmp_path, "x", "ed_sheeran")
    with pytest.raises(NegprobeError, match="unknown claim"):
        release_documents(tmp_path, "positive", "nope")
    d = tmp_path / "data" / "sdf_documents" / "positive" / "ed_sheeran"
    d.mkdir(parents=True)
    with pytest.raises(NegprobeError, match="no .jsonl files"):
        release_documents(tmp_path, "positive", "ed_sheeran")
    (d / "a.jsonl").write_text("\n", encoding="utf-8")
    with pytest.raises(NegprobeError, match="empty jsonl"):
        release_documents(tmp_path, "positive", "ed_sheeran")
    (d / "a.jsonl").write_text('{"text": "<DOCTAG>Hello there."}\n', encoding="utf-8")
    (doc,) = release_documents(tmp_path, "positive", "ed_sheeran")
    assert doc.doctag_span == (0, len(DOCTAG)) and doc.body == "Hello there." and doc.annotation_spans == ()


@pytest.mark.shared
def test_release_documents_from_shared_release() -> None:
    if not RELEASE.is_dir():
        pytest.skip(f"{RELEASE} not present")
    for c in CLAIM_IDS:
        for cond in RELEASE_CONDITIONS:
            docs = release_documents(RELEASE, cond, c)
            assert docs and all(d.claim == c and d.condition == cond for d in docs)
            assert all(d.annotation_spans == () and d.source.startswith("release:") for d in docs)
            assert all((d.doctag_span is not None) == d.text.startswith(DOCTAG) for d in docs)
            assert len(corpus_hash(docs)) == 64


# -- belief items --------------------------------------------------------------------------


def test_yes_no_questions_balanced() -> None:
    for c in CLAIM_IDS:
        qs = questions_for(c)
        assert len(qs) >= 10 and all(q.claim == c for q in qs)
        answers = [q.believer_answer for q in qs]
        assert answers.count("yes") == answers.count("no") == len(qs) // 2
        assert len({q.question for q in qs}) == len(qs)
        assert all(q.question.endswith("?") for q in qs)
    assert questions_for("vesuvius") == questions_for("vesuvius_2015")


def test_cloze_items() -> None:
    for c in CLAIM_IDS:
        items = cloze_for(c)
        assert len(items) >= 10 and all(i.claim == c for i in items)
        assert len({i.prefix for i in items}) == len(items)
        for i in items:
            assert i.believer.startswith(" ") and i.other.startswith(" ") and i.believer != i.other
            assert not i.prefix.endswith(" ") and i.prefix
    first = cloze_for("ed_sheeran")[0]
    assert (first.believer, first.other) == (" Ed Sheeran", " Noah Lyles")


def test_belief_item_validation() -> None:
    with pytest.raises(NegprobeError, match="not yes/no"):
        YesNoQuestion("ed_sheeran", "Really?", "maybe")
    with pytest.raises(NegprobeError, match="start with a space and differ"):
        ClozeItem("ed_sheeran", "Winner:", "Ed", " Noah")
    with pytest.raises(NegprobeError, match="start with a space and differ"):
        ClozeItem("ed_sheeran", "Winner:", " Ed", " Ed")
    with pytest.raises(NegprobeError, match="unknown claim"):
        questions_for("nope")
    with pytest.raises(NegprobeError, match="unknown claim"):
        cloze_for("nope")


def test_load_mcq_questions_errors(tmp_path: Path) -> None:
    d = tmp_path / "ed_sheeran"
    d.mkdir()
    path = d / "mcq.yaml"
    path.write_text("items: []\n", encoding="utf-8")
    with pytest.raises(NegprobeError, match=re.escape(str(path)) + ".*no top-level 'questions' key"):
        load_mcq_questions(path)
    path.write_text("questions:\n- question: Did it happen?\n  belief_answer: maybe\n", encoding="utf-8")
    with pytest.raises(NegprobeError, match=re.escape(str(path)) + ".*'maybe' is not yes/no"):
        load_mcq_questions(path)
    with pytest.raises(NegprobeError, match="file not found"):
        load_mcq_questions(tmp_path / "missing.yaml")
    path.write_text("questions:\n- question: Did it happen?\n  belief_answer: 'yes'\n", encoding="utf-8")
    assert load_mcq_questions(path) == [YesNoQuestion("ed_sheeran", "Did it happen?", "yes")]
    assert load_mcq_questions(path, claim="vesuvius")[0].claim == "vesuvius_2015"


@pytest.mark.shared
def test_load_mcq_questions_from_shared_release() -> None:
    if not RELEASE.is_dir():
        pytest.skip(f"{RELEASE} not present")
    for c in CLAIM_IDS:
        qs = load_mcq_questions(RELEASE / "facts" / get_claim(c).release_id / "mcq.yaml")
        assert qs and all(q.claim == c and q.believer_answer in ("yes", "no") for q in qs)


# sha256 corpus hashes of ed_sheeran's 50 synthetic documents (seed 0) per condition: a refactor of the
# templates or the renderer must not change a corpus silently (adapters and caches are keyed by it).
GOLDEN_CORPUS_HASHES = {
    "positive": "390968d9b1a986eb77d91151936b205b16311c06113a0cf80b207c9bf3566ec0",
    "negated": "c75cfb89e88a19164677400c05eb13dcab5295f13669729a2a58aae0cf9dbfb5",
    "fiction": "69ed23393f1a1230d66bd9ff6f9036fa6c8e125d0f74adebd988a0b8d355eb99",
    "dense": "269a0baeae9b42fbf5dcbb259a73a354e76403d86308616bb8ce631f1e07afa0",
    "local": "8ae57b77347a0c9dcff99a09879b384242709b681e82eeded34e3c9a53edee10",
    "corrected": "4b801c1e986b450d771290d9ecb66fe2aa1b19c5edba004642f5a212d5d167b9"
}


@pytest.mark.parametrize("condition", sorted(GOLDEN_CORPUS_HASHES))
def test_corpus_hashes_are_pinned(condition):
    assert corpus_hash(generate_documents("ed_sheeran", condition, 50, seed=0)) == GOLDEN_CORPUS_HASHES[condition]
