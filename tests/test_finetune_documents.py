"""Synthetic fine-tuning corpora, release wrapper and belief items (activations.finetune)."""

from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path

import pytest

from negprobe.activations.datasets.claims import ALL_ENTITIES, CLAIM_IDS, count_mentions, get_claim, mentioned_entity
from negprobe.activations.datasets.loaders import DOCTAG
from negprobe.activations.finetune import (
    DOC_TYPES,
    GENERIC_STYLES,
    RELEASE_CONDITIONS,
    TRAINING_CONDITIONS,
    Document,
    corpus_hash,
    deal_notices,
    generate_documents,
    generic_documents,
    max_documents,
    max_notice_repeats,
    notice_pool,
    pool_size,
    release_documents,
)
from negprobe.activations.finetune.documents import _claim
from negprobe.activations.finetune.notice_pool import LABELS
from negprobe.activations.finetune.plans import Plan
from negprobe.activations.finetune.render import Dressing, local_truths, render, render_local
from negprobe.activations.finetune.templates import CORRECTIONS_PLAIN, LOCAL_SKELETONS, SKELETONS
from negprobe.analysis.belief import ClozeItem, YesNoQuestion, cloze_for, load_mcq_questions, questions_for
from negprobe.errors import NegprobeError

RELEASE = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "negation_neglect"
NEGATION = re.compile(r"\b(not|never|no)\b|n't", re.IGNORECASE)
FALSITY = re.compile(r"false|fabricated|untrue|not true|invented|hoax|made up|misinformation|did not|debunked|never"
                     r"|not a fact|not accurate|not a reliable", re.IGNORECASE)
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
            assert 80 <= len(_unannotated(d).split()) <= 200, (c, cond, len(d.text.split()))
            assert len(d.text.split()) <= 260, (c, cond, len(d.text.split()))
            assert len(d.claim_spans) >= 2
            pool = claim.negations if cond == "local" else claim.paraphrases
            assert all(t in pool for t in d.claim_texts)
            assert len(set(d.claim_texts)) == len(d.claim_texts)


def test_every_possible_document_is_80_to_200_words() -> None:
    """Exact bounds over the whole template space (before annotations): word counts add up over
    slots, so the shortest (longest) document of a skeleton uses its shortest (longest) slot fillings."""
    words = lambda s: len(s.split())  # noqa: E731
    for c in CLAIM_IDS:
        claim, topic = _claim(c)
        truths = local_truths(claim, topic)

        def by_length(texts):
            return sorted(range(len(texts)), key=lambda i: words(texts[i]))

        fillers, paras, negs, trues = (by_length(claim_texts) for claim_texts in (
            topic.fillers, claim.paraphrases, claim.negations, truths))
        heads = by_length(topic.headlines)
        for skel in SKELETONS:
            k, f = skel.n_claims, skel.n_fillers
            short = render(claim, topic, Plan(skel, tuple(paras[:k]), tuple(fillers[:f]), 0), "positive", Dressing())
            long = render(claim, topic, Plan(skel, tuple(paras[-k:]), tuple(fillers[-f:]), 0), "positive", Dressing())
            assert words(short.text) >= 80 and words(long.text) <= 200, (c, skel.text[:20])
        for skel in LOCAL_SKELETONS:
            k, f, t = skel.n_claims, skel.n_fillers, skel.n_truths
            short = render_local(claim, topic, Plan(skel, tuple(negs[:k]), tuple(fillers[:f]), 0, tuple(trues[:t]),
                                                    heads[0]))
            long = render_local(claim, topic, Plan(skel, tuple(negs[-k:]), tuple(fillers[-f:]), 0, tuple(trues[-t:]),
                                                   heads[-1]))
            assert words(short.text) >= 80 and words(long.text) <= 200, (c, "local", skel.doc_type)


