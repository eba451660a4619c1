"""The weight-space view of several adapters as one table: LoRA update norm per layer and module.

Rows come from :func:`negprobe.activations.lora_weights.lora_update_norms` (``||scaling * B @ A||_F``
against the base weight's ``||W||_F``, Hu et al. 2022). :func:`weight_table` gives one row per
(adapter, layer, module) plus a per-layer row (``module == "all"``: the norm of the block's whole
update over the norm of its adapted weights), ready to overlay with the cross-model patching curve
(:mod:`.cross_patching`) per layer. The table is descriptive: a large update marks where fine-tuning
wrote, not where the behaviour is read.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from negprobe.activations.lora_weights import LoraUpdateNorms
from negprobe.errors import NegprobeError

WEIGHT_COLUMNS = ("adapter", "layer", "module", "update_norm", "base_norm", "relative", "in_window")


def weight_table(norms: Sequence[LoraUpdateNorms], labels: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per adapter, layer and module (and ``module == "all"`` per layer); ``labels`` name the adapters."""
    if not norms:
        raise NegprobeError("no adapters to tabulate")
    labels = [n.adapter for n in norms] if labels is None else list(labels)
    if len(labels) != len(norms):
        raise NegprobeError(f"{len(labels)} labels for {len(norms)} adapters")
    rows = []
    for label, item in zip(labels, norms):
        known = np.isfinite(item.base)
        for layer in range(item.n_layers):
            inside = item.window is None or item.window[0] <= layer <= item.window[1]
            for j, module in enumerate(item.modules):
                rows.append((label, layer, module, item.update[layer, j], item.base[layer, j],
                             item.relative[layer, j], inside))
            update = float(np.sqrt((item.update[layer][known[layer]] ** 2).sum()))
            base = float(np.sqrt((item.base[layer][known[layer]] ** 2).sum()))
            rows.append((label, layer, "all", update, base, float(item.layer_relative[layer]), inside))
    return pd.DataFrame(rows, columns=list(WEIGHT_COLUMNS))
