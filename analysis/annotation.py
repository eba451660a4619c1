"""Annotation tracking: how decodable is "this claim was flagged as false" at each layer?

A probe separates annotated from plain versions of the same claims (document notice, dense
annotation, sentence annotation, local negation); splits are grouped by claim/paraphrase group so
a claim is never on both sides; the curve is the held-out AUROC per layer with group-bootstrap
95% CIs. Its drop layer (``negprobe.analysis.drop_layer.decodability_drop_layer``) is where the annotation
stops being readable. It needs no truth probe, so it is reported even where truth readouts fail
their validity gate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from negprobe.errors import NegprobeError
from negprobe.probes.evaluation import MetricWithCI, out_of_fold_scores, pooled_metric_with_ci

from .drop_layer import decodability_drop_layer


@dataclass(frozen=True, eq=False)
class DecodabilityCurve:
    auroc: MetricWithCI  # per layer
    layers: list[int]
    drop_layer: int | None  # first layer from which it stays undecodable (len(layers): never; None: never decodable)

    @property
    def last_decodable_layer(self) -> int | None:
        """The last layer at which the annotation is still decodable (drop_layer - 1)."""
        if self.drop_layer is None:
            return None
        return self.layers[self.drop_layer - 1] if self.drop_layer > 0 else -1


def annotation_decodability(
    X, annotated, groups, layers: list[int] | None = None, probe: str = "logistic", n_folds: int = 5,
    seed: int = 0, n_boot: int = 200,
) -> DecodabilityCurve:
    """Held-out AUROC per layer of a probe for ``annotated`` (1) vs plain (0) rows.

    ``X`` is ``[n_layers, n, d]``; ``groups`` keeps paraphrases of one claim on one side of every split.
    """
    X = torch.as_tensor(np.asarray(X) if not isinstance(X, torch.Tensor) else X, dtype=torch.float32)
    y = np.asarray(annotated, dtype=float)
    groups = np.asarray(groups).astype(str)
    if X.ndim != 3 or X.shape[1] != len(y) or len(groups) != len(y):
        raise NegprobeError(f"activations {tuple(X.shape)} do not match {len(y)} labels / {len(groups)} groups")
    if len(np.unique(y)) != 2:
        raise NegprobeError("annotation tracking needs both annotated and plain prompts")
    scores = out_of_fold_scores(probe, X, y, groups, n_folds, seed)
    curve = pooled_metric_with_ci(scores, y, groups, "auroc", n_boot=n_boot, seed=seed)
    layer_list = list(layers) if layers is not None else list(range(X.shape[0]))
    drop = decodability_drop_layer(curve.value, floor=0.5) if curve.value.max() > 0.5 else None
    return DecodabilityCurve(curve, layer_list, drop)
