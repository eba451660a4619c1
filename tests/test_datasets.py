"""Built-in datasets, record/dataset API, hashing, formatting, registry and CLI table."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import replace

import pytest

from negprobe.activations.datasets import (
    CLAIM_IDS,
    FormatSpec,
    PromptDataset,
    PromptRecord,
    check_negation_pairs,
    format_dataset,
    format_prompt,
    get_claim,
    list_datasets,
    load_dataset,
)
from negprobe.activations.datasets.claim_prompts import CLAIM_CONDITIONS, build_all_claims, build_claim_dataset
from negprobe.activations.datasets.in_context import IN_CONTEXT_CONDITIONS, build_all_in_context
from negprobe.activations.datasets.numbers import number_words
from negprobe.activations.datasets.records import span_from_str
from negprobe.activations.datasets.topics import TRUTH_TOPICS, build_topic
from negprobe.errors import NegprobeError


def _tiny_chat_tokenizer(template: str | None = None):
    """A word-level tokenizer built in code (no downloads) with a ChatML-like template."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel({"[UNK]": 0, "<|im_start|>": 1, "<|im_end|>": 2}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]")
    fast.chat_template = template or (
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    return fast


# -- topics ------------------------------------------------------------------------------


@pytest.mark.parametrize("topic", TRUTH_TOPICS)
def test_topic_size_balance_and_templates(topic: str) -> None:
    ds = load_dataset(topic)
    assert len(ds) >= 200
    counts = Counter(ds.labels())
    assert set(counts) == {0, 1}
    assert abs(counts[0] - counts[1]) <= 0.1 * len(ds)
    assert len({r.get_extra("template") for r in ds}) >= 3
    assert len(set(ds.texts())) == len(ds), "duplicate statements"
    for r in ds:
        assert r.claim_span == (0, len(r.text))
        assert r.polarity == "affirmed" and r.condition == "plain" and r.claim is None
    # one true and one false statement per entity, so splitting by group never leaks
    assert max(Counter(r.group for r in ds).values()) <= 2


@pytest.mark.parametrize("topic", TRUTH_TOPICS)
def test_negated_twin_is_row_aligned_with_flipped_labels(topic: str) -> None:
    pos, neg = load_dataset(topic), load_dataset(f"neg_{topic}")
    assert neg.name == f"neg_{topic}"
    assert check_negation_pairs(pos, neg) == []
    for a, n in zip(pos, neg):
        assert a.label is not None and n.label == 1 - a.label
        assert a.group == n.group and a.pair_id == n.pair_id
        assert n.polarity == "negated" and n.condition == "local_negation"
        assert " not " in n.text and " not " not in a.text
        assert n.claim_span == (0, len(n.text))


def test_topic_facts_are_consistent() -> None:
    for r in load_dataset("cities"):
        assert (r.get_extra("country") == r.get_extra("correct_country")) == (r.label == 1)
        assert r.group in r.text and r.get_extra("country") in r.text
    for r in load_dataset("elements"):
        assert (r.get_extra("symbol") == r.get_extra("correct_symbol")) == (r.label == 1)
    truth = {r.text for r in load_dataset("elements") if r.label == 1}
    assert any(t in truth for t in ("The chemical symbol for gold is Au.", "Gold has the chemical symbol Au.",
                                    "Au is the chemical symbol of gold.",
                                    "The element gold is represented by the symbol Au."))
    for r in load_dataset("animals"):
        assert (r.get_extra("class") == r.get_extra("correct_class")) == (r.label == 1)
    for r in load_dataset("larger_than"):
        n1, n2 = int(r.get_extra("n1")), int(r.get_extra("n2"))
        assert r.label == int(n1 > n2)
        assert r.group == f"{min(n1, n2)}-{max(n1, n2)}"
        assert str(n1) in r.text or number_words(n1) in r.text.lower()


def test_number_words() -> None:
    assert number_words(7) == "seven"
    assert number_words(57) == "fifty-seven"
    assert number_words(300) == "three hundred"
    assert number_words(415) == "four hundred and fifteen"
    with pytest.raises(NegprobeError):
        number_words(1000)


# -- claims ------------------------------------------------------------------------------


def _expected_claim_sentence(r: PromptRecord) -> str:
    claim = get_claim(r.claim)
    i = int(r.get_extra("paraphrase"))
    if r.condition == "local_negation":
        return claim.negations[i]
    if r.condition == "true_counterpart":
        return claim.counterparts[i]
    return claim.paraphrases[i]


@pytest.mark.parametrize("claim_id", CLAIM_IDS)
def test_each_claim_has_all_conditions_and_paraphrases(claim_id: str) -> None:
    claim = get_claim(claim_id)
    ds = load_dataset(f"claims/{claim_id}")
    expected = set(CLAIM_CONDITIONS) - (set() if claim.has_counterpart else {"true_counterpart"})
    assert {r.condition for r in ds} == expected
    plain = ds.filter(condition="plain")
    assert len(plain) >= 10 and len(set(plain.texts())) == len(plain)
    per_condition = Counter(r.condition for r in ds)
    assert all(per_condition[c] == len(plain) for c in expected)
    assert all(r.group == claim_id and r.claim == claim_id for r in ds)
    assert claim.false_statement in plain.texts()
    assert claim.cloze_prefix and claim.believer_continuation.startswith(" ")
    if claim.true_continuation is not None:
        assert claim.true_continuation != claim.believer_continuation


def test_claim_labels_and_polarity() -> None:
    expected = {
        "plain": (0, "affirmed", "0"),
        "true_counterpart": (1, "affirmed", "1"),
        "local_negation": (1, "negated", "1"),
        "sentence_annotation": (1, "negated", "0"),
        "doc_notice": (1, "negated", "0"),
        "dense": (1, "negated", "0"),
        "corrected": (1, "negated", "0"),
        "fiction": (None, "affirmed", "0"),
    }
    for r in load_dataset("claims"):
        assert (r.label, r.polarity, r.get_extra("span_label")) == expected[r.condition], r


def test_claim_spans_point_at_the_inserted_sentence() -> None:
    ds = load_dataset("claims")
    assert len(ds) == sum(len(load_dataset(f"claims/{c}")) for c in CLAIM_IDS)
    for r in ds:
        start, end = r.claim_span
        assert r.text[start:end] == _expected_claim_sentence(r), r
        if r.condition == "sentence_annotation":
            assert start == 0 and r.text[end:].strip().endswith(".") and len(r.text) > end
        if r.condition == "doc_notice":
            assert r.text.startswith("NOTICE:") and "NOTICE:" in r.text[end:]
        if r.condition == "dense":
            spans = [span_from_str(s) for s in r.get_extra("claim_spans").split(";")]
            assert spans[0] == r.claim_span and len(spans) >= 2
            claim = get_claim(r.claim)
            for s0, s1 in spans:
                assert r.text[s0:s1] in claim.paraphrases
                assert r.text[:s0].rstrip().endswith("]") and r.text[s1:].lstrip().startswith("[")
        if r.condition == "corrected":
            t0, t1 = span_from_str(r.get_extra("truth_span"))
            assert t0 > end and get_claim(r.claim).negations[int(r.get_extra("paraphrase"))] in r.text[t0:t1]


def test_plain_and_local_negation_are_paired() -> None:
    ds = load_dataset("claims")
    by_pair: dict[str, dict[str, PromptRecord]] = {}
    for r in ds:
        by_pair.setdefault(r.pair_id, {})[r.condition] = r
    for pair in by_pair.values():
        assert pair["plain"].label == 1 - pair["local_negation"].label


def test_in_context_spans_in_both_places() -> None:
    ds = load_dataset("in_context")
    assert {r.condition for r in ds} == set(IN_CONTEXT_CONDITIONS.values())
    assert len(ds) == sum(len(load_dataset(f"in_context/{c}")) for c in CLAIM_IDS)
    for r in ds:
        claim = get_claim(r.claim)
        i = int(r.get_extra("paraphrase"))
        d0, d1 = span_from_str(r.get_extra("doc_claim_span"))
        doc_sentence = claim.negations[i] if r.condition == "in_context_local" else claim.paraphrases[i]
        assert r.text[d0:d1] == doc_sentence
        start, end = r.claim_span
        probe = r.get_extra("probe")
        annotated = r.condition in ("in_context_notice", "in_context_dense", "in_context_local")
        if probe == "document":  # the document alone: what it asserts is flagged false or negated when annotated
            assert (start, end) == (d0, d1) and r.label == int(annotated)
        else:
            final = claim.question if probe == "question" else claim.false_statement
            assert r.text[start:end] == final
            assert d1 < start
            assert r.label == 0
        assert r.polarity == ("negated" if annotated else "affirmed")


# -- dataset API and hashing -------------------------------------------------------------


def _manual_hash(ds: PromptDataset) -> str:
    h = hashlib.sha256()
    for r in ds:
        row = {
            "text": r.text, "label": r.label, "polarity": r.polarity, "condition": r.condition,
            "group": r.group, "pair_id": r.pair_id, "source": r.source,
            "claim_span": list(r.claim_span) if r.claim_span else None, "claim": r.claim,
            "extra": [list(kv) for kv in r.extra],
        }
        h.update(json.dumps(row, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
    return h.hexdigest()


def test_content_hash_is_stable_and_sensitive(tmp_path) -> None:
    builds = [
        (build_topic("cities"), build_topic("cities")),
        (build_topic("larger_than", True), build_topic("larger_than", True)),
        (build_all_claims(), build_all_claims()),
        (build_all_in_context(), build_all_in_context()),
    ]
    for a, b in builds:
        assert a is not b
        assert a.content_hash() == b.content_hash() == _manual_hash(a)
        assert len(a.content_hash()) == 64
    ds = build_claim_dataset("vesuvius_2015")
    changed = PromptDataset(ds.name, ds.records[:5] + (replace(ds[5], label=1 - (ds[5].label or 0)),) + ds.records[6:])
    assert changed.content_hash() != ds.content_hash()
    reordered = PromptDataset(ds.name, (ds[1], ds[0]) + ds.records[2:])
    assert reordered.content_hash() != ds.content_hash()
    extra_changed = PromptDataset(ds.name, (replace(ds[0], extra=ds[0].extra + (("k", "v"),)),) + ds.records[1:])
    assert extra_changed.content_hash() != ds.content_hash()
    # the name is not part of the content
    assert PromptDataset("other", ds.records).content_hash() == ds.content_hash()
    path = ds.to_jsonl(tmp_path / "sub" / "v.jsonl")
    back = PromptDataset.from_jsonl(path)
    assert back.name == ds.name and back.records == ds.records
    assert back.content_hash() == ds.content_hash()
    assert not [p for p in path.parent.iterdir() if p.name != "v.jsonl"], "temp file left behind"


def test_dataset_api() -> None:
    ds = load_dataset("claims/ed_sheeran")
    assert len(ds) == len(list(ds)) == len(ds.texts()) == len(ds.labels())
    assert ds[0] is ds.records[0]
    assert isinstance(ds[2:5], PromptDataset) and len(ds[2:5]) == 3
    plain = ds.filter(condition="plain")
    assert plain and all(r.condition == "plain" for r in plain)
    both = ds.filter(condition=["plain", "fiction"], label=0)
    assert {r.condition for r in both} == {"plain"}
    assert len(ds.filter(condition={"plain", "fiction"})) == 2 * len(plain)
    with pytest.raises(NegprobeError, match="unknown field"):
        ds.filter(colour="red")
    joined = PromptDataset.concat(ds, load_dataset("cities"), name="mix")
    assert joined.name == "mix" and len(joined) == len(ds) + len(load_dataset("cities"))
    assert joined[len(ds)] == load_dataset("cities")[0]
    frame = ds.to_frame()
    assert list(frame.columns) == ["text", "label", "polarity", "condition", "group", "pair_id", "source",
                                   "claim_start", "claim_end", "claim", "extra"]
    assert len(frame) == len(ds)
    row = frame.iloc[3]
    assert row["text"][row["claim_start"]:row["claim_end"]] == ds[3].claim_text
    assert json.loads(row["extra"])["paraphrase"] == ds[3].get_extra("paraphrase")
    fiction = frame[frame["condition"] == "fiction"]
    assert fiction["label"].isna().all()


def test_record_validation() -> None:
    good = dict(text="Paris is in France.", label=1, polarity="affirmed", condition="plain", group="Paris",
                pair_id=None, source="t", claim_span=(0, 19), claim=None)
    PromptRecord(**good)
    for bad in ({"polarity": "positive"}, {"condition": "weird"}, {"label": 2}, {"label": True},
                {"claim_span": (5, 100)}, {"claim_span": (3, 2)}, {"text": ""}, {"extra": (("a",),)}):
        with pytest.raises(NegprobeError):
            PromptRecord(**{**good, **bad})
    with pytest.raises(NegprobeError, match="jsonl"):
        PromptRecord.from_dict({"text": "x"}, where="f.jsonl:1")


# -- formatting --------------------------------------------------------------------------


def test_format_raw_and_doctag() -> None:
    r = load_dataset("claims/ed_sheeran").filter(condition="doc_notice")[0]
    raw = format_prompt(r)
    assert raw.text == r.text and raw.claim_span == r.claim_span and raw.offset == 0
    tagged = format_prompt(r, doctag=True)
    assert tagged.text == "<DOCTAG>" + r.text
    assert tagged.text[slice(*tagged.claim_span)] == r.claim_text
    assert format_prompt("plain string").claim_span is None


@pytest.mark.parametrize("doctag", [False, True])
@pytest.mark.parametrize("gen", [False, True])
def test_chat_template_keeps_spans(doctag: bool, gen: bool) -> None:
    tok = _tiny_chat_tokenizer()
    ds = PromptDataset.concat(load_dataset("claims"), load_dataset("in_context"), load_dataset("cities")[:20])
    out = format_dataset(ds, tok, chat=True, doctag=doctag, add_generation_prompt=gen)
    assert len(out) == len(ds)
    for r, f in zip(ds, out):
        assert f.text.startswith("<|im_start|>system")
        assert f.text.endswith("<|im_start|>assistant\n") == gen
        assert f.text[slice(*f.claim_span)] == r.claim_text
        assert f.text[f.offset:f.offset + len(r.text)] == r.text
        doc_span = r.get_extra("doc_claim_span")
        if doc_span:
            s = f.shift(span_from_str(doc_span))
            assert f.text[slice(*s)] == r.text[slice(*span_from_str(doc_span))]


def test_chat_template_errors() -> None:
    r = load_dataset("cities")[0]
    with pytest.raises(NegprobeError, match="tokenizer"):
        format_prompt(r, None, chat=True)
    tok = _tiny_chat_tokenizer()
    tok.chat_template = None
    with pytest.raises(NegprobeError, match="chat template"):
        format_prompt(r, tok, chat=True)
    # a template that rewrites the content cannot keep spans: clear error, not a wrong span
    upper = _tiny_chat_tokenizer("{% for m in messages %}{{ m['content'] | upper }}{% endfor %}")
    with pytest.raises(NegprobeError, match="changed the prompt"):
        format_prompt(r, upper, chat=True)


def test_format_spec_key() -> None:
    tok = _tiny_chat_tokenizer()
    keys = {FormatSpec().key(), FormatSpec(doctag=True).key(), FormatSpec(chat=True).key(),
            FormatSpec(chat=True, add_generation_prompt=False).key(), FormatSpec(chat=True).key(tok)}
    assert len(keys) == 5
    assert FormatSpec().key() == FormatSpec(add_generation_prompt=False).key()  # irrelevant without chat
    assert FormatSpec(chat=True).key(tok) == FormatSpec(chat=True).key(_tiny_chat_tokenizer())
    r = load_dataset("cities")[0]
    assert FormatSpec(chat=True, doctag=True).format(r, tok) == format_prompt(r, tok, chat=True, doctag=True)


# -- registry and CLI ------------------------------------------------------------------------


def test_registry_lists_everything() -> None:
    infos = {i.name: i for i in list_datasets()}
    for t in TRUTH_TOPICS:
        assert t in infos and f"neg_{t}" in infos
        assert infos[t].n_rows == infos[f"neg_{t}"].n_rows >= 200
    for c in CLAIM_IDS:
        assert f"claims/{c}" in infos and f"in_context/{c}" in infos
    assert infos["claims"].n_rows == sum(infos[f"claims/{c}"].n_rows for c in CLAIM_IDS)
    assert all(i.description for i in infos.values())
    assert all(len(load_dataset(n)) == i.n_rows for n, i in infos.items())


def test_load_dataset_paths_and_unknown(tmp_path) -> None:
    with pytest.raises(NegprobeError) as err:
        load_dataset("citiez")
    assert "citiez" in str(err.value) and "neg_cities" in str(err.value) and "claims/ed_sheeran" in str(err.value)
    with pytest.raises(NegprobeError, match="missing.csv"):
        load_dataset(tmp_path / "missing.csv")
    csv_path = tmp_path / "mine.csv"
    csv_path.write_text("statement,label\nThe sky is blue.,1\nThe sky is green.,0\n", encoding="utf-8")
    ds = load_dataset(str(csv_path))
    assert ds.texts() == ["The sky is blue.", "The sky is green."] and ds.labels() == [1, 0]
    jl = load_dataset("neg_animals").to_jsonl(tmp_path / "a.jsonl")
    assert load_dataset(jl).content_hash() == load_dataset("neg_animals").content_hash()
    txt = tmp_path / "x.txt"
    txt.write_text("hi", encoding="utf-8")
    with pytest.raises(NegprobeError, match="x.txt"):
        load_dataset(txt)


def _render(renderable) -> str:
    import io

    from rich.console import Console

    console = Console(width=200, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def test_datasets_table() -> None:
    from negprobe.activations.datasets.cli import datasets_table

    listing = _render(datasets_table())
    for info in list_datasets():
        assert info.name in listing
    assert str(len(load_dataset("cities"))) in listing
    rows = _render(datasets_table("neg_cities", limit=3))
    first = load_dataset("neg_cities")[0]
    assert first.text in rows and "local_negation" in rows and first.group in rows
    assert load_dataset("neg_cities")[3].text not in rows
    with pytest.raises(NegprobeError):
        datasets_table("nope")
    with pytest.raises(NegprobeError):
        datasets_table("cities", limit=-1)
