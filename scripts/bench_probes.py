"""Benchmark: batched all-layer probe fitting against a per-layer scikit-learn loop.

    python -m negprobe.scripts.bench_probes [--model smollm2-135m] [--rows 3200]

On the same cached activations (>= 3,000 rows x all layers, last token), with one grouped
train/test split, times (1) negprobe's batched logistic regression against
``StandardScaler + LogisticRegression`` fitted layer by layer, and (2) negprobe's batched
mass-mean probe against scikit-learn's ``NearestCentroid`` layer by layer (the same
difference-of-means rule), then prints the speed ratios and the mean absolute difference in
held-out accuracy (percentage points).
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--rows", type=int, default=3200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import NearestCentroid
    from sklearn.preprocessing import StandardScaler

    from negprobe.activations import load_model
    from negprobe.activations.cache import cache_activations
    from negprobe.probes import LogisticRegressionProbe, MassMeanProbe
    from negprobe.probes.evaluation import split_groups
    from negprobe.scripts.bench_cache import truth_prompts

    model = load_model(args.model)
    data = truth_prompts(args.rows)
    store = cache_activations(model, data, progress=True).store
    X = store.stack()  # [L, n, d]
    meta = store.metadata
    y = meta["label"].to_numpy()
    groups = meta["group"].astype(str).to_numpy()
    test_mask = np.isin(groups, split_groups(groups, 0.25, args.seed))
    tr, te = np.flatnonzero(~test_mask), np.flatnonzero(test_mask)
    L = X.shape[0]
    print(f"{model.describe()}: {X.shape[1]} rows ({len(tr)} train / {len(te)} test, grouped), {L} layers, d={X.shape[2]}")

    def run(name, batched_fit, sklearn_fit):
        start = time.perf_counter()
        batched_acc = batched_fit()
        t_batched = time.perf_counter() - start
        start = time.perf_counter()
        sk_acc = np.array([sklearn_fit(layer) for layer in range(L)])
        t_sklearn = time.perf_counter() - start
        diff = 100 * np.abs(batched_acc - sk_acc).mean()
        print(f"{name:22s} batched {t_batched:7.2f} s   sklearn loop {t_sklearn:7.2f} s   speed-up {t_sklearn / t_batched:6.1f}x"
              f"   mean |accuracy diff| {diff:.2f} points (max {100 * np.abs(batched_acc - sk_acc).max():.2f})")

    def sk_logistic(layer):
        scaler = StandardScaler().fit(X[layer, tr].numpy())
        clf = LogisticRegression(max_iter=1000).fit(scaler.transform(X[layer, tr].numpy()), y[tr])
        return clf.score(scaler.transform(X[layer, te].numpy()), y[te])

    def sk_centroid(layer):
        return NearestCentroid().fit(X[layer, tr].numpy(), y[tr]).score(X[layer, te].numpy(), y[te])

    run("logistic regression", lambda: LogisticRegressionProbe().fit(X[:, tr], y[tr]).score(X[:, te], y[te]), sk_logistic)
    run("mass-mean", lambda: MassMeanProbe().fit(X[:, tr], y[tr]).score(X[:, te], y[te]), sk_centroid)
    print("targets: logistic >= 20x with mean |diff| <= 0.5 points; mass-mean >= 50x")


if __name__ == "__main__":
    main()
