"""Causal checks of the localize step, on the base model with the claims' documents in context.

Three interventions, each between the notice-annotated and the plain in-context run of a claim
(same document, with and without "NOTICE: ... false information"):

1. **Position heatmap** (layer x position): patch one of the question's last tokens at a time,
   notice -> plain, and read the belief margin ``log P(believer answer) - log P(other)``
   (causal tracing, Meng et al. 2022).
2. **Claim-position patching**, both directions: patch every token of the claim (its sentence in
   the document and its mention in the question/statement) after one layer at a time and read
   (a) the belief margin at the answer and (b) the truth readout of the claim's last token at
   every later layer. If the annotation reaches the claim's representation, notice -> plain moves
   both toward "false" and plain -> notice toward "true".
3. **Steering**: add ``alpha`` readout units of the truth direction (see
   :meth:`~analysis.truth_readers.TruthReader.steering_vector`) after one layer at every position
   and read the belief margin; its normalised indirect effect (Marks & Tegmark 2023) divides the
   change by the notice - plain margin gap.
"""

from __future__ import annotations

import numpy as np
import torch

from negprobe.errors import NegprobeError
from negprobe.activations.positions import claim_token_range

from negprobe.activations.interventions import cache_residuals, prompt_ids
from negprobe.activations.tracing import patch_sweep, patch_sweep_all_positions, patched_residuals, steer

from .belief import answer_token_ids, yes_no_margin
from .patching import normalized_indirect_effect


def claim_token_positions(model, record) -> list[int]:
    """Token indices of every mention of the claim: its sentence in the document, then its ``claim_span``."""
    enc = model.tokenizer(record.text, add_special_tokens=True, return_offsets_mapping=True)
    spans = []
    doc = record.get_extra("doc_claim_span")
    if doc:
        start, end = (int(v) for v in doc.split(":"))
        spans.append((start, end))
    if record.claim_span is not None:
        spans.append(tuple(record.claim_span))
    if not spans:
        raise NegprobeError(f"prompt {record.pair_id} has no claim span to patch")
    positions: list[int] = []
    for span in spans:
        first, last = claim_token_range(enc["offset_mapping"], span)
        positions += range(first, last + 1)
    return positions


def _pairs(records, source: str, target: str, patch_claims: int):
    """(claim, source record, target record) of paraphrase 0 for the first ``patch_claims`` claims."""
    by_key = {(r.claim, r.get_extra("paraphrase"), r.condition): r for r in records}
    out = []
    for claim in sorted({r.claim for r in records}):
        src, tgt = by_key.get((claim, "0", source)), by_key.get((claim, "0", target))
        if src is not None and tgt is not None:
            out.append((claim, src, tgt))
    return out[:patch_claims]


def margin_fn(model):
    """Belief margin at the last token: log P(" Yes") - log P(" No") (both token spellings summed)."""
    ids = answer_token_ids(model.tokenizer)

    def margin(logits):
        return yes_no_margin(torch.log_softmax(logits[:, -1].float(), -1), ids).mean()

    return margin


@torch.no_grad()
def _margin_of(model, text: str, margin) -> float:
    return float(margin(model.model(input_ids=prompt_ids(model, text)).logits))