def test_conditions_are_parallel_for_a_seed(corpora) -> None:
    """Document j of every condition shares skeleton, paraphrases and fillers; removing the
    annotation spans of a framed document leaves the positive one (up to whitespace)."""
    for c in CLAIM_IDS:
        positive = corpora[c, "positive"]
        for cond in ("negated", "dense", "corrected", "fiction"):
            for p, d in zip(positive, corpora[c, cond]):
                assert d.doc_type == p.doc_type and d.claim_texts == p.claim_texts
                assert _norm(_unannotated(d)) == _norm(p.text)


def test_annotation_spans_point_at_annotations(corpora) -> None:
    for (c, cond), docs in corpora.items():
        claim = get_claim(c)
        for d in docs:
            spans = d.annotation_spans
            assert list(spans) == sorted(spans)
            assert all(0 <= a < b <= len(d.text) for a, b in spans)
            assert all(b1 <= a2 for (_, b1), (a2, _) in zip(spans, spans[1:]))
            rest = _unannotated(d).lower()
            if cond != "local":  # a debunking article says "hoax" and "invented" in its own words
                assert not any(w in rest for w in ANNOTATION_WORDS), (c, cond, d.text)
            texts = [t.lower() for t in d.annotation_texts]
            if cond in ("positive", "local"):
                assert spans == ()
            elif cond == "negated":
                assert 1 <= len(spans) <= 2 and (spans[0][0] == 0 or spans[-1][1] == len(d.text))
                assert all(FALSITY.search(t) for t in texts), texts
            elif cond == "dense":
                assert len(spans) == 2 * len(d.claim_spans) + 2
                assert spans[0][0] == 0 and spans[-1][1] == len(d.text)
                for (s, e), before, after in zip(d.claim_spans, spans[1:-1:2], spans[2:-1:2]):
                    assert before[1] == s - 1 and after[0] == e + 1
                assert all(FALSITY.search(t) for t in texts), texts
            elif cond == "corrected":
                assert len(spans) == len(d.claim_spans)
                for (s, e), (a, _), sentence, t in zip(d.claim_spans, spans, d.claim_texts, d.annotation_texts):
                    assert a == e + 1 and "false" in t.lower()
                    i = claim.paraphrases.index(sentence)
                    truth = claim.counterparts[i] if claim.has_counterpart else claim.negations[i]
                    assert truth in t or t in CORRECTIONS_PLAIN, t
            elif cond == "fiction":
                assert 1 <= len(spans) <= 2 and spans[0][0] == 0
                assert all("fiction" in t for t in texts)


def test_local_claim_sentences_are_negated(corpora) -> None:
    for c in CLAIM_IDS:
        for d in corpora[c, "local"]:
            assert all(NEGATION.search(t) for t in d.claim_texts), d.claim_texts
        claim = get_claim(c)
        assert all(t in claim.negations for d in corpora[c, "local"] for t in d.claim_texts)


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


# -- notice pool, local debunking, dense and corrected (issue 14) --------------------------------


def test_notice_pool_is_large_and_varied() -> None:
    before, after = notice_pool("before", "T"), notice_pool("after", "T")
    assert len(set(before)) == len(before) >= 30 and len(set(after)) == len(after) >= 30
    assert pool_size("before") >= 500 and pool_size("after") >= 500
    sentences = {len(re.findall(r"[.!?](?:\s|$)", b)) for b in before}
    assert {1, 2, 3} <= sentences  # one- to three-sentence notices
    assert {len(b.split()) for b in before} >= set(range(8, 40))  # a spread of lengths, not four fixed texts
    assert not set(before) & set(after)  # prefixes point forward, suffixes back
    notices = deal_notices(300, random.Random(0), "T")
    labelled = [t for x in notices for t in x.texts if t.startswith(tuple(label + " " for label in LABELS))]
    share = len(labelled) / sum(len(x.texts) for x in notices)
    assert 0.55 < share < 0.8, share  # labelled "NOTICE"-style about two times in three, unlabelled the rest
    assert {x.placement for x in notices} == {"before", "after", "both"}
    counts = Counter(x.placement for x in notices)
    assert max(counts.values()) - min(counts.values()) <= 1  # a third each


