"""``negprobe localize``: where does the negation annotation stop reaching the claim?

Pipeline (Mayne et al. 2026 ask it behaviourally; negprobe asks it per layer):

1. **Truth readers** (:mod:`analysis.truth_readers`): probes (logistic, TTPD, ...) trained on the
   base model at the statement's last token, on the general truth datasets and/or on each claim's
   own domain; a readout scale from their own training data; a validity gate from held-out AUROC
   and the claims' own true-counterpart AUROC.
2. **Readouts** of the claims per layer: base bare claim, base after plain / notice / dense /
   local documents in context, and every fine-tuned adapter's bare claim (with the frozen base
   probe and a probe refitted on that model); paired differences and inversion rates.
3. **Annotation decodability** per layer at the claim's last token and at the prompt's last token
   (annotated vs plain versions of the same claims, split by claim) and its drop layer; the flip
   layer of the in-context annotated claim's readout.
4. **Causal checks** (:mod:`analysis.causal`) on the base model: patching notice <-> plain in
   context (belief margin and truth readout at later layers), and steering along the truth direction.
5. **Behaviour** joined from a belief CSV (``negprobe belief --out``), with a rank correlation.

Everything reads the activation store; the report is one self-contained HTML file plus PNGs/CSVs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from negprobe.errors import NegprobeError

from .annotation import annotation_decodability
from .readout import DEFAULT_GATE
from .stores import cached_store
from .truth_readers import fit_readers, validity_gates

ANNOTATIONS = {  # claims-dataset condition -> what annotates it
    "doc_notice": "document notice", "dense": "dense annotation",
    "sentence_annotation": "sentence annotation", "local_negation": "local negation",
}
ANNOTATION_POSITIONS = {"claim_last": "the claim's last token", "last": "the prompt's last token"}


@dataclass
class LocalizeConfig:
    model: str = "smollm2-135m"
    adapters: dict[str, str] = field(default_factory=dict)  # condition -> adapter folder
    claims: list[str] | None = None  # default: every built-in claim
    probes: list[str] = field(default_factory=lambda: ["logistic", "ttpd"])
    probe_data: list[str] = field(default_factory=lambda: ["general", "domain"])  # truth data the probes train on
    layers: list[int] | None = None
    gate: float = DEFAULT_GATE
    seed: int = 0
    n_boot: int = 200
    patch_positions: int = 8  # last tokens of the in-context question in the position heatmap
    patch_layer_stride: int = 2  # patch every k-th layer (patching is the costliest step on a CPU)
    patch_claims: int = 3  # claims averaged in the patching results
    steer_alphas: list[float] = field(default_factory=lambda: [-6.0, -3.0, -1.0, 0.0, 1.0, 3.0, 6.0])  # readout units
    belief_csv: str | None = None
    store: str | None = None
    out: str = "negprobe-out/localize"


def _claims_data(config):
    from negprobe.activations.datasets.dataset import PromptDataset
    from negprobe.activations.datasets.registry import load_dataset

    claims = load_dataset("claims")
    in_context = load_dataset("in_context")
    if config.claims:
        unknown = sorted(set(config.claims) - {r.claim for r in claims})
        if unknown:
            raise NegprobeError(f"unknown claim(s) {', '.join(unknown)}; built-in claims: "
                                f"{', '.join(sorted({r.claim for r in claims}))}")
        claims = claims.filter(claim=list(config.claims))
        in_context = in_context.filter(claim=list(config.claims))
    annotated = {r.condition for r in claims} & set(ANNOTATIONS)
    if not annotated:
        raise NegprobeError("the selected claims have no annotated prompts")
    return claims, PromptDataset("in_context_statements", tuple(r for r in in_context if r.get_extra("probe") == "statement")), \
        PromptDataset("in_context_questions", tuple(r for r in in_context if r.get_extra("probe") == "question"))


def readouts(model, label, claims, ic_statements, readers, config):
    """Long table of per-row readouts (model label x condition x reader), and the claims' store."""
    rows = []
    cl_store = cached_store(model, claims, ",".join(ANNOTATION_POSITIONS), config.layers, config.store)
    ic_store = cached_store(model, ic_statements, "claim_last", config.layers, config.store)
    for store, kind in ((cl_store, "bare"), (ic_store, "in_context")):
        X, meta = store.stack(position="claim_last"), store.metadata
        claim_ids = meta["claim"].astype(str).to_numpy()
        for reader in readers.values():
            r = reader.read(X, claim_ids)  # [L, n]
            for cond in meta["condition"].unique():
                idx = np.flatnonzero((meta["condition"] == cond).to_numpy() & ~np.isnan(r[0]))
                if len(idx):
                    rows.append({"model": label, "kind": kind, "condition": cond, "probe": reader.label,
                                 "readout": r[:, idx], "claims": claim_ids[idx],
                                 "pair": meta["pair_id"].astype(str).to_numpy()[idx]})
    return rows, cl_store


