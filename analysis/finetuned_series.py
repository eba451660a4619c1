"""The per-layer series of the fine-tuned report, each read from the files an existing command wrote, with its gate.

- **In-context annotation use (base)**: ``negprobe localize``'s ``claim_patching.csv`` (claim-mean
  NIE of patching the annotated claim tokens into the plain run, per layer, with CIs;
  :mod:`.claim_patching`) and ``handoff_layers.csv``. Gate: the behavioural prerequisite
  (:mod:`.prerequisite`): localize patches only annotations that pass it, so no rows = nothing to localise.
- **Training-signal divergence**: ``negprobe signal``'s ``signal_claims.csv``; the annotation-specific
  divergence ``cos(neutral, plain) - cos(annotated, plain)`` per claim, pooled with the claim
  bootstrap exactly as :func:`.training_signal.summarize_signal` does. Gate: a divergence layer (the
  CI stays above 0 from some layer on, :func:`.drop_layer.first_layer_staying`).
- **Cross-model patching recovery**: ``cross_patching.json`` (:mod:`.cross_patching_io`). Gate: the
  fine-tuned models' paired belief rise over the base (:mod:`.belief_gate`).
- **LoRA update norm**: ``lora_norms.csv`` (:func:`.weight_view.weight_table` rows; per block, the
  whole update's norm relative to the base weights, mean and range over adapters). Descriptive: it is
  read only beside a cross-model patching result of the same adapters whose gate passed.
- **In-context decodability change**: ``negprobe cross-patch --in-context``'s ``contrasts_by_model.csv``
  (:mod:`.tuned_contrasts`): the annotation's primary matched contrast (notice vs its neutral twin, ...)
  at the restated claim, fine-tuned AUROC minus base AUROC per layer (mean over the fine-tuned models;
  band: the model's 95% CI, or with several models the envelope of their CIs). Gate: some model's
  simultaneous band of the difference excludes 0 at some layer.

Every reader refuses a missing or garbled file in one line (:class:`~negprobe.errors.NegprobeError`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd
from jaxtyping import Float, Int

from negprobe.errors import NegprobeError

from .belief_gate import EFFECT, NOTHING
from .cross_patching import CURVES
from .cross_patching_io import RecoveryCurve, read_recovery
from .drop_layer import first_layer_staying
from .training_signal import pooled

IN_CONTEXT, SIGNAL, PATCHING, WEIGHTS, CONTRASTS = "in_context", "signal", "patching", "weights", "contrasts"
KEYS = (IN_CONTEXT, SIGNAL, PATCHING, WEIGHTS, CONTRASTS)
TITLES = {IN_CONTEXT: "in-context annotation use (base)", SIGNAL: "training-signal divergence",
          PATCHING: "cross-model patching recovery", WEIGHTS: "LoRA update norm",
          CONTRASTS: "in-context decodability, fine-tuned - base"}


@dataclass(frozen=True, eq=False)
class LayerSeries:
    """One per-layer series of the report: values with a band, whether its gate passed, and why."""

    key: str  # one of KEYS
    ylabel: str
    layers: Int[np.ndarray, " n"]
    value: Float[np.ndarray, " n"]
    low: Float[np.ndarray, " n"]
    high: Float[np.ndarray, " n"]
    passed: bool  # the series' gate passed: its numbers may be read
    reason: str  # the gate's sentence (the effect shown, or why there is nothing to localise)
    marker: int | None = None  # the layer the series locates (hand-off, divergence, half recovery)
    marker_ci: tuple[int, int] | None = None
    marker_label: str = ""
    band: str = "95% CI"  # what low..high is
    source: str = ""

    @property
    def title(self) -> str:
        return TITLES[self.key]

    @property
    def status(self) -> str:
        return EFFECT if self.passed else NOTHING


def read_table(path: Path, columns: tuple[str, ...], what: str) -> pd.DataFrame:
    """A CSV with at least ``columns``; missing, unreadable or other columns: one clear error."""
    if not path.is_file():
        raise NegprobeError(f"{path}: {what} not found")
    try:
        table = pd.read_csv(path)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise NegprobeError(f"{path}: unreadable {what} ({' '.join(str(exc).split())[:120]})") from None
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise NegprobeError(f"{path}: not a {what}: lacks columns {', '.join(missing)}")
    return table


def where(table: pd.DataFrame, mask) -> pd.DataFrame:
    """The rows of ``table`` where ``mask`` holds, typed as a frame."""
    return cast(pd.DataFrame, table.loc[mask])


def _numbers(table: pd.DataFrame, columns: tuple[str, ...], path: Path) -> None:
    for column in columns:
        if not pd.api.types.is_numeric_dtype(table[column]):
            raise NegprobeError(f"{path}: column {column!r} holds values that are not numbers")


def in_context_series(folder: Path, annotation: str = "notice", curve: str = "annotated -> plain") -> LayerSeries:
    """Claim-mean NIE of ``curve`` for ``annotation`` from a localize report folder (see the module docstring)."""
    path = folder / "claim_patching.csv"
    table = read_table(path, ("annotation", "curve", "layer", "nie", "ci_low", "ci_high"), "localize claim_patching.csv")
    rows = where(table, (table["annotation"] == annotation) & (table["curve"] == curve)).sort_values(by="layer")
    ylabel = f"NIE, {curve.replace('annotated', annotation)} (nats)"
    prerequisite = _prerequisite_note(folder, annotation)
    if rows.empty:
        why = _handoff_note(folder, annotation) or (f"localize patched no claim for annotation {annotation!r}: "
                                                     f"its behavioural prerequisite passed no claim ({prerequisite})")
        empty = np.array([], dtype=float)
        return LayerSeries(IN_CONTEXT, ylabel, empty.astype(int), empty, empty, empty, False, why, source=str(path))
    _numbers(rows, ("layer", "nie", "ci_low", "ci_high"), path)
    marker, ci = _handoff(folder, annotation, curve)
    reason = f"annotation {annotation!r}: {prerequisite}"
    return LayerSeries(IN_CONTEXT, ylabel, rows["layer"].to_numpy(int), rows["nie"].to_numpy(float),
                       rows["ci_low"].to_numpy(float), rows["ci_high"].to_numpy(float), True, reason, marker, ci,
                       "hand-off layer", source=str(path))


def _prerequisite_note(folder: Path, annotation: str) -> str:
    """How many claims pass ``annotation``'s prerequisite and its per-claim effects vs plain (prerequisite.csv);
    an annotation the file does not gate is refused."""
    path = folder / "prerequisite.csv"
    if not path.is_file():
        return "prerequisite.csv not found"
    table = read_table(path, ("gate", "annotation", "comparison", "effect", "passes"), "localize prerequisite.csv")
    if annotation not in set(table["gate"].astype(str)):
        raise NegprobeError(f"--annotation {annotation!r}: {path} gates {', '.join(sorted(set(table['gate'].astype(str))))}")
    rows = where(table, (table["gate"] == annotation) & (table["annotation"] == annotation)
                  & (table["comparison"] == "plain"))
    passing = sum(str(v).lower() == "true" for v in rows["passes"])
    effects = np.asarray(pd.to_numeric(rows["effect"], errors="coerce"), dtype=float)
    if not len(effects):
        return f"no claim of annotation {annotation!r} in prerequisite.csv"
    return f"{passing} of {len(rows)} claims pass; effects vs plain {np.nanmin(effects):+.2f} to " \
           f"{np.nanmax(effects):+.2f} nats"


def _handoff_rows(folder: Path, annotation: str) -> pd.DataFrame | None:
    path = folder / "handoff_layers.csv"
    if not path.is_file():
        return None
    table = read_table(path, ("annotation", "direction", "layer", "ci_low", "ci_high", "note"), "handoff_layers.csv")
    return where(table, table["annotation"] == annotation)


def _handoff_note(folder: Path, annotation: str) -> str:
    rows = _handoff_rows(folder, annotation)
    notes = [] if rows is None else [str(n) for n in rows["note"] if isinstance(n, str) and n]
    return notes[0] if notes else ""


def _handoff(folder: Path, annotation: str, curve: str) -> tuple[int | None, tuple[int, int] | None]:
    rows = _handoff_rows(folder, annotation)
    direction = curve.replace("annotated", annotation)
    found = [] if rows is None else where(rows, rows["direction"] == direction).to_dict("records")
    if not found or not np.isfinite(float(found[0]["layer"])):
        return None, None
    low, high = float(found[0]["ci_low"]), float(found[0]["ci_high"])
    ci = (int(low), int(high)) if np.isfinite(low) and np.isfinite(high) else None
    return int(found[0]["layer"]), ci


def signal_series(folder: Path, n_boot: int = 1000, seed: int = 0) -> LayerSeries:
    """The annotation-specific divergence per layer from ``negprobe signal``'s ``signal_claims.csv``."""
    path = folder / "signal_claims.csv"
    table = read_table(path, ("claim", "comparison", "layer", "cosine"), "signal_claims.csv")
    _numbers(table, ("layer", "cosine"), path)
    wide = table.pivot_table(index=["claim", "layer"], columns="comparison", values="cosine", aggfunc="mean")
    needed = ("neutral vs plain", "annotated vs plain")
    if any(c not in wide.columns for c in needed):
        raise NegprobeError(f"{path}: lacks the comparisons {' and '.join(needed)}")
    divergence = (wide[needed[0]] - wide[needed[1]]).unstack("layer")  # [claim, layer]
    if divergence.isna().any().any():
        raise NegprobeError(f"{path}: some claim lacks a layer's cosine")
    claims = tuple(str(c) for c in divergence.index)
    iv = pooled(divergence.to_numpy(float), claims, n_boot, seed)
    layers = divergence.columns.to_numpy(int)
    staying = first_layer_staying(iv.low > 0)
    passed = staying < len(layers)
    reason = (f"the annotation-specific divergence stays above 0 from layer {int(layers[staying])}" if passed else
              "no layer's annotation-specific gradient divergence has a CI above 0 from there on: at the base weights "
              f"the annotation turns the claim-token gradient no more than its neutral twin ({len(claims)} claims; "
              f"divergence {iv.mean.min():+.4f} to {iv.mean.max():+.4f})")
    return LayerSeries(SIGNAL, "cos(N, P) - cos(A, P)", layers, iv.mean, iv.low, iv.high, passed, reason,
                       int(layers[staying]) if passed else None, None, "divergence layer", source=str(path))


