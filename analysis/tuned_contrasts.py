"""Matched-contrast decodability of the annotation on each fine-tuned model, against the base, per layer.

:mod:`.contrasts` asks whether a probe tells an annotated document from the same document without the
annotation (notice vs plain, notice vs its neutral twin, dense vs dense_neutral, local vs plain, ...)
at the claim sentence inside the document and at the restated claim, per layer; :mod:`.localize` asks
it of the base model only. Here the same ``in_context`` rows are read by every fine-tuned model (base
+ LoRA adapter; Hu et al. 2022) with the same probe, folds and seed, and each layer's decodability is
set against the base's: ``minus_base = AUROC_tuned - AUROC_base``. It says whether fine-tuning changed
how present the annotation is at the read token (presence, not use: Belinkov 2022; the use is the
behavioural prerequisite of :mod:`.tuned_prerequisite`).

**CI of the difference.** Each :class:`~.annotation.DecodabilityCurve` holds its per-fold held-out
AUROCs (a fold holds out one claim, or with a single claim one paraphrase, both rows of each matched
pair together). Two models' curves on the same rows have the same folds, so the difference is paired
by fold: ``minus_base`` is the mean over folds of the per-fold difference, and its CI is the
bootstrap over folds (claims or paraphrases; :func:`negprobe.probes.resampling.bootstrap_mean`)
widened for folds that share training rows (Nadeau & Bengio 2003), exactly as each curve's own CI is
drawn (:func:`~.annotation.fold_mean_ci`). A curve that does not record its folds' row counts
(``fold_rows`` empty) gets the difference without a CI (NaN ends) and no changed layer: the widening
needs them, and none is invented. Curves of the two models with different folds or layers are refused.

**Ceiling.** AUROC saturates: where the base already decodes an annotation perfectly (AUROC 1 in every
fold, as on SmolLM2 for every contrast at every layer), ``minus_base`` can only be 0 or negative, so a
fine-tuned model that carries the annotation *more strongly* shows no change there. :meth:`TunedContrasts.lines`
says at how many layers the base sits at the ceiling.

**Changed layers** (the verdict, as :attr:`~.annotation.DecodabilityCurve.decodable` is for one curve):
where a band on ``minus_base`` that holds at all layers at once excludes 0
(:func:`~.annotation.simultaneous_band` of the per-fold differences: Nadeau-Bengio standard error times
a Bonferroni Student-t value), so thirty unchanged layers do not yield a "changed" layer by chance. The
pointwise CIs are for plots.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from jaxtyping import Bool, Int

from negprobe.errors import NegprobeError
from negprobe.probes.evaluation import MetricWithCI
from negprobe.probes.threads import one_torch_thread

from .annotation import DecodabilityCurve, fold_mean_ci, layer_ranges, simultaneous_band
from .contrasts import PRIMARY, ContrastKey, matched_contrasts
from .stores import cached_store

BASE = "base"
TABLE_COLUMNS = ("model", "contrast", "position", "layer", "auroc", "ci_low", "ci_high", "minus_base",
                 "minus_base_low", "minus_base_high", "changed", "unit", "n_folds")
READ_PROBES = ("document", "statement")  # record extra ``probe`` of the in_context rows read


@dataclass(frozen=True, eq=False)
class ContrastByModel:
    """One model's decodability of one contrast per layer, and its difference from the base's."""

    model: str  # "base" or an adapter's label
    key: ContrastKey
    layers: Int[np.ndarray, " n_layers"]
    auroc: MetricWithCI  # the curve's own: mean over folds, CI over folds (claims or paraphrases)
    minus_base: MetricWithCI  # AUROC - base AUROC, paired by fold; NaN CI ends when the curves lack fold_rows
    changed: Bool[np.ndarray, " n_layers"]  # the simultaneous band of minus_base excludes 0
    unit: str  # what a fold holds out: "claim" or "paraphrase"
    n_folds: int


@dataclass(frozen=True, eq=False)
class TunedContrasts:
    """Per model, per contrast and read position, per layer: decodability and its difference from the base."""

    curves: Mapping[str, Mapping[ContrastKey, DecodabilityCurve]]  # "base" first, then each adapter label
    rows: tuple[ContrastByModel, ...]

    def get(self, model: str, key: ContrastKey) -> ContrastByModel:
        for row in self.rows:
            if row.model == model and row.key == key:
                return row
        raise NegprobeError(f"no contrast {key.label} at the {key.read} for model {model!r}")

    def table(self) -> pd.DataFrame:
        """One row per model, contrast, read position and layer (``contrasts_by_model.csv``)."""
        out = []
        for r in self.rows:
            for slot, layer in enumerate(r.layers):
                out.append((r.model, r.key.label, r.key.read, int(layer), r.auroc.value[slot], r.auroc.ci_low[slot],
                            r.auroc.ci_high[slot], r.minus_base.value[slot], r.minus_base.ci_low[slot],
                            r.minus_base.ci_high[slot], bool(r.changed[slot]), r.unit, r.n_folds))
        return pd.DataFrame(out, columns=list(TABLE_COLUMNS))

    def lines(self, family: str = "notice", read: str = "restated claim") -> list[str]:
        """Per fine-tuned model: the family's primary contrast at ``read`` (:data:`~.contrasts.PRIMARY`, the first
        present) and its largest change from the base, with the changed layers (simultaneous band)."""
        keys = [ContrastKey(a, c, read) for a, c in PRIMARY[family] if ContrastKey(a, c, read) in self.curves[BASE]]
        out = []
        for model in [m for m in self.curves if m != BASE] if keys else []:
            row = self.get(model, keys[0])
            d = row.minus_base
            k = int(np.nanargmax(np.abs(d.value)))
            where = layer_ranges(list(map(int, row.layers)), row.changed) or "no layer"
            ceiling = int((self.curves[BASE][keys[0]].fold_auroc.min(0) >= 1.0).sum())
            out.append(f"decodability in context, {model}: {row.key.label} ({read}) minus base, largest at layer "
                       f"{int(row.layers[k])}: {d.value[k]:+.3f} [{d.ci_low[k]:+.3f}, {d.ci_high[k]:+.3f}] AUROC; "
                       f"changed (simultaneous band excludes 0) at {where} ({row.n_folds} {row.unit}s)"
                       + (f"; the base is at AUROC 1 in every fold at {ceiling} of {len(row.layers)} layers, where a rise"
                          " cannot show" if ceiling else ""))
        return out


def _difference(tuned: DecodabilityCurve, base: DecodabilityCurve, n_boot: int, seed: int
                ) -> tuple[MetricWithCI, np.ndarray]:
    """``tuned - base`` per layer, paired by fold, and the changed layers (see the module docstring)."""
    rows_differ = bool(tuned.fold_rows and base.fold_rows and tuned.fold_rows != base.fold_rows)
    if tuned.layers != base.layers or tuned.folds != base.folds or rows_differ:
        raise NegprobeError("the fine-tuned and base decodability curves have different layers or folds:"
                            " they were not computed on the same rows")
    fold_difference = tuned.fold_auroc - base.fold_auroc  # [n_folds, L]
    if tuned.fold_rows and base.fold_rows:
        low, high = simultaneous_band(fold_difference, tuned.fold_rows)
        return fold_mean_ci(fold_difference, tuned.fold_rows, n_boot, seed, (-1.0, 1.0)), (low > 0) | (high < 0)
    value = fold_difference.mean(0)
    missing = np.full_like(value, np.nan)
    return MetricWithCI(value, missing, missing, int(tuned.auroc.n)), np.zeros(len(value), dtype=bool)


def compare_with_base(curves: Mapping[str, Mapping[ContrastKey, DecodabilityCurve]], n_boot: int = 1000,
                      seed: int = 0) -> TunedContrasts:
    """:class:`TunedContrasts` of per-model curves (``"base"`` and each adapter's label -> the
    :func:`~.contrasts.matched_contrasts` curves of that model on the same rows)."""
    if BASE not in curves:
        raise NegprobeError("the decodability curves lack the base model's")
    base = curves[BASE]
    rows = []
    for model, by_key in curves.items():
        if set(by_key) != set(base):
            raise NegprobeError(f"model {model!r} has other contrasts than the base: not the same in_context rows")
        for key, curve in by_key.items():
            difference, changed = _difference(curve, base[key], n_boot, seed)
            rows.append(ContrastByModel(model, key, np.asarray(curve.layers, dtype=int), curve.auroc, difference,
                                        changed, curve.unit, len(curve.folds)))
    ordered = {BASE: base} | {m: c for m, c in curves.items() if m != BASE}
    return TunedContrasts(ordered, tuple(sorted(rows, key=lambda r: list(ordered).index(r.model))))


def in_context_reads(claims: Sequence[str]) -> dict[str, list]:
    """The built-in ``in_context`` records of ``claims`` per read (record extra ``probe``: document, statement)."""
    from negprobe.activations.datasets.dataset import PromptDataset
    from negprobe.activations.datasets.registry import load_dataset

    records = PromptDataset.concat(*(load_dataset(f"in_context/{c}") for c in claims), name="in_context")
    out = {probe: [r for r in records if r.get_extra("probe") == probe] for probe in READ_PROBES}
    if not all(out.values()):
        raise NegprobeError(f"no in-context document/statement records for {', '.join(claims)}")
    return out


def in_context_curves(model, reads: Mapping[str, Sequence], layers: Sequence[int] | None = None,
                      store: str | None = None, seed: int = 0, n_boot: int = 200, probe: str = "logistic",
                      progress: bool = True) -> dict[ContrastKey, DecodabilityCurve]:
    """:func:`~.contrasts.matched_contrasts` of ``model`` (a base, or base + adapter: the store is keyed by
    the model's fingerprint, which includes the adapter's) on the ``reads`` of :func:`in_context_reads`,
    each cached at the claim's last token (:func:`~.stores.cached_store`), as localize does on the base."""
    from negprobe.activations.datasets.dataset import PromptDataset

    stores = {probe_kind: cached_store(model, PromptDataset(f"in_context_{probe_kind}s", tuple(records)), "claim_last",
                                       layers, store, progress) for probe_kind, records in reads.items()}
    with one_torch_thread():
        return matched_contrasts(stores, model.tokenizer, {k: list(v) for k, v in reads.items()}, seed=seed,
                                 n_boot=n_boot, probe=probe)


def tuned_contrasts(base, tuned: Mapping, claims: Sequence[str], layers: Sequence[int] | None = None,
                    store: str | None = None, seed: int = 0, n_boot: int = 200, probe: str = "logistic",
                    progress: bool = True) -> TunedContrasts:
    """The in-context matched contrasts of ``base`` and of every fine-tuned model in ``tuned`` (label ->
    loaded model, e.g. a :class:`~negprobe.activations.model_pair.ModelPair`'s ``tuned``) on ``claims``."""
    if not tuned:
        raise NegprobeError("no fine-tuned model to compare with the base")
    if BASE in tuned:
        raise NegprobeError(f"{BASE!r} names the base model; give the adapters other labels")
    reads = in_context_reads(claims)
    curves = {label: in_context_curves(m, reads, layers, store, seed, n_boot, probe, progress)
              for label, m in {BASE: base, **tuned}.items()}
    return compare_with_base(curves, n_boot, seed)