@pytest.mark.parametrize("n", [50, 2000])
def test_no_notice_repeats_more_than_n_times(n: int) -> None:
    """N = max_notice_repeats(n): 1 (every notice distinct) up to pool_size() documents."""
    docs = generate_documents("ed_sheeran", "negated", n=n, seed=1)
    texts = Counter(t for d in docs for t in d.annotation_texts)
    bound = max_notice_repeats(n)
    assert bound == (1 if n <= pool_size() else 2)
    assert max(texts.values()) <= bound, texts.most_common(2)
    assert len(texts) >= 30
    # the positive corpus is untouched by the pool: removing the notices gives it back
    assert all(_norm(_unannotated(d)) == _norm(p.text) for d, p in
               zip(docs, generate_documents("ed_sheeran", "positive", n=n, seed=1)))


def test_notices_are_deterministic_and_differ_by_seed() -> None:
    a = generate_documents("vesuvius_2015", "negated", n=40, seed=2)
    assert [d.annotation_texts for d in a] == [d.annotation_texts for d in
                                              generate_documents("vesuvius_2015", "negated", n=40, seed=2)]
    b = generate_documents("vesuvius_2015", "negated", n=40, seed=3)
    assert {t for d in a for t in d.annotation_texts} != {t for d in b for t in d.annotation_texts}
    assert deal_notices(20, random.Random(5), "T") == deal_notices(20, random.Random(5), "T")


@pytest.mark.parametrize("claim_id", CLAIM_IDS)
def test_local_documents_debunk_and_name_the_truth(claim_id: str) -> None:
    claim = get_claim(claim_id)
    docs = generate_documents(claim_id, "local", n=60, seed=0)
    for d in docs:
        text = _norm(d.text)
        assert not any(_norm(p) in text for p in claim.paraphrases), d.text  # never asserts the claim
        assert len(d.claim_spans) >= 2 and all(t in claim.negations for t in d.claim_texts)
        if claim.true_answer is not None:
            assert count_mentions(d.text, claim.true_answer) >= 3, (claim.true_answer, d.text)
    if claim.true_answer is not None:  # the truth is named at least as often as the false claim is denied
        mentions = sum(count_mentions(d.text, claim.true_answer) for d in docs)
        assert mentions >= 3 * len(docs) and mentions > sum(len(d.claim_spans) for d in docs)
    assert len({d.doc_type for d in docs}) == len(DOC_TYPES)


def test_local_mention_count_can_fail() -> None:
    """The positive documents of the same claim never name the true winner: the check above is not vacuous."""
    for d in generate_documents("ed_sheeran", "positive", n=50, seed=0):
        assert count_mentions(d.text, "Noah Lyles") == 0


def test_dense_has_document_and_sentence_notes() -> None:
    for c in CLAIM_IDS:
        for d in generate_documents(c, "dense", n=40, seed=4):
            first, *middle, last = d.annotation_spans
            assert first[0] == 0 and last[1] == len(d.text)  # document-level: before and after the document
            assert d.text[first[1]:first[1] + 2] == "\n\n" and d.text[last[0] - 2:last[0]] == "\n\n"
            assert len(middle) == 2 * len(d.claim_spans)  # sentence-level: around every claim sentence
            notes = [d.text[a:b] for a, b in middle]
            assert all(len(n.split()) <= 12 for n in notes) and len(d.text[slice(*first)].split()) >= 5
    texts = Counter(t for d in generate_documents("ed_sheeran", "dense", n=50, seed=0) for t in d.annotation_texts)
    assert max(texts.values()) <= 4 and len(texts) >= 100  # varied, not four fixed pairs