def patching_series(path: Path, curve: str = CURVES[1]) -> tuple[LayerSeries, RecoveryCurve]:
    """The recovery curve (default: tuned -> base, all positions) from a ``cross_patching.json``."""
    rc = read_recovery(path, curve)
    passed = rc.status == EFFECT
    reason = (rc.gate.reason if passed else rc.reason) or rc.gate.reason
    return LayerSeries(PATCHING, f"recovery ({rc.gate.measure}), {curve}", rc.layers.astype(int), rc.value, rc.low, rc.high, passed,
                       reason, rc.half_layer, rc.half_ci, "half recovery", source=str(path)), rc


def weight_series(path: Path, patching: LayerSeries | None) -> LayerSeries:
    """Per block, the relative LoRA update norm (mean over adapters, band = their range) from ``lora_norms.csv``."""
    table = read_table(path, ("adapter", "layer", "module", "relative"), "lora_norms.csv")
    rows = where(table, table["module"] == "all")
    _numbers(rows, ("layer", "relative"), path)
    if rows.empty:
        raise NegprobeError(f"{path}: no per-block rows (module 'all')")
    by_layer = rows.pivot_table(index="layer", columns="adapter", values="relative", aggfunc="mean").sort_index()
    values = by_layer.to_numpy(float)
    n = by_layer.shape[1]
    passed = patching is not None and patching.passed
    reason = (f"{n} adapter(s); read beside their cross-model patching, whose gate passed ({patching.reason})"
              if patching is not None and passed else
              "the update norm says where fine-tuning wrote, and is read only beside a belief effect: "
              + ("no cross-model patching result was given" if patching is None else patching.reason))
    return LayerSeries(WEIGHTS, "||dW|| / ||W|| per block", by_layer.index.to_numpy(int), np.nanmean(values, 1),
                       np.nanmin(values, 1), np.nanmax(values, 1), passed, reason, band=f"range over {n} adapter(s)",
                       source=str(path))