def annotation_curves(cl_store, config) -> dict[tuple[str, str], object]:
    """Annotation decodability per (annotation, read position), split by claim (leave-one-claim-out
    up to six folds); with a single claim, split by paraphrase (its plain and annotated versions
    share a pair id, so they stay on one side)."""
    meta = cl_store.metadata
    out = {}
    for position in ANNOTATION_POSITIONS:
        X = cl_store.stack(position=position)
        for cond in ANNOTATIONS:
            if not (meta["condition"] == cond).any():
                continue
            idx = np.flatnonzero(meta["condition"].isin(["plain", cond]).to_numpy())
            annotated = (meta["condition"].to_numpy()[idx] == cond).astype(int)
            claims = meta["claim"].astype(str).to_numpy()[idx]
            groups = claims if len(np.unique(claims)) > 1 else meta["pair_id"].astype(str).to_numpy()[idx]
            out[cond, position] = annotation_decodability(
                X[:, idx], annotated, groups, layers=cl_store.layers, probe="logistic",
                n_folds=min(6, len(np.unique(groups))), seed=config.seed, n_boot=config.n_boot)
    return out


def _gates(readers, claims_store, config):
    """Validity gates of ``readers`` on one model: held-out AUROC and its claims vs their true counterparts."""
    meta = claims_store.metadata
    pairs = np.flatnonzero(meta["condition"].isin(["plain", "true_counterpart"]).to_numpy())
    return validity_gates(readers, claims_store.stack(position="claim_last")[:, pairs], meta["claim"].to_numpy()[pairs],
                          meta["condition"].to_numpy()[pairs] == "true_counterpart", config.gate)


def primary_reader(gates) -> tuple[str, int]:
    """The reader that passes the gate at the most layers (ties: the highest held-out AUROC) and its
    layer slot with the highest held-out AUROC among the layers that pass (among all layers if none
    does). Layers are chosen on held-out data, not on the claims' own counterpart labels."""
    def heldout(gate):
        return np.nan_to_num(np.asarray(gate.heldout_topic_auroc, dtype=float), nan=-np.inf)

    label = max(gates, key=lambda k: (int(gates[k].passed.sum()), float(heldout(gates[k]).max())))
    gate = gates[label]
    candidates = np.where(gate.passed, heldout(gate), -np.inf) if gate.passed.any() else heldout(gate)
    return label, int(np.argmax(candidates))


def _adapter_claims(adapter: str, claims) -> list[str]:
    """The claim an adapter was fine-tuned on (from its negprobe card), if it is among ``claims``."""
    card = Path(adapter) / "negprobe_adapter.json"
    if not card.is_file():
        return []
    claim = json.loads(card.read_text()).get("claim")
    return [claim] if claim in {r.claim for r in claims} else []


def run_localize(config: LocalizeConfig) -> Path:
    from negprobe.activations.models import load_model

    from .causal import causal_checks
    from .report import write_report

    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    base = load_model(config.model)
    if config.layers is not None:
        config.layers = base.check_layers(config.layers)
    claims, ic_statements, ic_questions = _claims_data(config)
    claim_ids = sorted({r.claim for r in claims})
    readers = fit_readers(base, config.probes, config.probe_data, claim_ids, config.layers, config.store, config.seed)
    rows, base_claims = readouts(base, "base", claims, ic_statements, readers, config)
    gates = _gates(readers, base_claims, config)
    gates_by_model = {"base": gates}  # refitted readers are gated on their own model
    for condition, adapter in config.adapters.items():
        tuned = load_model(config.model, adapter=adapter)
        if tuned.base_fingerprint != base.base_fingerprint:
            raise NegprobeError(f"adapter {adapter} does not belong to {config.model}")
        own = _adapter_claims(adapter, claims)  # read a fine-tuned model on the claim(s) it was trained on
        tuned_claims = claims.filter(claim=own) if own else claims
        tuned_ic = ic_statements.filter(claim=own) if own else ic_statements
        more, tuned_store = readouts(tuned, f"fine-tuned:{condition}",
                                     tuned_claims.filter(condition=["plain", "true_counterpart", "local_negation"]),
                                     tuned_ic.filter(condition=["in_context_plain"]), readers, config)
        rows += more
        # probes refitted on the fine-tuned model's own truth activations, gated on that model
        refit = fit_readers(tuned, config.probes[:1], config.probe_data, own or claim_ids, config.layers, config.store,
                            config.seed)
        label = f"fine-tuned:{condition} (refit)"
        more, _ = readouts(tuned, label, tuned_claims.filter(condition=["plain"]),
                           tuned_ic.filter(condition=["in_context_plain"]), refit, config)
        rows += more
        gates_by_model[label] = _gates(refit, tuned_store, config)
        del tuned
    curves = annotation_curves(base_claims, config)
    primary, best_slot = primary_reader(gates)
    causal = causal_checks(base, ic_statements, ic_questions, readers, config, steer_reader=primary,
                           steer_slot=best_slot)
    belief = pd.read_csv(config.belief_csv, keep_default_na=False) if config.belief_csv else None
    return write_report(out, config, base, rows, gates_by_model, readers, primary, best_slot, curves, causal, belief,
                        base_claims.layers)
