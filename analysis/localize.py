"""``negprobe localize``: where does the negation annotation stop reaching the claim?

Pipeline (Mayne et al. 2026 ask it behaviourally; negprobe asks it per layer):

1. **Truth probes** (logistic, TTPD, ...) trained on the base model's general truth datasets at
   the claim's last token; a readout scale from their own training data; a validity gate from
   leave-one-topic-out AUROC and the claims' own true-counterpart AUROC.
2. **Readouts** of the claims per layer: base bare claim, base after plain / notice / dense /
   local documents in context, and every fine-tuned adapter's bare claim (with the frozen base
   probe and a probe refitted on that model); paired differences and inversion rates.
3. **Annotation decodability** per layer (annotated vs plain versions of the same claims, split by
   claim) and its drop layer; the flip layer of the in-context annotated claim's readout.
4. **Causal checks** on the base model: patching the claim and question positions from the
   notice-annotated in-context run into the plain one (layer x position heatmap of the belief
   margin), and steering along the truth direction.
5. **Behaviour** joined from a belief CSV (``negprobe belief --out``), with a rank correlation.

Everything reads the activation store; the report is one self-contained HTML file plus PNGs/CSVs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from activations.errors import NegprobeError
from probes import make_probe
from probes.evaluation import auroc

from .annotation import annotation_decodability
from .readout import DEFAULT_GATE, ReadoutScale, ValidityGate

TOPICS = ["cities", "elements", "animals", "larger_than"]
ANNOTATIONS = {  # claims-dataset condition -> what annotates it
    "doc_notice": "document notice", "dense": "dense annotation",
    "sentence_annotation": "sentence annotation", "local_negation": "local negation",
}
IN_CONTEXT = ["in_context_plain", "in_context_notice", "in_context_dense", "in_context_local"]


@dataclass
class LocalizeConfig:
    model: str = "smollm2-135m"
    adapters: dict[str, str] = field(default_factory=dict)  # condition -> adapter folder
    claims: list[str] | None = None  # default: every built-in claim
    probes: list[str] = field(default_factory=lambda: ["logistic", "ttpd"])
    layers: list[int] | None = None
    gate: float = DEFAULT_GATE
    seed: int = 0
    n_boot: int = 200
    patch_positions: int = 8  # last tokens of the in-context question to patch
    patch_layer_stride: int = 2  # patch every k-th layer (patching is the costliest step on a CPU)
    patch_claims: int = 3  # claims averaged in the patching heatmap
    steer_alphas: list[float] = field(default_factory=lambda: [-8.0, -4.0, -2.0, 0.0, 2.0, 4.0, 8.0])
    belief_csv: str | None = None
    store: str | None = None
    out: str = "negprobe-out/localize"


def _cache(model, dataset, position, config):
    from activations.cache import cache_activations
    from activations.datasets.formatting import FormatSpec

    result = cache_activations(model, dataset, positions=position, layers=config.layers, fmt=FormatSpec(),
                               root=config.store)
    return result.store


def _stack(store) -> torch.Tensor:
    return store.stack().transpose(0, 1)  # [L, n, d]


def _claims_data(config):
    from activations.datasets.dataset import PromptDataset
    from activations.datasets.registry import load_dataset

    claims = load_dataset("claims")
    in_context = load_dataset("in_context")
    if config.claims:
        unknown = sorted(set(config.claims) - {r.claim for r in claims})
        if unknown:
            raise NegprobeError(f"unknown claim(s) {', '.join(unknown)}; built-in claims: "
                                f"{', '.join(sorted({r.claim for r in claims}))}")
        claims = claims.filter(claim=list(config.claims))
        in_context = in_context.filter(claim=list(config.claims))
    annotated = {r.condition for r in claims} & set(ANNOTATIONS)
    if not annotated:
        raise NegprobeError("the selected claims have no annotated prompts")
    return claims, PromptDataset("in_context_statements", tuple(r for r in in_context if r.get_extra("probe") == "statement")), \
        PromptDataset("in_context_questions", tuple(r for r in in_context if r.get_extra("probe") == "question"))


def fit_truth_probes(model, config, probes=None, validity: bool = True):
    """Probes on all topics (+ negated twins) and their readout scales; with ``validity`` also each
    probe's leave-one-topic-out AUROC per layer (the gate's held-out-topic half)."""
    from activations.datasets.dataset import PromptDataset
    from activations.datasets.registry import load_dataset

    names = [n for t in TOPICS for n in (t, f"neg_{t}")]
    data = PromptDataset.concat(*[load_dataset(n) for n in names], name="truth")
    store = _cache(model, data, "claim_last", config)
    X, meta = _stack(store), store.metadata
    y = meta["label"].to_numpy()
    topic = np.repeat(TOPICS, [2 * len(load_dataset(t)) for t in TOPICS])  # rows: t, neg_t, t2, neg_t2, ...
    kw = {"polarity": (meta["polarity"] == "affirmed").to_numpy(int), "domain": topic}
    fitted, scales, loto = {}, {}, {}
    for name in probes or config.probes:
        probe = make_probe(name, config.seed).fit(X, y, **kw)
        fitted[name] = probe
        scales[name] = ReadoutScale.fit(probe.decision_function(X), y)
        if not validity:
            continue
        curves = []
        for held in TOPICS:
            train, test = topic != held, topic == held
            p = make_probe(name, config.seed).fit(X[:, train], y[train], polarity=kw["polarity"][train],
                                                 domain=kw["domain"][train])
            curves.append(auroc(p.decision_function(X[:, test]), y[test]))
        loto[name] = np.mean(curves, axis=0)
    return fitted, scales, loto


def readouts(model, label, claims, ic_statements, fitted, scales, config):
    """Long table of per-row readouts: model label x condition x probe x layer."""
    rows = []
    cl_store = _cache(model, claims, "claim_last", config)
    ic_store = _cache(model, ic_statements, "claim_last", config)
    for store, kind in ((cl_store, "bare"), (ic_store, "in_context")):
        X, meta = _stack(store), store.metadata
        for name, probe in fitted.items():
            r = scales[name].apply(probe.decision_function(X))  # [L, n]
            for cond in meta["condition"].unique():
                idx = np.flatnonzero((meta["condition"] == cond).to_numpy())
                rows.append({"model": label, "kind": kind, "condition": cond, "probe": name, "readout": r[:, idx],
                             "claims": meta["claim"].to_numpy()[idx], "pair": meta["pair_id"].astype(str).to_numpy()[idx]})
    return rows, cl_store


def annotation_curves(cl_store, config):
    X, meta = _stack(cl_store), cl_store.metadata
    out = {}
    n_claims = meta["claim"].nunique()
    for cond in ANNOTATIONS:
        mask = meta["condition"].isin(["plain", cond]).to_numpy()
        if not (meta["condition"] == cond).any():
            continue
        idx = np.flatnonzero(mask)
        annotated = (meta["condition"].to_numpy()[idx] == cond).astype(int)
        out[cond] = annotation_decodability(X[:, idx], annotated, meta["claim"].to_numpy()[idx], layers=cl_store.layers,
                                            probe="logistic", n_folds=min(3, n_claims) if n_claims > 1 else 2,
                                            seed=config.seed, n_boot=config.n_boot)
    return out


def _adapter_claims(adapter: str, claims) -> list[str]:
    """The claim an adapter was fine-tuned on (from its negprobe card), if it is among ``claims``."""
    card = Path(adapter) / "negprobe_adapter.json"
    if not card.is_file():
        return []
    claim = json.loads(card.read_text()).get("claim")
    return [claim] if claim in {r.claim for r in claims} else []


def run_localize(config: LocalizeConfig) -> Path:
    from activations.models import load_model

    from .report import write_report

    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    base = load_model(config.model)
    if config.layers is not None:
        config.layers = base.check_layers(config.layers)
    claims, ic_statements, ic_questions = _claims_data(config)
    fitted, scales, loto = fit_truth_probes(base, config)
    rows, base_claims = readouts(base, "base", claims, ic_statements, fitted, scales, config)
    meta = base_claims.metadata
    Xb = _stack(base_claims)
    plain = (meta["condition"] == "plain").to_numpy()
    counterpart = (meta["condition"] == "true_counterpart").to_numpy()
    gates = {}
    for name, probe in fitted.items():
        idx = np.flatnonzero(plain | counterpart)
        cp_auroc = auroc(probe.decision_function(Xb[:, idx]), counterpart[idx].astype(int)) if counterpart.any() \
            else np.full(Xb.shape[0], np.nan)
        gates[name] = ValidityGate(loto[name], np.nan_to_num(cp_auroc, nan=0.0), config.gate)
    for condition, adapter in config.adapters.items():
        tuned = load_model(config.model, adapter=adapter)
        if tuned.base_fingerprint != base.base_fingerprint:
            raise NegprobeError(f"adapter {adapter} does not belong to {config.model}")
        own = _adapter_claims(adapter, claims)  # read a fine-tuned model on the claim(s) it was trained on
        tuned_claims = claims.filter(claim=own) if own else claims
        tuned_ic = ic_statements.filter(claim=own) if own else ic_statements
        more, _ = readouts(tuned, f"fine-tuned:{condition}", tuned_claims.filter(condition=["plain", "true_counterpart", "local_negation"]),
                           tuned_ic.filter(condition=["in_context_plain"]), fitted, scales, config)
        rows += more
        # refitted probe on the fine-tuned model's own truth activations
        refit, refit_scales, _ = fit_truth_probes(tuned, config, probes=config.probes[:1], validity=False)
        more, _ = readouts(tuned, f"fine-tuned:{condition} (refit)", tuned_claims.filter(condition=["plain"]),
                           tuned_ic.filter(condition=["in_context_plain"]), refit, refit_scales, config)
        rows += more
        del tuned
    curves = annotation_curves(base_claims, config)
    causal = causal_checks(base, ic_questions, fitted, config)
    belief = pd.read_csv(config.belief_csv, keep_default_na=False) if config.belief_csv else None
    report = write_report(out, config, base, rows, gates, curves, causal, belief, base_claims.layers)
    return report


def causal_checks(model, ic_questions, fitted, config):
    """Patch notice-annotated -> plain in-context question runs; steer along the truth direction."""
    from analysis.patching import patch_sweep, steer

    from activations.finetune.belief import answer_token_ids

    ids = answer_token_ids(model.tokenizer)

    def margin(logits):  # believer ("yes") minus other at the last token
        logp = torch.log_softmax(logits[0, -1].float(), -1)
        return float(torch.logsumexp(logp[ids["yes"]], 0) - torch.logsumexp(logp[ids["no"]], 0))

    by_key = {(r.claim, r.get_extra("paraphrase"), r.condition): r for r in ic_questions}
    heatmaps, clean, corrupt = [], [], []
    all_layers = config.layers or list(range(model.n_layers))
    patch_layers = all_layers[:: max(1, config.patch_layer_stride)]
    for claim in sorted({r.claim for r in ic_questions})[: config.patch_claims]:
        src = by_key.get((claim, "0", "in_context_notice"))
        tgt = by_key.get((claim, "0", "in_context_plain"))
        if src is None or tgt is None or src.get_extra("believer_answer") != " Yes":
            continue
        n = config.patch_positions
        positions = list(range(-n, 0))
        heat = patch_sweep(model, src.text, tgt.text, positions, positions, margin, layers=patch_layers)
        heatmaps.append(heat.numpy())
        src_ids = model.tokenizer(src.text, return_tensors="pt")["input_ids"]
        tgt_ids = model.tokenizer(tgt.text, return_tensors="pt")["input_ids"]
        with torch.no_grad():
            clean.append(margin(model.model(input_ids=src_ids).logits))
            corrupt.append(margin(model.model(input_ids=tgt_ids).logits))
    result = {"heatmap": np.mean(heatmaps, 0) if heatmaps else None, "clean": float(np.mean(clean)) if clean else None,
              "corrupt": float(np.mean(corrupt)) if corrupt else None, "n_claims": len(heatmaps),
              "patch_layers": patch_layers}
    prompts = [r.text for r in ic_questions if r.condition == "in_context_plain" and r.get_extra("paraphrase") == "0"
               and r.get_extra("believer_answer") == " Yes"]
    if prompts and "logistic" in fitted:
        probe = fitted["logistic"]
        layer_slot = len(probe.coef_) // 2
        direction = torch.as_tensor(probe.direction_[layer_slot], dtype=torch.float32)
        scale = float(probe.standardizer_.scale_[layer_slot].mean()) if hasattr(probe, "standardizer_") else 1.0
        layer = (config.layers or list(range(model.n_layers)))[layer_slot]

        def batch_margin(logits):
            logp = torch.log_softmax(logits[:, -1].float(), -1)
            return (torch.logsumexp(logp[:, ids["yes"]], -1) - torch.logsumexp(logp[:, ids["no"]], -1)).mean()

        result["steer_layer"] = layer
        result["steer_alphas"] = config.steer_alphas
        result["steer"] = steer(model, prompts, layer, direction * scale, config.steer_alphas, batch_margin).numpy()
    return result
