"""Matched contrasts on planted synthetic in_context stores, and the bag-of-tokens surface baseline."""

from __future__ import annotations

import numpy as np
import pytest

from negprobe.analysis.annotation import NOT_ABOVE, NOT_DECODABLE
from negprobe.analysis.contrasts import ContrastKey, matched_contrasts, matched_rows
from negprobe.analysis.surface_baseline import bag_of_tokens
from negprobe.errors import NegprobeError
from tests.synthetic_stores import SpanText, planted_store
from tests.tiny_models import tiny_tokenizer

pytestmark = pytest.mark.usefixtures("one_thread")

ALL = range(8)


@pytest.fixture(scope="module")
def tokenizer():
    return tiny_tokenizer()


def run(planted, tokenizer, reads=("document", "statement"), **kwargs):
    stores, records = {}, {}
    for i, read in enumerate(reads):
        stores[read], records[read], _ = planted_store(planted, read=read, seed=i, **kwargs)
    return matched_contrasts(stores, tokenizer, records, seed=0, n_boot=200, probe="mass_mean")


def test_bag_of_tokens_counts_the_claim_span_by_hand(tokenizer):
    text = "notice this document . the the cat is not in paris . the end ."
    start = text.index("the the")
    span = (start, text.index(" the end"))  # "the the cat is not in paris ."
    records = [SpanText(text, span, "in_context_local", "a"), SpanText("the dog won gold .", (4, 18), "x", "b")]
    counts = bag_of_tokens(tokenizer, records)
    ids = tokenizer.convert_tokens_to_ids
    hand = [{"the": 2, "cat": 1, "is": 1, "not": 1, "in": 1, "paris": 1, ".": 1}, {"dog": 1, "won": 1, "gold": 1, ".": 1}]
    vocab = sorted({ids(word) for row in hand for word in row})
    expected = np.zeros((2, len(vocab)))
    for row, words in enumerate(hand):
        for word, count in words.items():
            expected[row, vocab.index(ids(word))] = count
    np.testing.assert_array_equal(counts, expected)


def test_surface_feature_in_annotated_and_neutral_rows_is_no_annotation_effect(tokenizer):
    """Acceptance (a): a feature in every notice and neutral row from layer 0 (and 'not' in the local claim
    sentence, decodable on its tokens alone) is reported as no annotation effect above baseline."""
    planted = {"notice+neutral": (ALL, 4.0), "local": (ALL, 4.0)}
    curves = run(planted, tokenizer)
    for read in ("document claim", "restated claim"):
        assert curves[ContrastKey("notice", "neutral", read)].verdict == NOT_DECODABLE
        assert curves[ContrastKey("notice", "neutral", read)].drop_layer is None
        for key in (ContrastKey("notice", "plain", read), ContrastKey("neutral", "plain", read),
                    ContrastKey("local", "plain", read)):
            assert curves[key].decodable.all() and curves[key].verdict == NOT_ABOVE, (key, curves[key].verdict)
    tokens = {key.read: next(b for b in curve.baselines if b.name == "bag of tokens")
              for key, curve in curves.items() if key.annotation == "local"}
    assert tokens["document claim"].auroc == 1.0  # "not" sits inside the read span
    assert tokens["restated claim"].auroc == 0.5  # the restated claim's tokens are identical in every condition
    assert curves[ContrastKey("notice", "plain", "document claim")].baselines[0].auroc > 0.95  # layer 0 sees it


def test_planted_annotation_direction_is_found_above_baseline_and_dropped(tokenizer):
    """A direction in notice rows only (not in the neutral control) at layers 1..4: notice vs neutral is
    decodable above both baselines at exactly those layers, last decodable layer 4; the control is not."""
    curves = run({"notice": (range(1, 5), 4.0)}, tokenizer, reads=("statement",))
    key = ContrastKey("notice", "neutral", "restated claim")
    curve = curves[key]
    assert curve.verdict.startswith("decodable above baseline at 4 of 8 layers (excess at the last layer, 7: ")
    assert np.flatnonzero(curve.above).tolist() == [1, 2, 3, 4]
    assert curve.drop_layer == 5 and curve.last_decodable_layer == 4 and curve.drop_ci == (5, 5)
    assert curve.fold_auroc.shape == (6, 8) and len(set(curve.folds)) == 6 and curve.unit == "claim"
    np.testing.assert_allclose(curve.auroc.value, curve.fold_auroc.mean(0))
    assert curves[ContrastKey("neutral", "plain", "restated claim")].verdict == NOT_DECODABLE


