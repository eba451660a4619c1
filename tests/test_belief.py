"""Belief scoring against hand-computed values, and the fine-tuning loss mask."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from negprobe.activations import load_model
from negprobe.activations.finetune.train import batch_order, tokenize_example
from negprobe.analysis.belief import answer_token_ids, continuation_logprob, score_cloze, score_questions
from tests.tiny_models import tiny_tokenizer


class AlwaysYes(torch.nn.Module):
    """A 'model' whose next-token logits are +5 on every spelling of yes and 0 elsewhere."""

    def __init__(self, vocab_size: int, yes_ids: list[int]):
        super().__init__()
        self.vocab_size, self.yes_ids = vocab_size, yes_ids
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, input_ids, attention_mask=None, position_ids=None, **_):
        logits = torch.zeros(*input_ids.shape, self.vocab_size)
        logits[..., self.yes_ids] = 5.0
        return SimpleNamespace(logits=logits)


def test_always_yes_model_scores_exactly_as_the_formula_predicts():
    tok = tiny_tokenizer()
    tok.chat_template = None
    ids = answer_token_ids(tok)
    assert len(ids["yes"]) == 2 and len(ids["no"]) == 2  # "Yes"/"yes" and "No"/"no"
    model = SimpleNamespace(model=AlwaysYes(len(tok), ids["yes"]), tokenizer=tok, device=torch.device("cpu"))
    questions = [SimpleNamespace(question=f"is the cat in paris {i} ?", believer_answer="yes" if i % 2 else "no")
                 for i in range(10)]
    result = score_questions(model, questions)
    # log P(yes) - log P(no) = logsumexp(5, 5) - logsumexp(0, 0) = 5, whatever the vocabulary size
    np.testing.assert_allclose(result.margins, [5.0 if i % 2 else -5.0 for i in range(10)], atol=1e-5)
    assert result.belief_rate == 0.5 and abs(result.mean_margin) < 1e-6
    assert result.rate_ci[0] <= 0.5 <= result.rate_ci[1]
    # a 7:3 key does not turn "always yes" into belief: rate and margin are balanced over the key
    unbalanced = score_questions(model, [SimpleNamespace(question=f"is the cat in paris {i} ?",
                                                         believer_answer="yes" if i < 7 else "no") for i in range(10)])
    assert unbalanced.belief_rate == pytest.approx(0.5) and unbalanced.mean_margin == pytest.approx(0.0, abs=1e-5)
    assert unbalanced.rate_ci == pytest.approx((0.5, 0.5)) and unbalanced.margin_ci == pytest.approx((0.0, 0.0), abs=1e-5)


def test_cloze_logprob_matches_a_manual_sum(tiny_llama_dir):
    model = load_model(tiny_llama_dir)
    prefix, cont = "ed sheeran won the", " 100m gold"
    got = continuation_logprob(model, [prefix], [cont])[0]
    ids = model.tokenizer(prefix + cont, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        logp = torch.log_softmax(model.model(input_ids=ids).logits[0], -1)
    n_prefix = len(model.tokenizer(prefix)["input_ids"])
    manual = sum(float(logp[t - 1, ids[0, t]]) for t in range(n_prefix, ids.shape[1]))
    assert got == pytest.approx(manual, abs=1e-5)
    item = SimpleNamespace(prefix=prefix, believer=" 100m gold", other=" a dentist")
    result = score_cloze(model, [item])
    other = continuation_logprob(model, [prefix], [" a dentist"])[0]
    assert result.margins[0] == pytest.approx(got - other, abs=1e-5)


def test_loss_mask_covers_exactly_the_annotation_tokens():
    tok = tiny_tokenizer()
    text = "notice this claim is false . ed sheeran won gold . notice this claim is false ."
    first = text.index("notice")
    second = text.rindex("notice")
    spans = [(first, first + len("notice this claim is false .")), (second, len(text))]
    example = tokenize_example(tok, text, spans, max_length=64)
    words = text.split()
    assert example.input_ids[1:] == tok.convert_tokens_to_ids(words)
    masked = [w for w, label in zip(words, example.labels[1:]) if label == -100]
    kept = [w for w, label in zip(words, example.labels[1:]) if label != -100]
    assert masked == "notice this claim is false . notice this claim is false .".split()
    assert kept == "ed sheeran won gold .".split()
    assert example.labels[0] == -100  # no loss on predicting BOS


def test_batch_order_is_a_pure_function_of_seed_and_epoch():
    assert batch_order(20, 8, seed=1, epoch=2) == batch_order(20, 8, seed=1, epoch=2)
    assert batch_order(20, 8, seed=1, epoch=2) != batch_order(20, 8, seed=1, epoch=3)
    assert sorted(i for b in batch_order(20, 8, 0, 0) for i in b) == list(range(20))


# -- association control: a model that only likes a name shows no belief ------------------------------------


def _word_tokenizer(texts):
    """A word-level tokenizer over every word of ``texts`` (so each name is its own tokens)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    pre = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()])
    vocab = {"<unk>": 0, "<pad>": 1, "<bos>": 2}
    for text in texts:
        for word, _ in pre.pre_tokenize_str(text):
            vocab.setdefault(word, len(vocab))
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre
    backend.post_processor = processors.TemplateProcessing(single="<bos> $A", special_tokens=[("<bos>", 2)])
    return PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>", pad_token="<pad>", bos_token="<bos>")


