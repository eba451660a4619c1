"""``negprobe localize``: where does the negation annotation stop reaching the claim?

Pipeline (Mayne et al. 2026 ask it behaviourally; negprobe asks it per layer):

1. **Truth readers** (:mod:`negprobe.analysis.truth_readers`): probes (logistic, TTPD, ...) trained on the
   base model at the statement's last token, on the general truth datasets and/or on each claim's
   own domain; a readout scale from their own training data; a validity gate from held-out AUROC
   and the claims' own true-counterpart AUROC.
2. **Readouts** of the claims per layer: base bare claim, base after plain / notice / dense /
   local documents in context, and every fine-tuned adapter's bare claim (with the frozen base
   probe and a probe refitted on that model); paired differences and inversion rates.
3. **Annotation decodability** per layer at the claim's last token and at the prompt's last token
   (annotated vs plain versions of the same claims, split by claim) and its drop layer; the flip
   layer of the in-context annotated claim's readout.
4. **Causal checks** (:mod:`negprobe.analysis.causal`) on the base model: patching notice <-> plain in
   context (belief margin and truth readout at later layers), and steering along the truth direction.
5. **Behaviour** joined from a belief CSV (``negprobe belief --out``), with a rank correlation.

Everything reads the activation store. :func:`run_localize` computes a
:class:`~negprobe.analysis.results.LocalizeResult`; :func:`negprobe.analysis.report.write_report` writes it as one
self-contained HTML file plus PNGs/CSVs.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from negprobe.activations.datasets.dataset import PromptDataset
from negprobe.activations.datasets.registry import load_dataset
from negprobe.activations.models import load_model
from negprobe.errors import NegprobeError

from .annotation import DecodabilityCurve, annotation_decodability
from .causal import causal_checks
from .readout import ValidityGate
from .results import (
    ANNOTATION_POSITIONS,
    ANNOTATIONS,
    CurveKey,
    LocalizeConfig,
    LocalizeResult,
    ModelRef,
    ReaderInfo,
    Readout,
)
from .stores import cached_store
from .truth_readers import TruthReader, fit_readers, heldout_only_gates, validity_gates

if TYPE_CHECKING:
    from negprobe.activations.store import ActivationStore

__all__ = ["LocalizeConfig", "run_localize", "read_claims", "annotation_curves", "primary_reader"]


def _claims_data(config):

    claims = load_dataset("claims")
    in_context = load_dataset("in_context")
    if config.claims:
        unknown = sorted(set(config.claims) - {r.claim for r in claims})
        if unknown:
            raise NegprobeError(f"unknown claim(s) {', '.join(unknown)}; built-in claims: "
                                f"{', '.join(_claim_ids(claims))}")
        claims = claims.filter(claim=list(config.claims))
        in_context = in_context.filter(claim=list(config.claims))
    annotated = {r.condition for r in claims} & set(ANNOTATIONS)
    if not annotated:
        raise NegprobeError("the selected claims have no annotated prompts")
    return claims, PromptDataset("in_context_statements", tuple(r for r in in_context if r.get_extra("probe") == "statement")), \
        PromptDataset("in_context_questions", tuple(r for r in in_context if r.get_extra("probe") == "question"))


def _claim_ids(claims) -> list[str]:
    """The distinct claim ids of ``claims``' records, sorted."""
    return sorted({r.claim for r in claims if r.claim is not None})


def read_claims(model, ref: ModelRef, claims, ic_statements, readers: dict[str, TruthReader],
                config: LocalizeConfig) -> tuple[list[Readout], ActivationStore]:
    """Readouts of ``claims`` (bare) and ``ic_statements`` (in context) on ``model`` per reader and
    condition, and the claims' activation store."""
    rows = []
    cl_store = cached_store(model, claims, ",".join(ANNOTATION_POSITIONS), config.layers, config.store)
    ic_store = cached_store(model, ic_statements, "claim_last", config.layers, config.store)
    for store, kind in ((cl_store, "bare"), (ic_store, "in_context")):
        X, meta = store.stack(position="claim_last"), store.metadata
        claim_ids = meta["claim"].astype(str).to_numpy()
        pair_ids = meta["pair_id"].astype(str).to_numpy()
        for reader in readers.values():
            r = reader.read(X, claim_ids)  # [L, n]
            for cond in meta["condition"].unique():
                idx = np.flatnonzero((meta["condition"] == cond).to_numpy() & ~np.isnan(r[0]))
                if len(idx):
                    rows.append(Readout(ref, kind, cond, reader.label, r[:, idx], claim_ids[idx], pair_ids[idx]))
    return rows, cl_store


