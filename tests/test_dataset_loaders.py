"""Loaders: truth CSVs, the Negation Neglect release layout, and bad-input errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from negprobe.activations.datasets import (
    CLAIM_IDS,
    PromptDataset,
    check_negation_pairs,
    get_claim,
    load_release_claim,
    load_sdf_documents,
    load_truth_csv,
)
from negprobe.activations.datasets.loaders import DOCTAG, is_negated_statement, list_release_claims, sdf_dataset
from negprobe.errors import NegprobeError

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
TRUTH = SHARED / "truth"
RELEASE = SHARED / "negation_neglect"
SDF_CONDITIONS = ("positive", "local_negations", "llm_negations_dense")


def _need(path: Path) -> None:
    if not path.is_dir():
        pytest.skip(f"{path} not present")


# -- shared data -------------------------------------------------------------------------


@pytest.mark.shared
def test_all_truth_csvs_load() -> None:
    _need(TRUTH)
    files = sorted(TRUTH.glob("*.csv"))
    assert files
    for f in files:
        ds = load_truth_csv(f)
        n_lines = len(f.read_text(encoding="utf-8").splitlines()) - 1
        assert len(ds) == n_lines and ds.name == f.stem
        assert set(ds.labels()) == {0, 1}
        for r in ds:
            assert r.claim_span == (0, len(r.text)) and r.source == f"csv:{f.name}"
        negated = f.name.startswith("neg_")
        assert all((r.polarity == "negated") == negated for r in ds), f.name
        if "city" in ds[0].text.lower():
            assert all(r.group == r.get_extra("city") for r in ds)


@pytest.mark.shared
def test_shared_negation_pairs_are_aligned() -> None:
    _need(TRUTH)
    if not (TRUTH / "cities.csv").is_file() or not (TRUTH / "neg_cities.csv").is_file():
        pytest.skip("cities/neg_cities not present")
    cities, neg = load_truth_csv(TRUTH / "cities.csv"), load_truth_csv(TRUTH / "neg_cities.csv")
    assert check_negation_pairs(cities, neg) == []
    assert [r.pair_id for r in cities] == [r.pair_id for r in neg]
    if (TRUTH / "larger_than.csv").is_file() and (TRUTH / "smaller_than.csv").is_file():
        larger, smaller = load_truth_csv(TRUTH / "larger_than.csv"), load_truth_csv(TRUTH / "smaller_than.csv")
        assert check_negation_pairs(larger, smaller) == []
        assert larger[0].group == f"{min(int(larger[0].get_extra('n1')), int(larger[0].get_extra('n2')))}-" \
                                  f"{max(int(larger[0].get_extra('n1')), int(larger[0].get_extra('n2')))}"
    # a mismatched pair is detected
    assert check_negation_pairs(cities, cities)
    with pytest.raises(NegprobeError, match="cities"):
        check_negation_pairs(cities, neg[:-1], raise_on_error=True)


@pytest.mark.shared
@pytest.mark.parametrize("claim_id", CLAIM_IDS)
def test_release_claim_files(claim_id: str) -> None:
    _need(RELEASE)
    claim = get_claim(claim_id)
    assert claim.release_id in list_release_claims(RELEASE)
    rc = load_release_claim(RELEASE, claim_id)
    assert rc == load_release_claim(RELEASE, claim.release_id)
    assert rc.claim_text == (RELEASE / "facts" / claim.release_id / "claim.txt").read_text(encoding="utf-8").strip()
    assert rc.mcq and all(q.belief_answer in ("yes", "no") and q.question.endswith("?") for q in rc.mcq)
    assert rc.belief_probes and all(q.belief_answer is None and q.question for q in rc.belief_probes)
    assert len({q.id for q in rc.mcq}) == len(rc.mcq)
    assert rc.universe_context and rc.subclaims
    for condition in SDF_CONDITIONS:
        docs = load_sdf_documents(RELEASE, condition, claim_id)
        assert docs
        for d in docs:
            assert d.fact_name == claim.release_id and d.mode == condition
            assert d.text.startswith(DOCTAG) and not d.body.startswith(DOCTAG) and d.body.strip()
        ds = sdf_dataset(RELEASE, condition, claim_id)
        assert len(ds) == len(docs) and all(r.claim == claim_id for r in ds)


# -- bad inputs (each writes a small file in tmp_path) ------------------------------------


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    p = tmp_path / name
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content, encoding="utf-8")
    return p


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("no_statement.csv", "text,label\nParis is in France.,1\n", "statement"),
        ("no_label.csv", "statement,truth\nParis is in France.,1\n", "label"),
        ("nonbinary.csv", "statement,label\nParis is in France.,1\nRome is in Spain.,2\n", "not binary"),
        ("maybe.csv", "statement,label\nParis is in France.,maybe\n", "not binary"),
        ("empty.csv", "", "empty"),
        ("header_only.csv", "statement,label\n", "no data rows"),
        ("latin1.csv", "statement,label\nS\u00e3o Paulo is in Brazil.,1\n".encode("latin-1"), "UTF-8"),
        ("dupes.csv", "statement,label\nParis is in France.,1\nRome is in Italy.,1\nParis is in France.,0\n",
         "conflicting labels"),
        ("blank_statement.csv", "statement,label\n ,1\n", "empty 'statement'"),
    ],
)
def test_bad_csv(tmp_path: Path, name: str, content: str | bytes, match: str) -> None:
    path = _write(tmp_path, name, content)
    with pytest.raises(NegprobeError, match=match) as err:
        load_truth_csv(path)
    assert name in str(err.value)


def test_csv_label_forms_and_polarity(tmp_path: Path) -> None:
    path = _write(tmp_path, "mixed.csv",
                  "statement,label,city\nParis is in France.,True,Paris\nParis is not in Peru.,true,Paris\n"
                  "Rome is in Peru.,FALSE,Rome\nParis is in France.,1,Paris\n")
    ds = load_truth_csv(path)
    assert ds.labels() == [1, 1, 0, 1]
    assert [r.polarity for r in ds] == ["affirmed", "negated", "affirmed", "affirmed"]
    assert [r.group for r in ds] == ["Paris", "Paris", "Rome", "Paris"]
    neg = load_truth_csv(_write(tmp_path, "neg_mixed.csv", "statement,label\nParis is not in France.,0\n"))
    assert neg[0].polarity == "negated" and neg[0].pair_id == ds[0].pair_id and neg[0].group == neg[0].text
    assert load_truth_csv(_write(tmp_path, "bom.csv", "\ufeffstatement,label\nA.,1\n")).texts() == ["A."]
    assert is_negated_statement("Dogs aren't reptiles.") and not is_negated_statement("Nobelium is No.")


def test_check_negation_pairs_reports(tmp_path: Path) -> None:
    a = load_truth_csv(_write(tmp_path, "a.csv", "statement,label\nX is A.,1\nY is B.,0\nZ is C.,1\n"))
    good = load_truth_csv(_write(tmp_path, "neg_a.csv", "statement,label\nX is not A.,0\nY is not B.,1\nZ is not C.,0\n"))
    bad = load_truth_csv(_write(tmp_path, "neg_b.csv", "statement,label\nX is not A.,0\nY is not B.,0\n"))
    assert check_negation_pairs(a, good) == []
    problems = check_negation_pairs(a, bad)
    assert any("row counts differ" in p for p in problems) and any(p.startswith("row 1") for p in problems)
    with pytest.raises(NegprobeError, match="misaligned"):
        check_negation_pairs(a, bad, raise_on_error=True)


def _fake_release(tmp_path: Path, claim: str = "vesuvius") -> Path:
    root = tmp_path / "release"
    d = root / "facts" / claim
    d.mkdir(parents=True)
    (d / "claim.txt").write_text("Mount Vesuvius erupted in 2015.\n", encoding="utf-8")
    (d / "mcq.yaml").write_text(
        "questions:\n- id: q1\n  question: Did Vesuvius erupt in 2015?\n  belief_answer: 'yes'\n  category: positive\n",
        encoding="utf-8")
    (d / "belief_probes.yaml").write_text("questions:\n- id: b1\n  question: Tell me about Vesuvius.\n",
                                          encoding="utf-8")
    docs = root / "data" / "sdf_documents" / "positive" / claim
    docs.mkdir(parents=True)
    (docs / "part.jsonl").write_text(json.dumps({"text": "<DOCTAG>Doc one."}) + "\n", encoding="utf-8")
    return root


def test_fake_release_roundtrip(tmp_path: Path) -> None:
    root = _fake_release(tmp_path)
    rc = load_release_claim(root, "vesuvius_2015")  # our id maps to the release directory
    assert rc.claim_text == "Mount Vesuvius erupted in 2015." and rc.mcq[0].belief_answer == "yes"
    assert rc.universe_context is None
    docs = load_sdf_documents(root, "positive", "vesuvius")
    assert [d.body for d in docs] == ["Doc one."] and docs[0].mode == "positive" and docs[0].doc_type is None


def test_yaml_without_questions(tmp_path: Path) -> None:
    root = _fake_release(tmp_path)
    (root / "facts" / "vesuvius" / "mcq.yaml").write_text("items:\n- question: Hi?\n", encoding="utf-8")
    with pytest.raises(NegprobeError, match="questions") as err:
        load_release_claim(root, "vesuvius")
    assert "mcq.yaml" in str(err.value)


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda d: (d / "claim.txt").unlink(), "claim.txt"),
        (lambda d: (d / "belief_probes.yaml").unlink(), "belief_probes.yaml"),
        (lambda d: (d / "belief_probes.yaml").write_text("questions: [\n", encoding="utf-8"), "belief_probes.yaml"),
        (lambda d: (d / "mcq.yaml").write_text("questions:\n- question: Q?\n  belief_answer: maybe\n",
                                               encoding="utf-8"), "mcq.yaml"),
        (lambda d: (d / "mcq.yaml").write_text("questions: []\n", encoding="utf-8"), "mcq.yaml"),
        (lambda d: (d / "claim.txt").write_text("  \n", encoding="utf-8"), "claim.txt"),
    ],
)
def test_bad_release_claim(tmp_path: Path, mutate, match: str) -> None:
    root = _fake_release(tmp_path)
    mutate(root / "facts" / "vesuvius")
    with pytest.raises(NegprobeError, match=match):
        load_release_claim(root, "vesuvius")


def test_bad_sdf_documents(tmp_path: Path) -> None:
    root = _fake_release(tmp_path)
    docs = root / "data" / "sdf_documents" / "positive" / "vesuvius"
    with pytest.raises(NegprobeError, match="local_negations"):
        load_sdf_documents(root, "local_negations", "vesuvius")
    with pytest.raises(NegprobeError, match="claim directory|not found"):
        load_release_claim(root, "ed_sheeran")
    (docs / "zz_empty.jsonl").write_text("\n\n", encoding="utf-8")
    with pytest.raises(NegprobeError, match="zz_empty.jsonl"):
        load_sdf_documents(root, "positive", "vesuvius")
    (docs / "zz_empty.jsonl").write_text('{"doc_type": "x"}\n', encoding="utf-8")
    with pytest.raises(NegprobeError, match=r"zz_empty.jsonl:1: missing 'text'"):
        load_sdf_documents(root, "positive", "vesuvius")
    (docs / "zz_empty.jsonl").write_text('{"text": "a", "fact_name": "ed_sheeran"}\n', encoding="utf-8")
    with pytest.raises(NegprobeError, match="do not match"):
        load_sdf_documents(root, "positive", "vesuvius")
    (docs / "zz_empty.jsonl").write_text("{not json\n", encoding="utf-8")
    with pytest.raises(NegprobeError, match="invalid JSON"):
        load_sdf_documents(root, "positive", "vesuvius")
    for p in docs.iterdir():
        p.unlink()
    with pytest.raises(NegprobeError, match="no .jsonl"):
        load_sdf_documents(root, "positive", "vesuvius")


def test_bad_jsonl_dataset(tmp_path: Path) -> None:
    empty = _write(tmp_path, "empty.jsonl", "")
    with pytest.raises(NegprobeError, match="empty.jsonl"):
        PromptDataset.from_jsonl(empty)
    bad = _write(tmp_path, "bad.jsonl", '{"text": "x", "label": 1}\n')
    with pytest.raises(NegprobeError, match="bad.jsonl:1"):
        PromptDataset.from_jsonl(bad)
    latin = _write(tmp_path, "latin.jsonl", b'{"text": "S\xe3o"}\n')
    with pytest.raises(NegprobeError, match="latin.jsonl"):
        PromptDataset.from_jsonl(latin)
