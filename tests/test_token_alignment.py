"""Aligning claim tokens and shared tokens across in-context records, and the random control's draw."""

from __future__ import annotations

import pytest

from negprobe.analysis.token_alignment import (
    claim_alignment,
    encode_with_offsets,
    parse_spans,
    random_control,
    shared_alignment,
)
from negprobe.errors import NegprobeError
from tests.planted_lm import CLAIM_WORDS, record
from tests.tiny_models import tiny_tokenizer

TOK = tiny_tokenizer()


def _words(rec, positions):
    ids, _ = encode_with_offsets(TOK, rec.text)
    return [TOK.convert_ids_to_tokens(ids[p]) for p in positions]


@pytest.mark.parametrize("kind", ["notice", "neutral", "dense", "dense_neutral"])
def test_claim_tokens_align_one_to_one_by_span(kind):
    plain, annotated = record("c", 1, "plain"), record("c", 1, kind)
    pos_a, pos_p = claim_alignment(TOK, annotated, plain)
    assert len(pos_a) == len(pos_p) and pos_a != pos_p  # different offsets, same tokens
    assert _words(annotated, pos_a) == _words(plain, pos_p)
    assert [w for w in _words(plain, pos_p) if w in CLAIM_WORDS] == list(CLAIM_WORDS) * 2  # document + question


def test_local_negation_aligns_the_common_prefix_and_suffix():
    plain, local = record("c", 0, "plain"), record("c", 0, "local")
    pos_l, pos_p = claim_alignment(TOK, local, plain)
    assert "not" not in _words(local, pos_l)  # the inserted word has no counterpart
    assert _words(local, pos_l) == _words(plain, pos_p)
    assert _words(plain, pos_p)[:5] == ["ed", "sheeran", "won", "gold", "."]


def test_shared_tokens_are_identical_text_outside_claim_and_annotation():
    plain, notice = record("c", 2, "plain"), record("c", 2, "notice")
    pos_a, pos_p = shared_alignment(TOK, notice, plain)
    assert pos_a and _words(notice, pos_a) == _words(plain, pos_p)
    words = _words(notice, pos_a)
    assert "notice" not in words and "fabricated" not in words and not set(words) & set(CLAIM_WORDS)


def test_random_control_draws_as_many_shared_non_claim_tokens_seeded():
    plain, notice = record("c", 3, "plain"), record("c", 3, "notice")
    claim = claim_alignment(TOK, notice, plain)
    a1, p1 = random_control(TOK, notice, plain, claim, seed=1)
    assert len(a1) == len(p1) == min(len(claim[0]), len(a1))
    assert _words(notice, a1) == _words(plain, p1)
    assert 0 not in a1 and 0 not in p1 and not set(a1) & set(claim[0])
    question_start = min(claim[1][len(claim[1]) // 2:])
    assert max(p1) < question_start  # never at or after the restated claim (the answer cue)
    assert random_control(TOK, notice, plain, claim, seed=1) == (a1, p1)
    draws = {tuple(random_control(TOK, notice, plain, (claim[0][:3], claim[1][:3]), seed=s)[0]) for s in range(8)}
    assert len(draws) > 1


def test_alignment_errors():
    assert parse_spans("1:4;6:9") == [(1, 4), (6, 9)] and parse_spans(None) == []
    with pytest.raises(NegprobeError, match="span"):
        parse_spans("5:2")
    bare = record("c", 0, "notice", shared_spans=False)
    with pytest.raises(NegprobeError, match="shared_spans"):
        shared_alignment(TOK, bare, record("c", 0, "plain"))
