"""Truth readers: a truth probe plus its readout scale, fitted on general or claim-domain data.

Two kinds, as the localize step offers them:

- **general** (label ``<probe>``): one probe on the affirmed + negated general truth datasets
  (cities, elements, animals, larger_than and their ``neg_`` twins; Marks & Tegmark 2023,
  Bürger et al. 2024). Its held-out AUROC is leave-one-topic-out.
- **domain** (label ``<probe>@domain``): one probe per claim, trained on the built-in true/false
  statements of that claim's domain (``domain_sports`` for ``ed_sheeran``, ...) and their negated
  twins, so the probe is fitted near the claim's topic. Neither the claim nor its true counterpart,
  nor any row naming one of their entities, is a training row (:func:`check_no_claim_leak` refuses
  such data). Its held-out AUROC is over entity groups of the domain it never saw (grouped k-fold),
  computed per fold and averaged (each fold is scored by its own probe, whose scale differs).

Every reader maps probe scores to the 0 (typical false) .. 1 (typical true) readout scale of
:class:`~negprobe.analysis.readout.ReadoutScale`, fitted on that probe's own training rows only.
:func:`validity_gates` gates base-model readers on held-out data and the paired counterpart
statistic; :func:`heldout_only_gates` gates readers refitted on a fine-tuned model on held-out data only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from jaxtyping import Float
from torch import Tensor

from negprobe.activations.datasets.claims import ALL_CLAIM_ENTITIES, get_claim, list_claims, mentioned_entity
from negprobe.activations.datasets.dataset import PromptDataset
from negprobe.activations.datasets.registry import claim_domain, load_dataset
from negprobe.activations.datasets.topics import TRUTH_TOPICS
from negprobe.errors import NegprobeError
from negprobe.probes import make_probe
from negprobe.probes.base import LinearProbe
from negprobe.probes.evaluation import auroc, folds_metric_with_ci, group_kfold, out_of_fold_scores

from .readout import ReadoutScale, ValidityGate, counterpart_pairs, paired_counterpart_statistic
from .stores import cached_store

PROBE_DATA = ("general", "domain")
EVERY_CLAIM = "*"


@dataclass
class TruthReader:
    """A truth probe (one for every claim, or one per claim) and its readout scale."""

    label: str
    fitted: dict[str, tuple[LinearProbe, ReadoutScale]]  # claim id (or EVERY_CLAIM) -> (probe, scale)
    heldout_auroc: np.ndarray | None = None  # [L]: AUROC on data the probe did not see
    heldout_what: str = ""

    def covers(self, claim: str) -> bool:
        return claim in self.fitted or EVERY_CLAIM in self.fitted

    def probe_for(self, claim: str) -> tuple[LinearProbe, ReadoutScale]:
        if claim in self.fitted:
            return self.fitted[claim]
        if EVERY_CLAIM in self.fitted:
            return self.fitted[EVERY_CLAIM]
        raise NegprobeError(f"truth reader {self.label} has no probe for claim {claim!r}")

    def read(self, X: Float[Tensor, "n_layers n d_model"], claims) -> np.ndarray:
        """Readouts ``[L, n]`` (NaN for rows of claims this reader has no probe for)."""
        claims = np.asarray(claims).astype(str)
        out = np.full((X.shape[0], X.shape[1]), np.nan)
        for claim in np.unique(claims):
            if not self.covers(claim):
                continue
            probe, scale = self.probe_for(claim)
            idx = np.flatnonzero(claims == claim)
            out[:, idx] = scale.apply(probe.decision_function(X[:, idx]))
        return out

    def steering_vector(self, claim: str, layer_slot: int) -> Float[Tensor, " d_model"]:
        """The vector that moves this probe's readout by exactly +1 (false -> true) at ``layer_slot``.

        ``decision = w . x + b`` and the readout is affine in the decision, so adding
        ``(true_mean - false_mean) * w / |w|^2`` adds 1 to the readout at that layer (Marks &
        Tegmark 2023 steer along a truth direction; this fixes the unit of alpha).
        """
        probe, scale = self.probe_for(claim)
        w = probe.coef_[layer_slot].double()
        gap = float(scale.true_mean[layer_slot] - scale.false_mean[layer_slot])
        return (gap * w / (w @ w)).float()


def _stacked_datasets(model, datasets: dict[str, PromptDataset], layers, store_root):
    """Activations ``[L, n, d]`` and row table of several built-in datasets (by name), one cached store each.

    Read at the statement's last token, where every truth dataset's claim span ends (so the sweep's
    stores of the same datasets are reused rather than recomputed).
    """
    blocks, metas = [], []
    for name, dataset in datasets.items():
        store = cached_store(model, dataset, "last", layers, store_root)
        blocks.append(store.stack())
        metas.append(store.metadata.assign(dataset=name))
    return torch.cat(blocks, dim=1), pd.concat(metas, ignore_index=True)


def _fit(name: str, X, y, polarity, domain, seed: int) -> tuple[LinearProbe, ReadoutScale]:
    probe = make_probe(name, seed).fit(X, y, polarity=polarity, domain=domain)
    return probe, ReadoutScale.fit(probe.decision_function(X), y)


def fit_general_readers(model, probes: list[str], layers, store_root, seed: int = 0,
                        validity: bool = True) -> dict[str, TruthReader]:
    """One reader per probe family on the general truth datasets (+ leave-one-topic-out AUROC)."""
    names = [n for t in TRUTH_TOPICS for n in (t, f"neg_{t}")]
    X, meta = _stacked_datasets(model, {n: load_dataset(n) for n in names}, layers, store_root)
    topic = meta["dataset"].str.replace("^neg_", "", regex=True).to_numpy()
    y = meta["label"].to_numpy()
    polarity = (meta["polarity"] == "affirmed").to_numpy(int)
    readers = {}
    for name in probes:
        reader = TruthReader(name, {EVERY_CLAIM: _fit(name, X, y, polarity, topic, seed)},
                             heldout_what="leave-one-topic-out")
        if validity:
            scores = out_of_fold_scores(name, X, y, topic, None, seed, {"polarity": polarity, "domain": topic})
            reader.heldout_auroc = np.mean([auroc(scores[:, topic == held], y[topic == held])
                                            for held in TRUTH_TOPICS], axis=0)
        readers[name] = reader
    return readers


def _normalised(text: str) -> str:
    return " ".join(text.lower().replace("'", " ").split()).rstrip(".")


def check_no_claim_leak(texts, claim_ids, dataset_name: str) -> None:
    """Raise :class:`NegprobeError` if a training row of a reader serving ``claim_ids`` contains one of
    their true counterparts, or mentions an entity of *any* claim of either set (paper or known:
    :data:`~negprobe.activations.datasets.claims.ALL_CLAIM_ENTITIES`).

    A reader gated on "does it read the counterpart as more true than the claim" must not have
    seen the counterpart, or the gate is partly in-sample (issue 13); and a reader that reads every
    claim must not have been trained on another claim's facts (issue 16)."""
    claims = [get_claim(c) for c in claim_ids]
    owners = {e: c.id for c in reversed(list_claims("paper") + list_claims("known_candidates")) for e in c.entities}
    for text in texts:
        norm = _normalised(text)
        for claim in claims:
            for counterpart in (*claim.counterparts, claim.true_statement or ""):
                if counterpart and _normalised(counterpart) in norm:
                    raise NegprobeError(f"{dataset_name}: training row {text!r} contains the true counterpart of "
                                        f"claim {claim.id!r}")
        entity = mentioned_entity(text, ALL_CLAIM_ENTITIES)
        if entity is not None:
            raise NegprobeError(f"{dataset_name}: training row {text!r} mentions {entity!r}, an entity of claim "
                                f"{owners[entity]!r}")


