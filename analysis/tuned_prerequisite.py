"""The behavioural prerequisite on fine-tuned models: does fine-tuning change how the notice is used in context?

:mod:`.prerequisite` asks the base model whether an annotation (notice, dense, local) lowers the
belief margin in context, against the plain document and the annotation's neutral control of equal
length and position. Here the same in-context question records are asked of each fine-tuned model
(base + adapter) too, and each model gets its own :class:`~.prerequisite.Prerequisite`. The
**change** under fine-tuning is the difference in differences, paired by claim and paraphrase:
``(m_tuned(annotated) - m_tuned(comparison)) - (m_base(annotated) - m_base(comparison))``, pooled
exactly as the prerequisite pools (mean over paraphrases per claim, Student-t CI over claims): it is
:func:`~.prerequisite.prerequisite_gate` applied to the margins ``m_tuned - m_base``. A negative
change: the fine-tuned model uses the notice *more* to lower belief than the base; positive: less
(the in-context contrasts of Mayne et al. 2026's Negation Neglect, asked of the fine-tuned models).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast

import pandas as pd

from negprobe.activations.models import LoadedModel
from negprobe.errors import NegprobeError

from .prerequisite import (
    MARGIN_COLUMNS,
    MIN_EFFECT,
    PLAIN,
    PooledEffect,
    Prerequisite,
    prerequisite_gate,
    question_margins,
)

BASE = "base"
TABLE_COLUMNS = ("model", "annotation", "comparison", "statistic", "effect", "ci_low", "ci_high", "n_claims",
                 "n_paraphrases", "passing_claims")


@dataclass(frozen=True, eq=False)
class TunedPrerequisite:
    """The prerequisite of the base and of every fine-tuned model, and each model's change from the base."""

    per_model: Mapping[str, Prerequisite]  # "base" first, then each adapter label
    change: Mapping[str, Prerequisite]  # adapter label -> prerequisite_gate of (m_tuned - m_base): pooled = change

    def table(self) -> pd.DataFrame:
        """One row per model, annotation and comparison: the effect (``statistic`` = effect) and, for the
        adapters, its change from the base (``statistic`` = change vs base), with CIs."""
        rows = []
        for statistic, results in (("effect", self.per_model), ("change vs base", self.change)):
            for label, prerequisite in results.items():
                for annotation, gate in prerequisite.gates.items():
                    pairs = ((PLAIN, gate.pooled_vs_plain), (gate.control, gate.pooled_vs_control))
                    for comparison, pooled in pairs:
                        if comparison is None or pooled is None:
                            continue
                        passing = len(gate.passing) if statistic == "effect" else None
                        rows.append((label, annotation, comparison, statistic, pooled.effect, pooled.ci_low,
                                     pooled.ci_high, pooled.n_claims, pooled.n_paraphrases, passing))
        return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))

    def lines(self, annotation: str = "notice") -> list[str]:
        """Per model: the annotation's effect beyond its neutral control (else vs plain), and the change."""
        out = []
        for label, prerequisite in self.per_model.items():
            gate = prerequisite.gates.get(annotation)
            if gate is None:
                continue
            effect = gate.pooled_vs_control or gate.pooled_vs_plain
            against = gate.control or PLAIN
            text = f"in context, {label}: {annotation} vs {against} {_interval(effect)}; claims passing " \
                   f"{len(gate.passing)}/{len(gate.vs_plain)}"
            change = self.change.get(label)
            moved = None if change is None or annotation not in change.gates else \
                change.gates[annotation].pooled_vs_control or change.gates[annotation].pooled_vs_plain
            out.append(text + ("" if moved is None else f"; change vs base {_interval(moved)}"))
        return out


def _interval(p: PooledEffect) -> str:
    unit = f"{p.n_claims} claims" if p.n_claims > 1 else f"1 claim x {p.n_paraphrases} paraphrases"
    return f"{p.effect:+.2f} [{p.ci_low:+.2f}, {p.ci_high:+.2f}] nats ({unit})"


def margin_change(tuned: pd.DataFrame, base: pd.DataFrame) -> pd.DataFrame:
    """``m_tuned - m_base`` per (claim, paraphrase, kind), on the records both models answered."""
    keys = list(MARGIN_COLUMNS[:3])
    joined = tuned.merge(base, on=keys, suffixes=("_tuned", "_base"), validate="one_to_one")
    if joined.empty:
        raise NegprobeError("the fine-tuned and base models answered no common in-context question")
    return cast(pd.DataFrame, joined.assign(margin=joined["margin_tuned"] - joined["margin_base"])[list(MARGIN_COLUMNS)])


def tuned_prerequisite(base: LoadedModel, tuned: Mapping[str, LoadedModel], questions: Sequence,
                       min_effect: float = MIN_EFFECT) -> TunedPrerequisite:
    """The prerequisite of ``base`` and of every fine-tuned model on the same in-context ``questions``
    (question records of the in-context dataset), and each model's change from the base."""
    if not tuned:
        raise NegprobeError("no fine-tuned model to compare with the base")
    if BASE in tuned:
        raise NegprobeError(f"{BASE!r} names the base model; give the adapters other labels")
    margins = {BASE: question_margins(base, questions)} | {k: question_margins(m, questions) for k, m in tuned.items()}
    return from_margins(margins, min_effect)


def from_margins(margins: Mapping[str, pd.DataFrame], min_effect: float = MIN_EFFECT) -> TunedPrerequisite:
    """:class:`TunedPrerequisite` from each model's question margins (``"base"`` and the adapters' labels)."""
    if BASE not in margins:
        raise NegprobeError("the margins lack the base model's")
    per_model = {label: prerequisite_gate(m, min_effect) for label, m in margins.items()}
    change = {label: prerequisite_gate(margin_change(m, margins[BASE]), min_effect)
              for label, m in margins.items() if label != BASE}
    return TunedPrerequisite(per_model, change)


def in_context_questions(claims: Sequence[str]) -> list:
    """The built-in in-context question records of ``claims`` (every document kind, every paraphrase)."""
    from negprobe.activations.datasets.registry import load_dataset

    records = load_dataset("in_context").filter(claim=list(claims))
    questions = [r for r in records if r.get_extra("probe") == "question"]
    if not questions:
        raise NegprobeError(f"no in-context question records for {', '.join(claims)}")
    return questions
