"""``negprobe localize``: where does the negation annotation stop reaching the claim?

Pipeline (Mayne et al. 2026 ask it behaviourally; negprobe asks it per layer). Every comparison is a
matched contrast: the same document with vs without the annotation, plus a neutral control of equal
length and position (a "NOTICE" that says nothing about truth).

1. **Truth readers** (:mod:`negprobe.analysis.truth_readers`): probes (logistic, TTPD, ...) trained on the
   base model at the statement's last token, on the general truth datasets and/or on each claim's
   own domain (no row names any claim's entities); a readout scale from their own training data; a
   validity gate from held-out AUROC and a paired claim-vs-own-counterpart statistic (refitted
   readers on a fine-tuned model: held-out data only).
2. **Readouts** of the claims per layer: base bare claim, base after every in-context document kind,
   and every fine-tuned adapter's bare claim (frozen base probe and a probe refitted on that model).
3. **Annotation decodability** (:mod:`negprobe.analysis.contrasts`): annotated vs plain and annotated vs
   neutral versions of the same document, at the claim sentence and at the restated claim, above
   layer-0 and bag-of-tokens baselines. Presence, not use.
4. **Causal checks** (:mod:`negprobe.analysis.causal`): first the behavioural prerequisite (does the
   annotation lower the belief margin in context, per claim, with a CI and the right sign?); only
   claims that pass are localised, by claim-token patching at every layer with random-token and
   neutral-source controls, a position heatmap and steering with a random-direction control.
5. **Behaviour** joined from a belief CSV (``negprobe belief --out``), with a rank correlation.

Everything reads the activation store. :func:`run_localize` computes a
:class:`~negprobe.analysis.results.LocalizeResult`; :func:`negprobe.analysis.report.write_report` writes it as one
self-contained HTML file plus PNGs/CSVs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from negprobe.activations.backends.remote_model import open_model
from negprobe.activations.datasets.claims import get_claim
from negprobe.activations.datasets.dataset import PromptDataset
from negprobe.activations.datasets.registry import load_dataset
from negprobe.activations.hub import resolve_adapter
from negprobe.activations.progress import StageClock
from negprobe.errors import NegprobeError
from negprobe.probes.threads import one_torch_thread

from .annotation import DecodabilityCurve
from .causal import causal_checks
from .contrasts import ContrastKey, matched_contrasts
from .readout import ValidityGate
from .results import (
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


@dataclass(frozen=True)
class LocalizeData:
    """The prompts one localize run reads: bare claims, and the in-context documents per probe kind."""

    claims: PromptDataset  # bare claims: plain, true counterpart, local negation, ... (claims dataset)
    statements: PromptDataset  # document + the restated claim (every in-context kind)
    documents: PromptDataset  # the document alone, read at its claim sentence
    questions: PromptDataset  # document + a yes/no question (behaviour and patching)


def _in_context_probe(in_context: PromptDataset, probe: str) -> PromptDataset:
    return PromptDataset(f"in_context_{probe}s", tuple(r for r in in_context if r.get_extra("probe") == probe))


def _claims_data(config) -> LocalizeData:
    """The claims and in-context prompts of ``config.claims`` (any claim set), else of the six paper claims."""
    if config.claims:
        ids = [get_claim(c).id for c in config.claims]  # an unknown id fails here, naming it
        claims = PromptDataset.concat(*(load_dataset(f"claims/{c}") for c in ids), name="claims")
        in_context = PromptDataset.concat(*(load_dataset(f"in_context/{c}") for c in ids), name="in_context")
    else:
        claims, in_context = load_dataset("claims"), load_dataset("in_context")
    return LocalizeData(claims, *(_in_context_probe(in_context, probe) for probe in ("statement", "document", "question")))


def _claim_ids(claims) -> list[str]:
    """The distinct claim ids of ``claims``' records, sorted."""
    return sorted({r.claim for r in claims if r.claim is not None})


def read_claims(model, ref: ModelRef, claims, ic_statements, readers: dict[str, TruthReader],
                config: LocalizeConfig) -> tuple[list[Readout], ActivationStore, ActivationStore]:
    """Readouts of ``claims`` (bare) and ``ic_statements`` (in context) on ``model`` per reader and
    condition, and the two activation stores they were read from."""
    rows = []
    cl_store = cached_store(model, claims, "claim_last", config.layers, config.store)
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
    return rows, cl_store, ic_store


def annotation_curves(model, data: LocalizeData, statements_store, config: LocalizeConfig
                      ) -> dict[ContrastKey, DecodabilityCurve]:
    """Matched-contrast decodability of every annotation (:func:`~negprobe.analysis.contrasts.matched_contrasts`):
    the same document with vs without the annotation, and vs its neutral control, read at the claim
    sentence in the document and at the restated claim, with layer-0 and bag-of-tokens baselines."""
    documents_store = cached_store(model, data.documents, "claim_last", config.layers, config.store)
    with one_torch_thread():
        return matched_contrasts({"document": documents_store, "statement": statements_store}, model.tokenizer,
                                 {"document": list(data.documents), "statement": list(data.statements)},
                                 seed=config.seed, n_boot=config.n_boot)


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
    card = resolve_adapter(adapter)[0] / "negprobe_adapter.json"  # a folder or a hub id
    if not card.is_file():
        return []
    claim = json.loads(card.read_text()).get("claim")
    return [claim] if claim in {r.claim for r in claims} else []


