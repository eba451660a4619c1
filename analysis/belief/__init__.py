"""Behavioural belief in a claim, scored from the model's own log-probabilities (no judge model).

:mod:`.items` holds the yes/no questions and cloze contrasts per claim (or reads the paper's
``mcq.yaml``), :mod:`.cloze_items` holds the polarity-paired cloze wording, :mod:`.scoring` turns
them into believer margins with bootstrap CIs (and holds the one yes/no belief margin,
:func:`yes_no_margin`), :mod:`.controls` checks every table against the base / local / positive
controls, :mod:`.overlap` finds prompts that repeat training text, :mod:`.table` writes one CSV row
per model, adapter, claim, condition and measure.
"""

from __future__ import annotations

from negprobe.analysis.belief.controls import (
    BELIEF_MEASURES,
    ControlCheck,
    check_controls,
    control_lines,
    with_controls,
)
from negprobe.analysis.belief.items import (
    ClozeItem,
    YesNoQuestion,
    cloze_for,
    default_mcq_path,
    load_mcq_questions,
    questions_for,
)
from negprobe.analysis.belief.scoring import (
    BeliefResult,
    ClozeLogprobs,
    answer_token_ids,
    cloze_logprobs,
    cloze_measures,
    continuation_logprob,
    score_cloze,
    score_questions,
    yes_no_margin,
)
from negprobe.analysis.belief.table import (
    BELIEF_COLUMNS,
    LEGACY_BELIEF_COLUMNS,
    append_results,
    check_belief_inputs,
    measure_belief,
    read_belief_csv,
)

__all__ = [
    "BELIEF_COLUMNS",
    "BELIEF_MEASURES",
    "LEGACY_BELIEF_COLUMNS",
    "BeliefResult",
    "ClozeItem",
    "ClozeLogprobs",
    "ControlCheck",
    "YesNoQuestion",
    "answer_token_ids",
    "append_results",
    "check_belief_inputs",
    "check_controls",
    "cloze_for",
    "cloze_logprobs",
    "cloze_measures",
    "continuation_logprob",
    "control_lines",
    "default_mcq_path",
    "load_mcq_questions",
    "measure_belief",
    "questions_for",
    "read_belief_csv",
    "score_cloze",
    "score_questions",
    "with_controls",
    "yes_no_margin",
]