def annotation_curves(cl_store, config: LocalizeConfig) -> dict[CurveKey, DecodabilityCurve]:
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
            out[CurveKey(cond, position)] = annotation_decodability(
                X[:, idx], annotated, groups, layers=cl_store.layers, probe="logistic",
                n_folds=min(6, len(np.unique(groups))), seed=config.seed, n_boot=config.n_boot)
    return out


def _gates(readers, claims_store, config):
    """Validity gates of ``readers`` on one model: held-out AUROC and its claims vs their true counterparts."""
    meta = claims_store.metadata
    pairs = np.flatnonzero(meta["condition"].isin(["plain", "true_counterpart"]).to_numpy())
    return validity_gates(readers, claims_store.stack(position="claim_last")[:, pairs], meta["claim"].to_numpy()[pairs],
                          meta["pair_id"].to_numpy()[pairs],
                          meta["condition"].to_numpy()[pairs] == "true_counterpart", config.gate, seed=config.seed)


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


def _read_fine_tuned(base, ref: ModelRef, claims, ic_statements, readers, claim_ids, config: LocalizeConfig):
    """Readouts of one adapter with the base readers and with readers refitted on it, and the gates
    of the refitted readers on that model: ``(readouts, refit ref, refit gates)``."""

    assert ref.adapter is not None, "a fine-tuned model ref names its adapter"
    tuned = load_model(config.model, adapter=ref.adapter)
    if tuned.base_fingerprint != base.base_fingerprint:
        raise NegprobeError(f"adapter {ref.adapter} does not belong to {config.model}")
    own = _adapter_claims(ref.adapter, claims)  # read a fine-tuned model on the claim(s) it was trained on
    tuned_claims = claims.filter(claim=own) if own else claims
    tuned_ic = ic_statements.filter(claim=own) if own else ic_statements
    bare = tuned_claims.filter(condition=["plain", "true_counterpart", "local_negation"])
    rows, tuned_store = read_claims(tuned, ref, bare, tuned_ic.filter(condition=["in_context_plain"]), readers, config)
    # probes refitted on the fine-tuned model's own truth activations, gated on that model
    refit = fit_readers(tuned, config.probes[:1], config.probe_data, own or claim_ids, config.layers, config.store,
                        config.seed)
    refit_ref = replace(ref, refit=True)
    more, _ = read_claims(tuned, refit_ref, tuned_claims.filter(condition=["plain"]),
                          tuned_ic.filter(condition=["in_context_plain"]), refit, config)
    return rows + more, refit_ref, heldout_only_gates(refit, config.gate)


def run_localize(config: LocalizeConfig) -> LocalizeResult:
    """Compute everything the localize report shows (writes nothing but the activation caches).

    ``write_report(run_localize(config), config.out)`` writes the report.
    """


    base = load_model(config.model)
    if config.layers is not None:
        config = replace(config, layers=base.check_layers(config.layers))
    claims, ic_statements, ic_questions = _claims_data(config)
    claim_ids = _claim_ids(claims)
    readers = fit_readers(base, config.probes, config.probe_data, claim_ids, config.layers, config.store, config.seed)
    base_ref = ModelRef(config.model)
    rows, base_claims = read_claims(base, base_ref, claims, ic_statements, readers, config)
    gates = _gates(readers, base_claims, config)
    gates_by_model: dict[ModelRef, dict[str, ValidityGate]] = {base_ref: gates}  # refitted readers: on their own model
    for condition, adapter in config.adapters.items():
        more, refit_ref, refit_gates = _read_fine_tuned(base, ModelRef(config.model, adapter, condition), claims,
                                                        ic_statements, readers, claim_ids, config)
        rows += more
        gates_by_model[refit_ref] = refit_gates
    curves = annotation_curves(base_claims, config)
    primary, best_slot = primary_reader(gates)
    causal = causal_checks(base, ic_statements, ic_questions, readers, config, steer_reader=primary,
                           steer_slot=best_slot)
    belief = pd.read_csv(config.belief_csv, keep_default_na=False) if config.belief_csv else None
    return LocalizeResult(
        config=config, model_name=base.name, fingerprint=base.fingerprint, layers=list(base_claims.layers),
        readouts=tuple(rows), gates=gates_by_model,
        readers={label: ReaderInfo(label, reader.heldout_what) for label, reader in readers.items()},
        primary=primary, primary_slot=best_slot, curves=curves, causal=causal, belief=belief)
