"""Behavioural belief in a claim, scored from the model's own log-probabilities (no judge model).

:mod:`.items` holds the yes/no questions and cloze contrasts per claim (or reads the paper's
``mcq.yaml``), :mod:`.scoring` turns them into believer margins with bootstrap CIs (and holds the
one yes/no belief margin, :func:`yes_no_margin`), :mod:`.table` writes one CSV row per model,
adapter, claim, condition and measure.
"""

from __future__ import annotations

from negprobe.analysis.belief.items import ClozeItem, YesNoQuestion, cloze_for, load_mcq_questions, questions_for
from negprobe.analysis.belief.scoring import (
    BeliefResult,
    answer_token_ids,
    continuation_logprob,
    score_cloze,
    score_questions,
    yes_no_margin,
)
from negprobe.analysis.belief.table import BELIEF_COLUMNS, append_results, check_belief_inputs, measure_belief

__all__ = [
    "BELIEF_COLUMNS",
    "BeliefResult",
    "ClozeItem",
    "YesNoQuestion",
    "answer_token_ids",
    "append_results",
    "check_belief_inputs",
    "cloze_for",
    "continuation_logprob",
    "load_mcq_questions",
    "measure_belief",
    "questions_for",
    "score_cloze",
    "score_questions",
    "yes_no_margin",
]
