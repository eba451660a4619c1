"""Fit probes from Python on cached activations, then apply a base-model probe to another model.

    python scripts/examples/probe_from_python.py
"""

from negprobe.activations import load_model
from negprobe.activations.cache import cache_activations
from negprobe.activations.datasets.registry import load_dataset
from negprobe.probes import TTPDProbe
from negprobe.probes.evaluation import auroc

model = load_model("smollm2-135m")  # or load_model("smollm2-135m", adapter="runs/ed_sheeran-negated")
train = [cache_activations(model, load_dataset(name)).store for name in ("cities", "neg_cities")]
test = cache_activations(model, load_dataset("animals")).store

import numpy as np
import torch

X = torch.cat([s.stack() for s in train], dim=1)  # [layers, rows, d_model]
meta = [s.metadata for s in train]
y = np.concatenate([m["label"].to_numpy() for m in meta])
polarity = np.concatenate([(m["polarity"] == "affirmed").to_numpy(int) for m in meta])

probe = TTPDProbe().fit(X, y, polarity=polarity)  # every layer at once
scores = probe.decision_function(test.stack())
for layer, value in enumerate(auroc(scores, test.metadata["label"].to_numpy())):
    print(f"layer {layer:2d}  AUROC on animals {value:.3f}")