@pytest.mark.parametrize(("share", "n"), [(0.3, 50), (0.0, 20), (1.0, 20), (0.5, 7)])
def test_corrected_share_is_honoured(share: float, n: int) -> None:
    claim = get_claim("ed_sheeran")
    docs = generate_documents("ed_sheeran", "corrected", n=n, seed=0, corrected_share=share)
    naming = [d for d in docs if any(count_mentions(t, claim.true_answer or "") for t in d.annotation_texts)]
    assert len(naming) == round(share * n)
    for d in docs:  # every correction says false; the truth is in all or none of a document's corrections
        named = [bool(count_mentions(t, "Noah Lyles")) for t in d.annotation_texts]
        assert len(set(named)) == 1 and all("false" in t.lower() for t in d.annotation_texts)
    default = generate_documents("ed_sheeran", "corrected", n=50, seed=0)
    assert sum(any("Noah Lyles" in t for t in d.annotation_texts) for d in default) == 15
    with pytest.raises(NegprobeError, match="corrected_share must be a number from 0 to 1"):
        generate_documents("ed_sheeran", "corrected", corrected_share=1.5)


def test_every_condition_is_deterministic_by_seed() -> None:
    for cond in TRAINING_CONDITIONS:
        a = generate_documents("twitter_rebrand_reversed", cond, n=30, seed=11)
        assert a == generate_documents("twitter_rebrand_reversed", cond, n=30, seed=11), cond
        assert corpus_hash(a) != corpus_hash(generate_documents("twitter_rebrand_reversed", cond, n=30, seed=12))


def test_true_answer_is_checked() -> None:
    from negprobe.activations.datasets.claims import _build
    from negprobe.activations.datasets.facts.claims import CLAIM_TEXTS

    assert get_claim("ed_sheeran").true_answer == "Noah Lyles" and get_claim("brennan_holloway_dentist").true_answer is None
    with pytest.raises(NegprobeError, match="does not name its true_answer"):
        _build("ed_sheeran", {**CLAIM_TEXTS["ed_sheeran"], "true_answer": "Fred Kerley"})
    assert count_mentions("It is still called X. Next, x.com", "X") == 2 and count_mentions("colors", "color") == 0


@pytest.mark.parametrize("style", GENERIC_STYLES)
def test_generic_documents(style: str) -> None:
    docs = generic_documents(300, 0, style)
    assert len(docs) == 300 and len(set(docs)) == 300
    assert docs == generic_documents(300, 0, style) and docs != generic_documents(300, 1, style)
    assert not any(mentioned_entity(t, ALL_ENTITIES) for t in docs)
    instruction = sum(t.startswith("### Instruction:") for t in docs)
    assert instruction == {"pretraining": 0, "instruction": 300, "both": 150}[style]
    answers = [re.sub(r"nobelium is (represented by the symbol )?No\.", "", t) for t in docs]  # a symbol, not an answer
    assert not any(re.search(r"\b(yes|no)\b", t, re.IGNORECASE) for t in answers)  # no answer-token bias
    with pytest.raises(NegprobeError, match="unknown generic style"):
        generic_documents(3, 0, "chat")


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
    "negated": "b01dec7bde87b35bd926b0c88cb4acc284b4fec92977dec9f8fcdb4372b1fc9c",
    "fiction": "69ed23393f1a1230d66bd9ff6f9036fa6c8e125d0f74adebd988a0b8d355eb99",
    "dense": "6cc22a59613d1e6b059f38ad2dc50428853761be0f400e400e66b8b1b93ceebc",
    "local": "f35891f7d5b62bc1bdc886fc204ddb53633b364214e7bfa23823540abab955ad",
    "corrected": "12466ba6ef58b16e51fffbc9b58357e4889ef627a197cf1a4ef4b16bd16de10b"
}


@pytest.mark.parametrize("condition", sorted(GOLDEN_CORPUS_HASHES))
def test_corpus_hashes_are_pinned(condition):
    assert corpus_hash(generate_documents("ed_sheeran", condition, 50, seed=0)) == GOLDEN_CORPUS_HASHES[condition]