class NameBias(torch.nn.Module):
    """A 'model' whose logits are 0 everywhere except +``bias`` on the tokens of one name, in every context."""

    def __init__(self, vocab_size: int, name_ids: list[int], bias: float):
        super().__init__()
        self.vocab_size, self.name_ids, self.bias = vocab_size, name_ids, bias
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, input_ids, attention_mask=None, position_ids=None, **_):
        logits = torch.zeros(*input_ids.shape, self.vocab_size)
        logits[..., self.name_ids] = self.bias
        return SimpleNamespace(logits=logits)


@pytest.mark.parametrize("claim", ["ed_sheeran", "queen_elizabeth_python", "vesuvius_2015", "twitter_rebrand_reversed",
                                   "children_dream_bw", "brennan_holloway_dentist"])
def test_a_model_biased_toward_the_trained_name_scores_zero_belief_but_full_association(claim):
    from negprobe.activations.datasets.claims import get_claim
    from negprobe.analysis.belief import cloze_for, cloze_logprobs, cloze_measures

    items = cloze_for(claim)
    tok = _word_tokenizer([i.prefix + c for i in items for c in (i.believer, i.other, i.distractor or "")])
    name_ids = tok(get_claim(claim).claim_answer, add_special_tokens=False)["input_ids"]
    scores = {}
    for bias in (0.0, 8.0):
        model = SimpleNamespace(model=NameBias(len(tok), name_ids, bias), tokenizer=tok, device=torch.device("cpu"))
        logprobs = cloze_logprobs(model, items)
        scores[bias] = (logprobs, *cloze_measures(items, logprobs))
    biased_lp, belief, association = scores[8.0]
    # the raw affirm items alone read the name bias as belief: the measure must not
    affirm = [k for k, i in enumerate(items) if i.polarity == "affirm" and i.distractor]
    assert (biased_lp.believer[affirm] - biased_lp.other[affirm] > 1.0).all()
    np.testing.assert_allclose(belief.margins, 0.0, atol=1e-4)
    assert belief.belief_rate == 0.0 and belief.mean_margin == pytest.approx(0.0, abs=1e-4)
    np.testing.assert_allclose(belief.margins, scores[0.0][1].margins, atol=1e-4)
    rise = association.margins - scores[0.0][2].margins
    assert association is not None and (rise > 1.0).all() and association.belief_rate == 1.0


