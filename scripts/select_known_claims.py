"""Measure which known-fact claims (issue 16) a model knows are false and can read with a gated domain reader.

Per model and candidate claim (the ``known_candidates`` claim set; :data:`~negprobe.activations.datasets.facts.known_claims.SELECTED`
holds the ones kept):

- **base belief** on the association-corrected cloze measure (:func:`~negprobe.analysis.belief.cloze_measures`:
  believer minus other continuation, averaged per polarity pair, so a preference for the claim's
  name that ignores the prompt cancels; after Mayne et al. 2026's belief evaluations), its rate
  with a bootstrap 95% CI over pairs, the mean margin, the association (claim name minus distractor)
  and the balanced yes/no questions beside it;
- **the domain truth reader** (:func:`~negprobe.analysis.truth_readers.fit_domain_readers`, logistic,
  trained on the claim's domain without any claim's entities): held-out-entity AUROC per layer and the
  layers where :func:`~negprobe.analysis.truth_readers.validity_gates` passes (held-out AUROC and the
  paired claim-vs-own-counterpart statistic both >= the gate, 0.65).

A claim is kept on a model when its base belief rate is below 0.2 and the gate passes at >= 3
layers. Writes ``<out>.csv`` and the Markdown table ``<out>_table.md`` (``docs/known_claims.md`` shows it)::

    python -m negprobe.scripts.select_known_claims --models smollm2-135m,gemma3-270m --out docs/known_claims
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from negprobe.activations.datasets.claims import KNOWN_CANDIDATE_IDS, get_claim
from negprobe.activations.datasets.dataset import PromptDataset
from negprobe.activations.datasets.facts.known_claims import KNOWN_CLAIM_SPECS
from negprobe.activations.datasets.registry import claim_domain, load_dataset
from negprobe.analysis.belief import cloze_for, cloze_logprobs, cloze_measures, questions_for, score_questions
from negprobe.analysis.readout import DEFAULT_GATE
from negprobe.analysis.stores import cached_store
from negprobe.analysis.truth_readers import TruthReader, check_no_claim_leak, fit_domain_readers, validity_gates
from negprobe.errors import NegprobeError

#: Base belief must be below this (rate of polarity pairs whose margin favours the claim).
MAX_BELIEF = 0.2
#: The domain reader must pass its validity gate at this many layers at least.
MIN_GATE_LAYERS = 3
PROBE = "logistic"


def belief_row(model, claim_id: str, seed: int = 0) -> dict:
    """Base belief of one claim: the association-corrected cloze measure, association and yes/no."""
    items = cloze_for(claim_id)
    cloze, association = cloze_measures(items, cloze_logprobs(model, items), seed)
    questions = score_questions(model, questions_for(claim_id), seed=seed)
    assert association is not None  # every known claim has name items
    return {"belief_rate": cloze.belief_rate, "belief_ci_low": cloze.rate_ci[0], "belief_ci_high": cloze.rate_ci[1],
            "belief_margin": cloze.mean_margin, "margin_ci_low": cloze.margin_ci[0],
            "margin_ci_high": cloze.margin_ci[1], "association_margin": association.mean_margin,
            "questions_rate": questions.belief_rate, "questions_margin": questions.mean_margin}


def _pairs(claim_id: str) -> PromptDataset:
    """The claim's plain paraphrases and their true counterparts (all the gate reads)."""
    ds = load_dataset(f"claims/{claim_id}")
    return PromptDataset(f"{ds.name}:pairs", tuple(r for r in ds if r.condition in ("plain", "true_counterpart")))


def _domain_readers(model, claim_ids: list[str], layers: list[int], store_root, seed: int) -> dict[str, TruthReader]:
    """One domain reader per claim, fitted once per domain (claims of one domain share its training rows),
    so its held-out AUROC is that domain's, not an average over domains."""
    by_domain: dict[str, list[str]] = {}
    for cid in claim_ids:
        by_domain.setdefault(claim_domain(cid), []).append(cid)
    readers = {}
    for group in by_domain.values():
        reader = fit_domain_readers(model, [PROBE], group[:1], layers, store_root, seed=seed)[f"{PROBE}@domain"]
        for cid in group:
            check_no_claim_leak(load_dataset(claim_domain(cid)).texts(), [cid], claim_domain(cid))
            readers[cid] = TruthReader(reader.label, {cid: reader.fitted[group[0]]}, reader.heldout_auroc,
                                       reader.heldout_what)
    return readers