def _per_fold_auroc(scores: np.ndarray, y: np.ndarray, groups: np.ndarray, n_folds: int, seed: int) -> np.ndarray:
    """Held-out AUROC ``[L]`` of :func:`out_of_fold_scores` run with the same ``groups``/``n_folds``/``seed``:
    per fold (each fold's rows are scored by that fold's probe), then averaged over folds."""
    groups = np.asarray(groups, dtype=object).astype(str)
    tests = [np.isin(groups, held) for held in group_kfold(groups, n_folds, seed)]
    return folds_metric_with_ci([scores[:, t] for t in tests], [y[t] for t in tests], [groups[t] for t in tests],
                                "auroc", n_boot=1, seed=seed).value  # the per-fold mean; its CI is not used


def fit_domain_readers(model, probes: list[str], claims: list[str], layers, store_root, seed: int = 0,
                       validity: bool = True, n_folds: int = 5) -> dict[str, TruthReader]:
    """Per claim, a probe on its domain's true/false statements (+ held-out-entity AUROC, per fold).

    Refuses (:func:`check_no_claim_leak`) a domain dataset holding the claim's counterpart or entities."""
    datasets = {n: load_dataset(n) for c in claims for n in (claim_domain(c), f"neg_{claim_domain(c)}")}
    for claim in claims:
        for name in (claim_domain(claim), f"neg_{claim_domain(claim)}"):
            check_no_claim_leak(datasets[name].texts(), [claim], name)
    X, meta = _stacked_datasets(model, datasets, layers, store_root)
    domain = meta["dataset"].str.replace("^neg_", "", regex=True).to_numpy()
    y = meta["label"].to_numpy()
    polarity = (meta["polarity"] == "affirmed").to_numpy(int)
    groups = meta["group"].astype(str).to_numpy()
    readers = {}
    for name in probes:
        fitted, curves = {}, []
        for claim in claims:
            rows = np.flatnonzero(domain == claim_domain(claim))
            Xc, yc, pc, gc = X[:, rows], y[rows], polarity[rows], groups[rows]
            one_domain = np.zeros(len(rows), dtype=int)  # TTPD centres per domain: here there is one
            fitted[claim] = _fit(name, Xc, yc, pc, one_domain, seed)
            if validity:
                scores = out_of_fold_scores(name, Xc, yc, gc, n_folds, seed, {"polarity": pc, "domain": one_domain})
                curves.append(_per_fold_auroc(scores, yc, gc, n_folds, seed))
        readers[f"{name}@domain"] = TruthReader(
            f"{name}@domain", fitted, np.mean(curves, axis=0) if validity else None,
            heldout_what="held-out entities of the claim's domain (per-fold AUROC, averaged)")
    return readers