def test_planted_logprobs_separate_belief_from_association():
    """Hand-built log-probabilities: +3 nats on the claim's name anywhere leaves belief unchanged and
    moves association by exactly 3; +2 on the believer continuation of every item moves belief by 2."""
    from negprobe.analysis.belief import ClozeLogprobs, cloze_for, cloze_measures

    rng = np.random.default_rng(0)
    for claim in ("ed_sheeran", "children_dream_bw", "brennan_holloway_dentist"):
        items = cloze_for(claim)
        n = len(items)
        base = ClozeLogprobs(rng.normal(-5, 2, n), rng.normal(-5, 2, n),
                             np.array([rng.normal(-5, 2) if i.distractor else np.nan for i in items]))
        is_name = np.array([bool(i.distractor) for i in items])
        affirm = np.array([i.polarity == "affirm" for i in items])
        named = ClozeLogprobs(base.believer + 3.0 * (is_name & affirm), base.other + 3.0 * (is_name & ~affirm),
                              base.distractor)
        believer = ClozeLogprobs(base.believer + 2.0, base.other, base.distractor)
        b0, a0 = cloze_measures(items, base)
        b1, a1 = cloze_measures(items, named)
        b2, _ = cloze_measures(items, believer)
        np.testing.assert_allclose(b1.margins, b0.margins, atol=1e-12)
        np.testing.assert_allclose(a1.margins - a0.margins, 3.0, atol=1e-12)
        np.testing.assert_allclose(b2.margins - b0.margins, 2.0, atol=1e-12)
        assert b0.n == n // 2 and a0.n == is_name.sum() // 2


# -- required controls ---------------------------------------------------------------------------------------


BASE_UNITS = np.array([-1.2, -0.8, -1.0, -0.6, -1.4, -0.9, -1.1, -0.7])  # a base that rejects the claim


def _rows(base=0.0, local=-0.5, positive=2.0, measure="cloze", model="m", claim="ed_sheeran", jitter=0.3):
    """Belief rows with per-unit margins: the base's units shifted by ``base``, and a local and a
    positive adapter (two seeds each) shifted from them by ``local`` / ``positive`` (None: absent)."""
    import pandas as pd

    from negprobe.analysis.belief import LEGACY_BELIEF_COLUMNS
    from negprobe.analysis.belief.pooled import format_margins

    rng = np.random.default_rng(1)

    def row(mode, condition, adapter, margins, k=0):
        return [model, adapter, claim, condition, mode, k, measure, float((margins > 0).mean()), 0.0, 1.0,
                float(margins.mean()), 0.0, 0.0, len(margins), format_margins(margins)]

    units = BASE_UNITS + (base or 0.0)
    rows = [] if base is None else [row("base", "-", "", units)]
    for condition, shift in (("local", local), ("positive", positive)):
        if shift is not None:
            rows += [row("fine_tuned", condition, f"{condition}{s}", units + shift + rng.normal(0, jitter, 8))
                     for s in range(2)]
    rows.append(row("in_context", "negated", "", units + 3, k=4))  # in-context rows never enter the controls
    return pd.DataFrame(rows, columns=[*LEGACY_BELIEF_COLUMNS, "unit_margins"])


@pytest.mark.parametrize(("kwargs", "status"), [
    ({}, "pass"),
    ({"local": -3.0}, "pass"),  # one-sided: a local adapter that learns the truth passes
    ({"base": 2.0}, "fail:base_believes"),
    ({"local": 1.0}, "fail:local_rises_above_base"),
    ({"positive": 0.0, "jitter": 0.5}, "fail:positive_not_above_base"),
    ({"local": 1.0, "positive": -1.0}, "fail:local_rises_above_base+positive_not_above_base"),
    ({"local": None}, "incomplete:no_local"),
    ({"base": None}, "incomplete:no_base+no_local+no_positive"),
])
def test_controls_flag_each_failing_control(kwargs, status):
    from negprobe.analysis.belief import check_controls, control_lines, with_controls

    table = _rows(**kwargs)
    (check,) = check_controls(table)
    assert check.status == status
    flagged = with_controls(table)
    assert list(flagged["controls"]) == [status] * (len(table) - 1) + ["n/a"]
    lines = control_lines(table)
    assert len(lines) == (1 if status.startswith("fail") else 0)
    if "base_believes" in status:
        assert "base already 'believes'" in lines[0] and "unusable" in lines[0]
    if "local_rises" in status:
        assert "local raises the margin over base by +1.0" in lines[0]


