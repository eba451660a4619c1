"""Truth readers: a truth probe plus its readout scale, fitted on general or claim-domain data.

Two kinds, as the localize step offers them:

- **general** (label ``<probe>``): one probe on the affirmed + negated general truth datasets
  (cities, elements, animals, larger_than and their ``neg_`` twins; Marks & Tegmark 2023,
  Bürger et al. 2024). Its held-out AUROC is leave-one-topic-out.
- **domain** (label ``<probe>@domain``): one probe per claim, trained on the built-in true/false
  statements of that claim's domain (``domain_sports`` for ``ed_sheeran``, ...) and their negated
  twins, so the probe is fitted near the claim's topic (the claim itself is never a training row).
  Its held-out AUROC is over entity groups of the domain it never saw (grouped k-fold).

Every reader maps probe scores to the 0 (typical false) .. 1 (typical true) readout scale of
:class:`~negprobe.analysis.readout.ReadoutScale`, fitted on that probe's own training rows only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from jaxtyping import Float
from torch import Tensor

from negprobe.activations.datasets.registry import claim_domain, load_dataset
from negprobe.activations.datasets.topics import TRUTH_TOPICS
from negprobe.errors import NegprobeError
from negprobe.probes import make_probe
from negprobe.probes.base import LinearProbe
from negprobe.probes.evaluation import auroc, out_of_fold_scores

from .readout import ReadoutScale, ValidityGate
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


def _stacked_datasets(model, names: list[str], layers, store_root):
    """Activations ``[L, n, d]`` and row table of several built-in datasets, one cached store each.

    Read at the statement's last token, where every truth dataset's claim span ends (so the sweep's
    stores of the same datasets are reused rather than recomputed).
    """


    blocks, metas = [], []
    for name in names:
        store = cached_store(model, load_dataset(name), "last", layers, store_root)
        blocks.append(store.stack())
        metas.append(store.metadata.assign(dataset=name))
    return torch.cat(blocks, dim=1), pd.concat(metas, ignore_index=True)


def _fit(name: str, X, y, polarity, domain, seed: int) -> tuple[LinearProbe, ReadoutScale]:
    probe = make_probe(name, seed).fit(X, y, polarity=polarity, domain=domain)
    return probe, ReadoutScale.fit(probe.decision_function(X), y)


def fit_general_readers(model, probes: list[str], layers, store_root, seed: int = 0,
                        validity: bool = True) -> dict[str, TruthReader]:
    """One reader per probe family on the general truth datasets (+ leave-one-topic-out AUROC)."""
    X, meta = _stacked_datasets(model, [n for t in TRUTH_TOPICS for n in (t, f"neg_{t}")], layers, store_root)
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


def fit_domain_readers(model, probes: list[str], claims: list[str], layers, store_root, seed: int = 0,
                       validity: bool = True, n_folds: int = 5) -> dict[str, TruthReader]:
    """Per claim, a probe on its domain's true/false statements (+ held-out-entity AUROC)."""

    names = [n for c in claims for n in (claim_domain(c), f"neg_{claim_domain(c)}")]
    X, meta = _stacked_datasets(model, list(dict.fromkeys(names)), layers, store_root)
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
                curves.append(auroc(scores, yc))
        readers[f"{name}@domain"] = TruthReader(
            f"{name}@domain", fitted, np.mean(curves, axis=0) if validity else None,
            heldout_what="held-out entities of the claim's domain")
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


def validity_gates(readers: dict[str, TruthReader], X: Float[Tensor, "n_layers n d_model"], claims, is_counterpart,
                   threshold: float) -> dict[str, ValidityGate]:
    """Per reader: held-out AUROC and the AUROC of the claims against their true counterparts.

    ``X``/``claims``/``is_counterpart`` are the base model's plain claims and true counterparts.
    Readouts are on one scale across claims, so a domain reader's per-claim probes pool into one AUROC.
    """
    is_counterpart = np.asarray(is_counterpart).astype(int)
    gates = {}
    for label, reader in readers.items():
        if reader.heldout_auroc is None:
            raise NegprobeError(f"truth reader {label} was fitted without validity data")
        if is_counterpart.min() == is_counterpart.max():
            counterpart = np.zeros(X.shape[0])  # no counterpart pairs: the gate cannot pass
        else:
            read = reader.read(X, claims)
            ok = ~np.isnan(read[0])
            counterpart = auroc(read[:, ok], is_counterpart[ok]) if len(np.unique(is_counterpart[ok])) == 2 \
                else np.zeros(X.shape[0])
        gates[label] = ValidityGate(np.asarray(reader.heldout_auroc), np.nan_to_num(counterpart, nan=0.0), threshold)
    return gates
