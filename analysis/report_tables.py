"""The localize report's tables: readouts, paired readouts, gates and belief beside readout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from negprobe.activations.atomic import atomic_path
from negprobe.errors import NegprobeError
from negprobe.probes.resampling import bootstrap_mean

from .readout import inversion_rate, paired_difference
from .results import LocalizeResult, Readout

TRUTH = {"plain": 0, "true_counterpart": 1, "local_negation": 1, "in_context_plain": 0, "in_context_notice": 0,
         "in_context_dense": 0, "in_context_local": 0, "in_context_neutral": 0, "in_context_dense_neutral": 0}  # the truth of each readout condition's statement
PAIRED = (("true_counterpart", "claim - true counterpart"), ("local_negation", "affirmed - local negation"))


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)


def resampling_units(claims: np.ndarray) -> np.ndarray:
    """Bootstrap units: whole claims (paraphrases move together), or single rows when there is one claim
    (a fine-tuned model is read on its own claim only; its uncertainty is over paraphrases)."""
    claims = np.asarray(claims).astype(str)
    return claims if len(np.unique(claims)) > 1 else np.arange(len(claims)).astype(str)


def readout_table(readouts: tuple[Readout, ...], layers, n_boot: int, seed: int) -> pd.DataFrame:
    """Mean readout per model x condition x reader x layer, CI over claims, inversion rate."""
    records = []
    for r in readouts:
        mean, low, high = bootstrap_mean(r.values, resampling_units(r.claims), n_boot=n_boot, seed=seed)
        truth = TRUTH.get(r.condition)
        inv = None if truth is None else inversion_rate(r.values, np.full(r.values.shape[1], truth))
        for slot, layer in enumerate(layers):
            records.append({"model": r.model.label, "kind": r.kind, "condition": r.condition, "probe": r.probe,
                            "layer": layer, "readout": mean[slot], "ci_low": low[slot], "ci_high": high[slot],
                            "inversion_rate": inv[slot] if inv is not None else np.nan, "n": r.values.shape[1]})
    return pd.DataFrame(records)


def paired_table(readouts: tuple[Readout, ...], layers, n_boot: int, seed: int) -> pd.DataFrame:
    """Paired readouts per model and reader: claim minus its true counterpart, and the affirmed
    claim minus its local negation (rows aligned by pair id; robust to an out-of-topic offset)."""
    by_key = {(r.model, r.kind, r.probe, r.condition): r for r in readouts}
    records = []
    for (model, kind, probe, cond), r in by_key.items():
        if kind != "bare" or cond != "plain":
            continue
        for other, name in PAIRED:
            o = by_key.get((model, kind, probe, other))
            if o is None:
                continue
            common = sorted(set(r.pairs) & set(o.pairs))
            if not common:
                continue
            rows_a = [list(r.pairs).index(p) for p in common]
            a, b = r.values[:, rows_a], o.values[:, [list(o.pairs).index(p) for p in common]]
            mean, low, high = paired_difference(a, b, n_boot=n_boot, seed=seed,
                                                groups=resampling_units(r.claims[rows_a]))
            for slot, layer in enumerate(layers):
                records.append({"model": model.label, "probe": probe, "pair": name, "layer": layer,
                                "difference": mean[slot], "ci_low": low[slot], "ci_high": high[slot],
                                "n_pairs": len(common)})
    return pd.DataFrame(records)


def gate_table(result: LocalizeResult) -> pd.DataFrame:
    """The validity gate per model, reader and layer."""
    readers = result.readers
    return pd.DataFrame([{"model": model.label, "probe": label, "layer": layer,
                          "heldout_auroc": gate.heldout_topic_auroc[i],
                          "heldout": readers[label].heldout_what if label in readers else "",
                          "counterpart_statistic": None if gate.counterpart_auroc is None else gate.counterpart_auroc[i],
                          "counterpart_ci_low": None if gate.counterpart_ci_low is None else gate.counterpart_ci_low[i],
                          "counterpart_ci_high": None if gate.counterpart_ci_high is None else gate.counterpart_ci_high[i],
                          "threshold": gate.threshold,
                          "passed": bool(gate.passed[i])}
                         for model, gates in result.gates.items() for label, gate in gates.items()
                         for i, layer in enumerate(result.layers)])


def join_belief(result: LocalizeResult) -> pd.DataFrame:
    """Each belief row (cloze) beside the same model's mean readout of *that* claim's bare statement
    at the primary reader's layer slot, with a CI over its paraphrases."""
    best, gate, config, belief = result.primary_slot, result.primary_gate, result.config, result.belief
    if belief is None:
        raise NegprobeError("the localize result has no belief table to join")
    values = {(r.model.condition, claim): (r.model, r.values[best, r.claims == claim]) for r in result.readouts
              if r.probe == result.primary and r.kind == "bare" and r.condition == "plain" and not r.model.refit
              for claim in np.unique(r.claims)}
    out = []
    for _, b in belief[belief["measure"] == "cloze"].iterrows():
        if b["mode"] not in ("base", "fine_tuned"):
            continue
        found = values.get((None if b["mode"] == "base" else b["condition"], b["claim"]))
        if found is None or not len(found[1]):
            continue
        model, row = found
        mean, low, high = bootstrap_mean(row, n_boot=config.n_boot, seed=config.seed)
        out.append({"model": model.label, "claim": b["claim"], "belief_rate": b["belief_rate"],
                    "rate_ci_low": b["rate_ci_low"], "rate_ci_high": b["rate_ci_high"], "mean_margin": b["mean_margin"],
                    "readout": float(mean), "readout_ci_low": float(low), "readout_ci_high": float(high),
                    "layer": result.layers[best], "gate": "valid" if gate.passed[best] else "uninformative"})
    return pd.DataFrame(out)


def belief_correlation(joined: pd.DataFrame, result: LocalizeResult) -> str:
    """A sentence with the rank correlation of belief rate and readout ('' when it is undefined)."""
    if len(joined) < 3 or joined["readout"].nunique() <= 1 or joined["belief_rate"].nunique() <= 1:
        return ""
    from scipy.stats import spearmanr

    rho, p = spearmanr(joined["belief_rate"], joined["readout"])
    return (f"Spearman rank correlation of belief rate and {result.primary} readout (layer "
            f"{result.layers[result.primary_slot]}) across conditions and claims: {rho:+.2f} (p = {p:.2f}, "
            f"n = {len(joined)}).")