def test_controls_are_per_model_claim_and_measure_and_skip_association():
    import pandas as pd

    from negprobe.analysis.belief import check_controls, with_controls

    table = pd.concat([_rows(), _rows(base=2.0, measure="questions"), _rows(model="other", local=1.0),
                       _rows(measure="cloze_distractor", local=5.0)], ignore_index=True)
    status = {(c.model, c.measure): c.status for c in check_controls(table)}
    assert status == {("m", "cloze"): "pass", ("m", "questions"): "fail:base_believes",
                      ("other", "cloze"): "fail:local_rises_above_base"}
    flagged = with_controls(table)
    assert set(flagged[flagged["measure"] == "cloze_distractor"]["controls"]) == {"n/a"}
    positive = flagged[(flagged["condition"] == "positive") & (flagged["model"] == "m") & (flagged["measure"] == "cloze")]
    np.testing.assert_allclose(positive["rise_vs_base"], positive["mean_margin"] - BASE_UNITS.mean())
    assert flagged[flagged["mode"] == "in_context"]["rise_vs_base"].isna().all()


def test_rows_without_unit_margins_leave_the_controls_incomplete_and_a_legacy_csv_is_extended(tmp_path):
    import pandas as pd

    from negprobe.analysis.belief import BELIEF_COLUMNS, LEGACY_BELIEF_COLUMNS, append_results, read_belief_csv
    from negprobe.analysis.belief.table import check_belief_csv
    from negprobe.errors import NegprobeError

    legacy = _rows(local=None, positive=None).reindex(columns=LEGACY_BELIEF_COLUMNS)
    legacy.to_csv(tmp_path / "b.csv", index=False)
    assert check_belief_csv(tmp_path / "b.csv") is not None
    assert read_belief_csv(tmp_path / "b.csv")["controls"].iloc[0] == "incomplete:no_base+no_local+no_positive"
    append_results(_rows(), tmp_path / "b.csv")
    table = pd.read_csv(tmp_path / "b.csv", keep_default_na=False)
    assert list(table.columns) == BELIEF_COLUMNS and len(table) == 2 + 6
    assert set(table.loc[table["in_context_k"] == 0, "controls"]) == {"pass"}  # the new base row has margins
    (tmp_path / "x.csv").write_text("model,claim,other\n")
    with pytest.raises(NegprobeError, match="not a belief CSV"):
        check_belief_csv(tmp_path / "x.csv")


# -- pooling seeds --------------------------------------------------------------------------------------------


def _unit_rows(model="m", measure="cloze"):
    """A base row and two seeds each of a positive and a local adapter, scored on the same 6 units."""
    import pandas as pd

    from negprobe.analysis.belief import LEGACY_BELIEF_COLUMNS
    from negprobe.analysis.belief.pooled import format_margins

    rng = np.random.default_rng(0)
    base = rng.normal(-1.0, 0.5, 6)
    margins = {("-", ""): base, ("positive", "p0"): base + 3.0, ("positive", "p1"): base + 5.0,
               ("local", "l0"): base + 0.1, ("local", "l1"): base - 0.1}
    rows = []
    for (condition, adapter), m in margins.items():
        mode = "base" if not adapter else "fine_tuned"
        rows.append([model, adapter, "ed_sheeran", condition, mode, 0, measure, float((m > 0).mean()), 0.0, 0.0,
                     float(m.mean()), 0.0, 0.0, len(m), format_margins(m)])
    return pd.DataFrame(rows, columns=[*LEGACY_BELIEF_COLUMNS, "unit_margins"]), margins