def test_rows_are_matched_by_claim_and_paraphrase():
    store, _, _ = planted_store({}, n_claims=2, n_paraphrases=3)
    first_notice = int(np.flatnonzero(store.metadata["condition"] == "in_context_notice")[0])
    meta = store.metadata.drop(index=first_notice).reset_index(drop=True)  # one plain row loses its partner
    idx, labels, groups = matched_rows(meta, "notice", "plain")
    assert len(idx) == 2 * 6 - 2 and (labels == np.tile([1, 0], 5)).all()
    extra = meta["extra"].to_numpy()
    for a, b in zip(idx[::2], idx[1::2]):  # each annotated row sits beside its own comparison row
        assert meta["claim"].iloc[a] == meta["claim"].iloc[b] and extra[a] == extra[b]
        assert meta["condition"].iloc[a] == "in_context_notice" and meta["condition"].iloc[b] == "in_context_plain"
    assert set(groups) == {"c0", "c1"}
    single, _, _ = planted_store({}, n_claims=1, n_paraphrases=4)
    _, _, groups = matched_rows(single.metadata, "notice", "plain")
    assert sorted(set(groups)) == ["0", "1", "2", "3"]  # one claim: folds hold out paraphrases, both rows together
    assert len(matched_rows(single.metadata, "dense", "plain")[0]) == 0  # absent condition: no rows


def test_one_claim_folds_over_paraphrases(tokenizer):
    curves = run({"notice": (range(0, 3), 4.0)}, tokenizer, reads=("document",), n_claims=1)
    curve = curves[ContrastKey("notice", "plain", "document claim")]
    assert curve.unit == "paraphrase" and curve.fold_auroc.shape == (10, 8)


def test_bad_inputs(tokenizer):
    store, records, _ = planted_store({}, n_claims=2, n_paraphrases=3)
    with pytest.raises(NegprobeError, match="read positions"):
        matched_contrasts({"question": store}, tokenizer, {"question": records})
    with pytest.raises(NegprobeError, match="row order"):
        matched_contrasts({"document": store}, tokenizer, {"document": records[::-1]})
    with pytest.raises(NegprobeError, match="needs the 'document' records"):
        matched_contrasts({"document": store}, tokenizer, {})
    doubled = store.metadata.copy()
    doubled.loc[1, ["condition", "claim", "extra"]] = doubled.loc[0, ["condition", "claim", "extra"]]
    kind = doubled.loc[0, "condition"].removeprefix("in_context_")
    with pytest.raises(NegprobeError, match="more than one row"):
        matched_rows(doubled, kind, "plain" if kind != "plain" else "notice")


def test_real_store_of_a_tiny_model(tmp_path):
    """Mechanics on a real cached store: the in_context records in store order, read at the restated
    claim, whose tokens are identical in every condition (so its bag of tokens is exactly at chance)."""
    from negprobe.activations.datasets.dataset import PromptDataset
    from negprobe.activations.datasets.registry import load_dataset
    from negprobe.activations.models import load_model
    from negprobe.analysis.stores import cached_store
    from tests.tiny_models import make_tiny_model

    model = load_model(str(make_tiny_model(tmp_path / "tiny", "llama", seed=0, max_positions=512)))
    rows = load_dataset("in_context").filter(claim=["ed_sheeran", "vesuvius_2015"])
    statements = PromptDataset("statements", tuple(r for r in rows if r.get_extra("probe") == "statement"))
    store = cached_store(model, statements, "claim_last", None, str(tmp_path / "store"))
    curves = matched_contrasts({"statement": store}, model.tokenizer, {"statement": list(statements)},
                               n_boot=50, probe="mass_mean")
    assert {(k.annotation, k.comparison) for k in curves} >= {("notice", "plain"), ("dense", "plain"), ("local", "plain")}
    for key, curve in curves.items():
        assert key.read == "restated claim" and set(curve.folds) == {"ed_sheeran", "vesuvius_2015"}
        assert curve.fold_auroc.shape == (2, len(store.layers)) and curve.layers == store.layers
        assert next(b for b in curve.baselines if b.name == "bag of tokens").auroc == 0.5
