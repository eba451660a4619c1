"""Fit a probe from Python on cached activations, then read it on another topic, through the ``negprobe`` API.

    python scripts/examples/probe_from_python.py [MODEL]     # default: the embedded smollm2-135m
"""

import sys

import numpy as np
import torch

import negprobe

model = negprobe.load_model(sys.argv[1] if len(sys.argv) > 1 else "smollm2-135m")
# a fine-tuned model is base + adapter: negprobe.load_model("smollm2-135m", adapter="runs/ed_sheeran-negated")
train = [negprobe.cache_activations(model, negprobe.load_dataset(name)).store for name in ("cities", "neg_cities")]
test = negprobe.cache_activations(model, negprobe.load_dataset("animals")).store

X = torch.cat([s.stack() for s in train], dim=1)  # [layers, rows, d_model]
meta = [s.metadata for s in train]
y = np.concatenate([m["label"].to_numpy() for m in meta])
polarity = np.concatenate([(m["polarity"] == "affirmed").to_numpy(int) for m in meta])

probe = negprobe.TTPDProbe().fit(X, y, polarity=polarity)  # every layer at once
scores = probe.decision_function(test.stack())
for layer, value in enumerate(negprobe.auroc(scores, test.metadata["label"].to_numpy())):
    print(f"layer {layer:2d}  AUROC on animals {value:.3f}")