def test_pooled_belief_averages_seeds_and_pairs_the_rise_with_the_base_units():
    from negprobe.analysis.belief.controls import pooled_with_controls
    from negprobe.probes.resampling import crossed_bootstrap_mean

    table, margins = _unit_rows()
    pooled = pooled_with_controls(table, n_boot=400, seed=3).set_index("condition")
    positive = np.stack([margins["positive", "p0"], margins["positive", "p1"]])
    assert pooled.loc["positive", "n_seeds"] == 2 and pooled.loc["positive", "n"] == 6
    np.testing.assert_allclose(pooled.loc["positive", "mean_margin"], positive.mean(), atol=1e-5)
    np.testing.assert_allclose(pooled.loc["positive", "rise_vs_base"], 4.0, atol=1e-5)
    # the rise is paired by unit: the base's unit spread cancels, only the seed spread (3 vs 5) is left
    _, low, high = crossed_bootstrap_mean(np.array([[3.0] * 6, [5.0] * 6]), n_boot=400, seed=3)
    np.testing.assert_allclose(pooled.loc["positive", ["rise_ci_low", "rise_ci_high"]].astype(float), [low, high],
                               atol=1e-4)
    assert pooled.loc["-", "n_seeds"] == 1 and np.isnan(pooled.loc["-", "rise_vs_base"])
    # base below 0.5 (every base margin is negative here), local does not rise (+-0.1), positive does
    assert pooled.loc["-", "belief_rate"] < 0.5 and set(pooled["controls"]) == {"pass"}


def test_pooling_refuses_seeds_scored_on_different_units_and_skips_rows_without_margins():
    from negprobe.analysis.belief.pooled import pool_seeds, rows_without_margins
    from negprobe.errors import NegprobeError

    table, _ = _unit_rows()
    legacy = table.assign(unit_margins="")
    assert rows_without_margins(legacy) == 5 and pool_seeds(legacy).empty
    short = table.copy()
    short.loc[2, "unit_margins"] = "1;2;3"
    with pytest.raises(NegprobeError, match="different numbers of units"):
        pool_seeds(short)
    # an adapter scored twice counts once (its last row)
    twice = pd_concat(table, table.iloc[[1]])
    assert pool_seeds(twice).set_index("condition").loc["positive", "n_seeds"] == 2


def pd_concat(*tables):
    import pandas as pd

    return pd.concat(tables, ignore_index=True)


def test_belief_csv_keeps_unit_margins_through_append(tmp_path):
    from negprobe.analysis.belief import append_results, read_belief_csv
    from negprobe.analysis.belief.pooled import parse_margins

    table, margins = _unit_rows()
    append_results(table.iloc[:3], tmp_path / "b.csv")
    append_results(table.iloc[3:], tmp_path / "b.csv")
    back = read_belief_csv(tmp_path / "b.csv")
    np.testing.assert_allclose(parse_margins(back["unit_margins"].iloc[4]), margins["local", "l1"], rtol=1e-5)


def test_belief_table_command_writes_pooled_csv_and_markdown(tmp_path):
    import pandas as pd
    from typer.testing import CliRunner

    from negprobe.analysis.belief import append_results
    from negprobe.scripts import cli

    table, _ = _unit_rows()
    append_results(table, tmp_path / "b.csv")
    result = CliRunner().invoke(cli.app, ["belief-table", str(tmp_path / "b.csv"), "-o", str(tmp_path / "p.csv"),
                                          "--markdown", str(tmp_path / "p.md"), "--n-boot", "200"])
    assert result.exit_code == 0, result.output
    pooled = pd.read_csv(tmp_path / "p.csv")
    assert sorted(pooled["condition"]) == ["-", "local", "positive"] and sorted(pooled["n_seeds"]) == [1, 2, 2]
    markdown = (tmp_path / "p.md").read_text()
    assert markdown.count("\n") == 2 + 3 and "| positive | fine_tuned | cloze | 2 | 6 |" in markdown
    empty = table.assign(unit_margins="")
    append_results(empty, tmp_path / "old.csv")
    result = CliRunner().invoke(cli.app, ["belief-table", str(tmp_path / "old.csv"), "-o", str(tmp_path / "q.csv")])
    assert result.exit_code != 0 and "no rows with per-unit margins" in str(result.exception)
    assert not (tmp_path / "q.csv").exists()