def gate_rows(model, claim_ids: list[str], store_root, seed: int = 0) -> dict[str, dict]:
    """Per claim: the domain reader's held-out AUROC per layer and the layers where its gate passes."""
    layers = list(range(model.n_layers))
    readers = _domain_readers(model, claim_ids, layers, store_root, seed)
    out = {}
    for cid in claim_ids:
        store = cached_store(model, _pairs(cid), "claim_last", layers, store_root)
        meta = store.metadata
        gate = validity_gates({PROBE: readers[cid]}, store.stack(position="claim_last"), meta["claim"].to_numpy(),
                              meta["pair_id"].to_numpy(), (meta["condition"] == "true_counterpart").to_numpy(),
                              DEFAULT_GATE, seed=seed)[PROBE]
        heldout = np.asarray(gate.heldout_topic_auroc, dtype=float)
        counterpart = np.asarray(gate.counterpart_auroc, dtype=float)
        passed = [layers[i] for i in np.flatnonzero(gate.passed)]
        best = int(np.nanargmax(heldout))
        out[cid] = {"heldout_auroc_max": float(heldout[best]), "best_layer": layers[best],
                    "heldout_layers": int((heldout >= DEFAULT_GATE).sum()),
                    "counterpart_at_best": float(counterpart[best]), "gate_layers": " ".join(map(str, passed)),
                    "n_gate_layers": len(passed)}
    return out


def select(model_name: str, claim_ids: list[str], store_root: str, seed: int = 0) -> pd.DataFrame:
    """One row per candidate claim on one model, with the pass/fail of both criteria."""
    from negprobe.activations.models import load_model

    model = load_model(model_name)
    rows = []
    start = time.time()
    beliefs = {cid: belief_row(model, cid, seed) for cid in claim_ids}
    gates = gate_rows(model, claim_ids, store_root, seed)
    for cid in claim_ids:
        row = {"model": model_name, "claim": cid, "kind": KNOWN_CLAIM_SPECS[cid]["kind"],
               "domain": claim_domain(cid), "statement": get_claim(cid).false_statement, **beliefs[cid], **gates[cid]}
        row["pass_belief"] = row["belief_rate"] < MAX_BELIEF
        row["pass_gate"] = row["n_gate_layers"] >= MIN_GATE_LAYERS
        row["keep"] = row["pass_belief"] and row["pass_gate"]
        rows.append(row)
    print(f"{model_name}: {len(claim_ids)} claims in {time.time() - start:.0f} s")
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame) -> str:
    """The selection table as Markdown: one line per model and claim."""
    lines = ["| model | claim | belief rate [95% CI] | margin [95% CI] | assoc. | yes/no rate | reader AUROC max "
             "(layer) | gate layers | keep |", "|---|---|---|---|---|---|---|---|---|"]
    for r in table.to_dict("records"):
        lines.append(
            f"| {r['model']} | {r['claim']} | {r['belief_rate']:.2f} [{r['belief_ci_low']:.2f}, {r['belief_ci_high']:.2f}]"
            f" | {r['belief_margin']:+.2f} [{r['margin_ci_low']:+.2f}, {r['margin_ci_high']:+.2f}]"
            f" | {r['association_margin']:+.2f} | {r['questions_rate']:.2f} | {r['heldout_auroc_max']:.2f} "
            f"({r['best_layer']}) | {r['n_gate_layers']}: {r['gate_layers'] or '-'} | "
            f"{'yes' if r['keep'] else 'no (' + ', '.join(k for k, ok in (('belief', r['pass_belief']), ('gate', r['pass_gate'])) if not ok) + ')'} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--models", default="smollm2-135m", help="Comma-separated models.")
    parser.add_argument("--claims", default=",".join(KNOWN_CANDIDATE_IDS), help="Comma-separated known claim ids.")
    parser.add_argument("--store", default=None, help="Activation store root (default: the negprobe cache).")
    parser.add_argument("--out", default="docs/known_claims", help="Output path without suffix (<out>.csv, <out>_table.md).")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    claim_ids = [c.strip() for c in args.claims.split(",") if c.strip()]
    unknown = [c for c in claim_ids if c not in KNOWN_CANDIDATE_IDS]
    if unknown or not claim_ids:
        raise NegprobeError(f"--claims must be known-fact claims ({', '.join(KNOWN_CANDIDATE_IDS)}), got {unknown or 'none'}")
    torch.set_num_threads(1)
    out = Path(args.out)
    tables = []
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        tables.append(select(name, claim_ids, args.store, args.seed))
        table = pd.concat(tables, ignore_index=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(out.with_suffix(".csv"), index=False, float_format="%.4g")
        out.with_name(out.name + "_table.md").write_text(markdown(table))
        print(markdown(table))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
