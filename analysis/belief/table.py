"""Belief per model, adapter, claim, condition and mode, as one CSV that later analysis joins.

Measures per row: ``questions`` (our yes/no), ``mcq`` (the paper's ``mcq.yaml``, when found),
``cloze`` (belief against the truth, polarity-paired) and ``cloze_distractor`` (association).
``controls`` and ``rise_vs_base`` are recomputed over the whole file on every append
(:mod:`.controls`); ``unit_margins`` keeps every unit's margin (``;``-separated nats) so that
:mod:`.pooled` can pool seeds. A file written before these columns existed is read and extended.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from negprobe.activations.atomic import atomic_path
from negprobe.activations.datasets.claims import get_claim
from negprobe.activations.finetune.documents import generate_documents
from negprobe.activations.models import LoadedModel
from negprobe.errors import NegprobeError

from .controls import with_controls
from .items import cloze_for, default_mcq_path, load_mcq_questions, questions_for
from .pooled import format_margins
from .scoring import BeliefResult, cloze_logprobs, cloze_measures, score_questions

#: The columns before ``controls`` existed; such a file is still read, and extended on append.
LEGACY_BELIEF_COLUMNS = ["model", "adapter", "claim", "condition", "mode", "in_context_k", "measure", "belief_rate",
                         "rate_ci_low", "rate_ci_high", "mean_margin", "margin_ci_low", "margin_ci_high", "n"]
#: The columns before ``unit_margins`` existed (also read and extended).
CONTROLLED_BELIEF_COLUMNS = [*LEGACY_BELIEF_COLUMNS, "controls", "rise_vs_base"]
BELIEF_COLUMNS = [*CONTROLLED_BELIEF_COLUMNS, "unit_margins"]
_STORED = [*LEGACY_BELIEF_COLUMNS, "unit_margins"]  # what is read back; the rest is recomputed


def check_belief_inputs(claim: str, in_context_k: int = 0, in_context_condition: str = "negated") -> None:
    """Fail on an unknown claim, a negative ``in_context_k`` or an unknown condition, before any model loads."""
    get_claim(claim)
    if in_context_k < 0:
        raise NegprobeError(f"--in-context must be >= 0, got {in_context_k}")
    generate_documents(claim, in_context_condition, n=1)  # checks the condition's name


def measure_belief(model: LoadedModel, claim: str, in_context_k: int = 0, in_context_condition: str = "negated",
                   condition: str | None = None, seed: int = 0, questions=None, mcq=None) -> pd.DataFrame:
    """Every belief measure for one claim; ``in_context_k`` documents of ``in_context_condition``
    go before every item. ``condition`` labels the row (the fine-tuning condition of the adapter).
    ``questions``: yes/no questions (default: ours); ``mcq``: the paper's questions (default: its
    ``mcq.yaml`` where :func:`default_mcq_path` finds one, else no mcq row)."""
    context = ""
    if in_context_k:
        docs = generate_documents(claim, in_context_condition, n=in_context_k, seed=seed + 7919)
        context = "\n\n".join(d.text for d in docs)
    if mcq is None and (path := default_mcq_path(claim)) is not None:
        mcq = load_mcq_questions(path, claim)
    items = cloze_for(claim)
    cloze, association = cloze_measures(items, cloze_logprobs(model, items, context), seed)
    results: list[BeliefResult] = [
        score_questions(model, questions if questions is not None else questions_for(claim), context, seed),
        *([score_questions(model, mcq, context, seed, measure="mcq")] if mcq else []),
        cloze, *([association] if association is not None else []),
    ]
    if in_context_k:
        mode, row_condition = "in_context", in_context_condition
    else:
        mode, row_condition = ("fine_tuned" if model.adapter else "base"), (condition or ("-" if not model.adapter else "?"))
    rows = [[model.name, str(model.adapter or ""), claim, row_condition, mode, in_context_k, r.measure, r.belief_rate,
             r.rate_ci[0], r.rate_ci[1], r.mean_margin, r.margin_ci[0], r.margin_ci[1], r.n, format_margins(r.margins)]
            for r in results]
    return _controlled(pd.DataFrame(rows, columns=_STORED))


def _controlled(table: pd.DataFrame) -> pd.DataFrame:
    """The stored columns (a missing ``unit_margins`` reads as empty) plus the recomputed controls."""
    table = table.reindex(columns=_STORED).assign(unit_margins=lambda t: t["unit_margins"].fillna(""))
    return with_controls(table).reindex(columns=BELIEF_COLUMNS)


def check_belief_csv(path: str | Path) -> pd.DataFrame | None:
    """The rows of an existing belief CSV (None when missing); a file with other columns is refused
    (one with the columns of an earlier version is accepted)."""
    path = Path(path).expanduser()
    if not path.is_file():
        return None
    try:
        existing = pd.read_csv(path, keep_default_na=False, dtype=str)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise NegprobeError(f"{path}: unreadable belief CSV ({' '.join(str(exc).split())})") from None
    if list(existing.columns) not in (BELIEF_COLUMNS, CONTROLLED_BELIEF_COLUMNS, LEGACY_BELIEF_COLUMNS):
        raise NegprobeError(f"{path}: not a belief CSV: columns {','.join(map(str, existing.columns))[:120]!r}, "
                            f"expected {','.join(BELIEF_COLUMNS)}")
    return existing


def read_belief_csv(path: str | Path) -> pd.DataFrame:
    """A belief CSV with numeric columns as numbers and ``controls`` / ``rise_vs_base`` recomputed
    (so a legacy file reads like a new one)."""
    if check_belief_csv(path) is None:
        raise NegprobeError(f"{path}: belief CSV not found")
    return _controlled(pd.read_csv(Path(path).expanduser(), keep_default_na=False))


def append_results(table: pd.DataFrame, path: str | Path) -> Path:
    """Append rows to a belief CSV (atomically rewritten), creating it when missing; the controls
    are recomputed over every row of the file."""
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    if check_belief_csv(path) is not None:
        table = pd.concat([read_belief_csv(path), table], ignore_index=True)
    table = _controlled(table)
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False)
    return path