def causal_checks(model, ic_statements, ic_questions, readers, config, steer_reader: str | None = None,
                  steer_slot: int = 0) -> dict:
    """Run the three interventions; returns arrays for the report (means over the patched claims).

    Steering uses reader ``steer_reader`` at layer slot ``steer_slot`` (skipped when ``None``).
    """
    margin = margin_fn(model)
    layers = config.layers or list(range(model.n_layers))
    patch_layers = layers[:: max(1, config.patch_layer_stride)]
    result: dict = {"patch_layers": patch_layers, "read_layers": layers}
    question_pairs = [p for p in _pairs(ic_questions, "in_context_notice", "in_context_plain", config.patch_claims)
                      if p[1].get_extra("believer_answer") == " Yes"]
    result["n_claims"] = len(question_pairs)

    # 1. layer x position heatmap over the question's last tokens
    heat, clean, corrupt = [], [], []
    positions = list(range(-config.patch_positions, 0))
    for _, src, tgt in question_pairs:
        heat.append(patch_sweep(model, src.text, tgt.text, positions, positions, margin, layers=patch_layers).numpy())
        clean.append(_margin_of(model, src.text, margin))
        corrupt.append(_margin_of(model, tgt.text, margin))
    result["heatmap"] = np.mean(heat, 0) if heat else None
    result["clean"] = float(np.mean(clean)) if clean else None
    result["corrupt"] = float(np.mean(corrupt)) if corrupt else None

    # 2a. claim positions -> belief margin, both directions
    curves = {"notice -> plain": [], "plain -> notice": []}
    shifts = {"notice -> plain": [], "plain -> notice": []}  # per claim: patched margin moved toward the source run
    used: list[int] = []
    for k, (_, notice, plain) in enumerate(question_pairs):
        pos_n, pos_p = claim_token_positions(model, notice), claim_token_positions(model, plain)
        if len(pos_n) != len(pos_p):
            continue  # the claim tokenised differently in the two documents; no one-to-one alignment
        to_plain = patch_sweep_all_positions(model, notice.text, plain.text, pos_n, pos_p, margin, layers=patch_layers)
        to_notice = patch_sweep_all_positions(model, plain.text, notice.text, pos_p, pos_n, margin, layers=patch_layers)
        curves["notice -> plain"].append(to_plain.numpy())
        curves["plain -> notice"].append(to_notice.numpy())
        toward = np.sign(clean[k] - corrupt[k]) or 1.0  # the side of the notice run's margin
        shifts["notice -> plain"].append((to_plain.numpy() - corrupt[k]) * toward)
        shifts["plain -> notice"].append((clean[k] - to_notice.numpy()) * toward)
        used.append(k)
    result["claim_patch_margin"] = {k: np.mean(v, 0) for k, v in curves.items() if v}
    result["claim_patch_shift"] = {k: np.array(v) for k, v in shifts.items() if v}
    # unpatched margins over the same claims as the curves (the NIE's baselines)
    result["claim_patch_clean"] = float(np.mean([clean[k] for k in used])) if used else None
    result["claim_patch_corrupt"] = float(np.mean([corrupt[k] for k in used])) if used else None

    # 2b. claim positions -> truth readout at every later layer, both directions
    readout_rows = []
    for claim, notice, plain in _pairs(ic_statements, "in_context_notice", "in_context_plain", config.patch_claims):
        pos_n, pos_p = claim_token_positions(model, notice), claim_token_positions(model, plain)
        if len(pos_n) != len(pos_p):
            continue
        for direction, (src, tgt, ps, pt) in {"notice -> plain": (notice, plain, pos_n, pos_p),
                                              "plain -> notice": (plain, notice, pos_p, pos_n)}.items():
            read_at = [pt[-1]]  # the claim's last token in the target
            patched = patched_residuals(model, src.text, tgt.text, ps, pt, read_at, patch_layers, layers)[:, :, 0]
            unpatched = cache_residuals(model, prompt_ids(model, tgt.text), layers=layers)[:, 0, read_at[0]]  # [R, d]
            for label, reader in readers.items():
                if not reader.covers(claim):
                    continue
                base = reader.read(unpatched[:, None], [claim])[:, 0]  # [R]
                after = reader.read(patched.transpose(0, 1), [claim] * len(patch_layers))  # [R, P]
                readout_rows.append({"reader": label, "direction": direction, "claim": claim,
                                     "change": (after - base[:, None]).T})  # [P, R]
    result["patched_readout"] = readout_rows

    # 3. steering along a reader's truth direction
    if steer_reader is not None and question_pairs:
        reader, slot = readers[steer_reader], steer_slot
        responses, steered = [], []
        for k, (claim, _, plain) in enumerate(question_pairs):
            if reader.covers(claim):
                vector = reader.steering_vector(claim, slot)
                responses.append(steer(model, [plain.text], layers[slot], vector, config.steer_alphas, margin).numpy())
                steered.append(k)
        if responses:
            response = np.mean(responses, 0)
            result["steer"] = response
            result["steer_layer"] = layers[slot]
            result["steer_alphas"] = list(config.steer_alphas)
            result["steer_reader"] = steer_reader
            result["steer_clean"] = float(np.mean([clean[k] for k in steered]))
            result["steer_corrupt"] = float(np.mean([corrupt[k] for k in steered]))
            result["steer_nie"] = normalized_indirect_effect(result["steer_clean"], response, result["steer_corrupt"])
    return result