def fit_readers(model, probes: list[str], probe_data: list[str], claims: list[str], layers, store_root,
                seed: int = 0, validity: bool = True) -> dict[str, TruthReader]:
    """General and/or claim-domain readers, as ``probe_data`` asks."""
    unknown = sorted(set(probe_data) - set(PROBE_DATA))
    if unknown or not probe_data:
        raise NegprobeError(f"probe data must be among {', '.join(PROBE_DATA)}, got {', '.join(unknown) or 'nothing'}")
    readers: dict[str, TruthReader] = {}
    if "general" in probe_data:
        readers |= fit_general_readers(model, probes, layers, store_root, seed, validity)
    if "domain" in probe_data:
        readers |= fit_domain_readers(model, probes, claims, layers, store_root, seed, validity)
    return readers


def _heldout(label: str, reader: TruthReader) -> np.ndarray:
    if reader.heldout_auroc is None:
        raise NegprobeError(f"truth reader {label} was fitted without validity data")
    return np.asarray(reader.heldout_auroc, dtype=float)


def validity_gates(readers: dict[str, TruthReader], X: Float[Tensor, "n_layers n d_model"], claims, pair_ids,
                   is_counterpart, threshold: float, n_boot: int = 200, seed: int = 0) -> dict[str, ValidityGate]:
    """Per base-model reader: held-out AUROC and the *paired* counterpart statistic with its claim-level CI.

    ``X``/``claims``/``pair_ids``/``is_counterpart`` are the base model's plain claims and their true
    counterparts; a claim row and its counterpart share a ``pair_id`` (``"<claim>:<paraphrase>"``
    in the ``claims`` dataset). See :func:`~negprobe.analysis.readout.paired_counterpart_statistic`.
    """
    claims = np.asarray(claims, dtype=object).astype(str)
    claim_rows, cp_rows = counterpart_pairs(pair_ids, is_counterpart)
    if (claims[claim_rows] != claims[cp_rows]).any():
        raise NegprobeError("a pair id joins a claim row to the counterpart of another claim")
    rows = np.concatenate([claim_rows, cp_rows])
    n_pairs, n_layers = len(claim_rows), X.shape[0]
    gates = {}
    for label, reader in readers.items():
        heldout = _heldout(label, reader)
        read = reader.read(X[:, rows], claims[rows]) if n_pairs else np.empty((n_layers, 0))
        ok = ~np.isnan(read[0, :n_pairs]) & ~np.isnan(read[0, n_pairs:])
        if ok.any():
            value, low, high = paired_counterpart_statistic(read[:, :n_pairs][:, ok], read[:, n_pairs:][:, ok],
                                                            claims[claim_rows][ok], n_boot=n_boot, seed=seed)
        else:  # no counterpart pairs this reader covers: the gate cannot pass
            value = low = high = np.full(n_layers, np.nan)
        gates[label] = ValidityGate(heldout, value, threshold, low, high)
    return gates


def heldout_only_gates(readers: dict[str, TruthReader], threshold: float) -> dict[str, ValidityGate]:
    """Gates of readers refitted on a fine-tuned model: held-out truth data only (``counterpart_auroc`` None).

    Such a reader is meant to read the fine-tuned model's belief about the claim; gating it on the
    claim against its counterpart would fail, by construction, a reader that reads an implanted
    belief correctly as "true"."""
    return {label: ValidityGate(_heldout(label, reader), None, threshold) for label, reader in readers.items()}