def _read_fine_tuned(base, ref: ModelRef, claims, ic_statements, readers, claim_ids, config: LocalizeConfig):
    """Readouts of one adapter with the base readers and with readers refitted on it, and the gates
    of the refitted readers on that model: ``(readouts, refit ref, refit gates)``."""

    assert ref.adapter is not None, "a fine-tuned model ref names its adapter"
    tuned = open_model(config.model, ref.adapter, config.compute_dtype, config.device_map)
    if tuned.base_fingerprint != base.base_fingerprint:
        raise NegprobeError(f"adapter {ref.adapter} does not belong to {config.model}")
    own = _adapter_claims(ref.adapter, claims)  # read a fine-tuned model on the claim(s) it was trained on
    tuned_claims = claims.filter(claim=own) if own else claims
    tuned_ic = ic_statements.filter(claim=own) if own else ic_statements
    bare = tuned_claims.filter(condition=["plain", "true_counterpart", "local_negation"])
    rows, _, _ = read_claims(tuned, ref, bare, tuned_ic.filter(condition=["in_context_plain"]), readers, config)
    # probes refitted on the fine-tuned model's own truth activations, gated on held-out truth data only
    refit = fit_readers(tuned, config.probes[:1], config.probe_data, own or claim_ids, config.layers, config.store,
                        config.seed)
    refit_ref = replace(ref, refit=True)
    more, _, _ = read_claims(tuned, refit_ref, tuned_claims.filter(condition=["plain"]),
                          tuned_ic.filter(condition=["in_context_plain"]), refit, config)
    return rows + more, refit_ref, heldout_only_gates(refit, config.gate)


def run_localize(config: LocalizeConfig, echo: Callable[[str], None] | None = None) -> LocalizeResult:
    """Compute everything the localize report shows (writes nothing but the activation caches).

    ``write_report(run_localize(config), config.out)`` writes the report. ``echo`` (e.g. ``print``) is
    told each stage's wall time as it ends; ``result.timings`` holds them all.
    """


    clock = StageClock(echo)
    with clock("load model"):
        base = open_model(config.model, None, config.compute_dtype, config.device_map, config.remote)
    if config.layers is not None:
        config = replace(config, layers=base.check_layers(config.layers))
    data = _claims_data(config)
    claim_ids = _claim_ids(data.claims)
    with clock("truth readers (cache + fit)"):
        readers = fit_readers(base, config.probes, config.probe_data, claim_ids, config.layers, config.store,
                              config.seed)
    base_ref = ModelRef(config.model)
    with clock("claim readouts + gates"):
        rows, base_claims, statements_store = read_claims(base, base_ref, data.claims, data.statements, readers,
                                                          config)
        gates = _gates(readers, base_claims, config)
    gates_by_model: dict[ModelRef, dict[str, ValidityGate]] = {base_ref: gates}  # refitted readers: on their own model
    for condition, adapter in config.adapters.items():
        with clock(f"fine-tuned readouts ({condition})"):
            more, refit_ref, refit_gates = _read_fine_tuned(base, ModelRef(config.model, adapter, condition),
                                                            data.claims, data.statements, readers, claim_ids, config)
        rows += more
        gates_by_model[refit_ref] = refit_gates
    with clock("annotation decodability"):
        curves = annotation_curves(base, data, statements_store, config)
    primary, best_slot = primary_reader(gates)
    # steering along a truth direction only where that direction is a validated truth readout
    steer = primary if gates[primary].passed[best_slot] else None
    with clock("causal checks"):
        causal = causal_checks(base, data.questions, readers, config, steer_reader=steer, steer_slot=best_slot)
    belief = pd.read_csv(config.belief_csv, keep_default_na=False) if config.belief_csv else None
    return LocalizeResult(
        config=config, model_name=base.name, fingerprint=base.fingerprint, layers=list(base_claims.layers),
        readouts=tuple(rows), gates=gates_by_model,
        readers={label: ReaderInfo(label, reader.heldout_what) for label, reader in readers.items()},
        primary=primary, primary_slot=best_slot, curves=curves, causal=causal, belief=belief,
        n_claims=len(claim_ids), n_paraphrases=_paraphrases(data.questions), timings=tuple(clock.stages))


def _paraphrases(records) -> int:
    """Paraphrases per claim in ``records`` (the most any claim has)."""
    counts: dict[str, set[str]] = {}
    for r in records:
        counts.setdefault(str(r.claim), set()).add(str(r.get_extra("paraphrase")))
    return max((len(v) for v in counts.values()), default=0)