def contrasts_series(path: Path, annotation: str = "notice", read: str = "restated claim") -> LayerSeries:
    """Fine-tuned minus base decodability of ``annotation``'s primary contrast at ``read`` from a
    ``contrasts_by_model.csv`` (see the module docstring)."""
    from .contrasts import PRIMARY
    from .tuned_contrasts import BASE

    table = read_table(path, ("model", "contrast", "position", "layer", "minus_base", "minus_base_low",
                              "minus_base_high", "changed"), "contrasts_by_model.csv")
    if annotation not in PRIMARY:
        raise NegprobeError(f"--annotation {annotation!r}: use one of {', '.join(PRIMARY)}")
    at_read = where(table, (table["position"] == read) & (table["model"].astype(str) != BASE))
    labels = [f"{a} vs {c}" for a, c in PRIMARY[annotation] if f"{a} vs {c}" in set(at_read["contrast"])]
    if not labels:
        raise NegprobeError(f"{path}: no fine-tuned model's {annotation} contrast at the {read}")
    rows = where(at_read, at_read["contrast"] == labels[0])
    _numbers(rows, ("layer", "minus_base", "minus_base_low", "minus_base_high"), path)
    wide = rows.pivot_table(index="layer", columns="model", values=["minus_base", "minus_base_low",
                                                                     "minus_base_high"], aggfunc="mean").sort_index()
    changed = rows.assign(changed=rows["changed"].astype(str).str.lower() == "true").pivot_table(
        index="layer", columns="model", values="changed", aggfunc="max").sort_index().to_numpy(bool)  # [L, models]
    layers, n = wide.index.to_numpy(int), changed.shape[1]
    value = wide["minus_base"].to_numpy(float).mean(1)
    low, high = wide["minus_base_low"].to_numpy(float).min(1), wide["minus_base_high"].to_numpy(float).max(1)
    what = f"{labels[0]} at the {read}"
    passed = bool(changed.any())
    staying = first_layer_staying(changed.all(1))
    reason = (f"{what}: the simultaneous band of fine-tuned - base AUROC excludes 0 at some layer in "
              f"{int(changed.any(0).sum())} of {n} model(s)" if passed else
              f"{what}: no layer's fine-tuned - base AUROC has a simultaneous band excluding 0 in any of {n} "
              f"model(s) (change {np.nanmin(value):+.3f} to {np.nanmax(value):+.3f})")
    marker = int(layers[staying]) if passed and staying < len(layers) else None
    return LayerSeries(CONTRASTS, f"AUROC change, {labels[0]}", layers, value, low, high, passed, reason, marker,
                       None, "changed from layer", "95% CI" if n == 1 else f"envelope of {n} models' 95% CIs",
                       source=str(path))
