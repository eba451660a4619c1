"""Belief per model, adapter, claim, condition and mode, as one CSV that later analysis joins."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from negprobe.activations.atomic import atomic_path
from negprobe.activations.datasets.claims import get_claim
from negprobe.activations.finetune.documents import generate_documents
from negprobe.activations.models import LoadedModel
from negprobe.errors import NegprobeError

from .items import cloze_for, questions_for
from .scoring import BeliefResult, score_cloze, score_questions

BELIEF_COLUMNS = ["model", "adapter", "claim", "condition", "mode", "in_context_k", "measure", "belief_rate",
                  "rate_ci_low", "rate_ci_high", "mean_margin", "margin_ci_low", "margin_ci_high", "n"]


def check_belief_inputs(claim: str, in_context_k: int = 0, in_context_condition: str = "negated") -> None:
    """Fail on an unknown claim, a negative ``in_context_k`` or an unknown condition, before any model loads."""
    get_claim(claim)
    if in_context_k < 0:
        raise NegprobeError(f"--in-context must be >= 0, got {in_context_k}")
    generate_documents(claim, in_context_condition, n=1)  # checks the condition's name


def measure_belief(model: LoadedModel, claim: str, in_context_k: int = 0, in_context_condition: str = "negated",
                   condition: str | None = None, seed: int = 0, questions=None) -> pd.DataFrame:
    """Both belief measures for one claim; ``in_context_k`` documents of ``in_context_condition``
    go before every item. ``condition`` labels the row (the fine-tuning condition of the adapter)."""
    context = ""
    if in_context_k:
        docs = generate_documents(claim, in_context_condition, n=in_context_k, seed=seed + 7919)
        context = "\n\n".join(d.text for d in docs)
    results: list[BeliefResult] = [
        score_questions(model, questions if questions is not None else questions_for(claim), context, seed),
        score_cloze(model, cloze_for(claim), context, seed),
    ]
    if in_context_k:
        mode, row_condition = "in_context", in_context_condition
    else:
        mode, row_condition = ("fine_tuned" if model.adapter else "base"), (condition or ("-" if not model.adapter else "?"))
    rows = [[model.name, str(model.adapter or ""), claim, row_condition, mode, in_context_k, r.measure, r.belief_rate,
             r.rate_ci[0], r.rate_ci[1], r.mean_margin, r.margin_ci[0], r.margin_ci[1], r.n] for r in results]
    return pd.DataFrame(rows, columns=BELIEF_COLUMNS)


def check_belief_csv(path: str | Path) -> pd.DataFrame | None:
    """The rows of an existing belief CSV (None when missing); a file with other columns is refused."""
    path = Path(path).expanduser()
    if not path.is_file():
        return None
    try:
        existing = pd.read_csv(path, keep_default_na=False, dtype=str)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise NegprobeError(f"{path}: unreadable belief CSV ({' '.join(str(exc).split())})") from None
    if list(existing.columns) != BELIEF_COLUMNS:
        raise NegprobeError(f"{path}: not a belief CSV: columns {','.join(map(str, existing.columns))[:120]!r}, "
                            f"expected {','.join(BELIEF_COLUMNS)}")
    return existing


def append_results(table: pd.DataFrame, path: str | Path) -> Path:
    """Append rows to a belief CSV (atomically rewritten), creating it when missing."""
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    if check_belief_csv(path) is not None:
        table = pd.concat([pd.read_csv(path, keep_default_na=False), table], ignore_index=True)
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False)
    return path
