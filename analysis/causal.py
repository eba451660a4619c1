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
   :meth:`~negprobe.analysis.truth_readers.TruthReader.steering_vector`) after one layer at every position
   and read the belief margin; its normalised indirect effect (Marks & Tegmark 2023) divides the
   change by the notice - plain margin gap.
"""

from __future__ import annotations

import numpy as np
import torch

from negprobe.activations.interventions import cache_residuals, prompt_ids
from negprobe.activations.positions import claim_token_range
from negprobe.activations.tracing import patch_sweep, patch_sweep_all_positions, patched_residuals, steer
from negprobe.errors import NegprobeError

from .belief import answer_token_ids, yes_no_margin
from .indirect_effect import normalized_indirect_effect
from .results import DIRECTIONS, CausalResult, ClaimPatching, PatchedReadout, PositionHeatmap, Steering


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
                  steer_slot: int = 0) -> CausalResult:
    """Run the three interventions; returns means over the patched claims.

    Steering uses reader ``steer_reader`` at layer slot ``steer_slot`` (skipped when ``None``).
    """
    margin = margin_fn(model)
    layers = config.layers or list(range(model.n_layers))
    patch_layers = layers[:: max(1, config.patch_layer_stride)]
    pairs = [p for p in _pairs(ic_questions, "in_context_notice", "in_context_plain", config.patch_claims)
             if p[1].get_extra("believer_answer") == " Yes"]
    clean = [_margin_of(model, src.text, margin) for _, src, _ in pairs]  # the notice runs' margins
    corrupt = [_margin_of(model, tgt.text, margin) for _, _, tgt in pairs]  # the plain runs' margins
    statements = _pairs(ic_statements, "in_context_notice", "in_context_plain", config.patch_claims)
    return CausalResult(
        patch_layers=patch_layers, read_layers=layers, n_claims=len(pairs),
        heatmap=_position_heatmap(model, pairs, clean, corrupt, patch_layers, config.patch_positions, margin),
        claim_patching=_claim_patching(model, pairs, clean, corrupt, patch_layers, margin),
        patched_readouts=tuple(_patched_readouts(model, statements, readers, patch_layers, layers)),
        steering=_steering(model, pairs, clean, corrupt, readers, steer_reader, steer_slot, layers,
                           config.steer_alphas, margin) if steer_reader is not None else None,
    )


def _position_heatmap(model, pairs, clean, corrupt, patch_layers, n_positions: int, margin) -> PositionHeatmap | None:
    """Layer x position heatmap over the question's last ``n_positions`` tokens, notice -> plain."""
    if not pairs:
        return None
    positions = list(range(-n_positions, 0))
    heat = [patch_sweep(model, src.text, tgt.text, positions, positions, margin, layers=patch_layers).numpy()
            for _, src, tgt in pairs]
    return PositionHeatmap(np.mean(heat, 0), tuple(positions), float(np.mean(clean)), float(np.mean(corrupt)))


def _claim_patching(model, pairs, clean, corrupt, patch_layers, margin) -> ClaimPatching | None:
    """Claim positions -> belief margin, both directions (claims that tokenise alike in both runs)."""
    curves = {direction: [] for direction in DIRECTIONS}
    shifts = {direction: [] for direction in DIRECTIONS}  # per claim: patched margin moved toward the source run
    used: list[int] = []
    for k, (_, notice, plain) in enumerate(pairs):
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
    if not used:
        return None
    # unpatched margins over the same claims as the curves (the NIE's baselines)
    return ClaimPatching({k: np.mean(v, 0) for k, v in curves.items()}, {k: np.array(v) for k, v in shifts.items()},
                         float(np.mean([clean[k] for k in used])), float(np.mean([corrupt[k] for k in used])))


def _patched_readouts(model, statements, readers, patch_layers, layers) -> list[PatchedReadout]:
    """Claim positions -> truth readout of the claim's last token at every layer, both directions."""
    rows = []
    for claim, notice, plain in statements:
        pos_n, pos_p = claim_token_positions(model, notice), claim_token_positions(model, plain)
        if len(pos_n) != len(pos_p):
            continue
        for direction, (src, tgt, ps, pt) in zip(DIRECTIONS, ((notice, plain, pos_n, pos_p),
                                                              (plain, notice, pos_p, pos_n))):
            read_at = [pt[-1]]  # the claim's last token in the target
            patched = patched_residuals(model, src.text, tgt.text, ps, pt, read_at, patch_layers, layers)[:, :, 0]
            unpatched = cache_residuals(model, prompt_ids(model, tgt.text), layers=layers)[:, 0, read_at[0]]  # [R, d]
            for label, reader in readers.items():
                if not reader.covers(claim):
                    continue
                base = reader.read(unpatched[:, None], [claim])[:, 0]  # [R]
                after = reader.read(patched.transpose(0, 1), [claim] * len(patch_layers))  # [R, P]
                rows.append(PatchedReadout(label, direction, claim, (after - base[:, None]).T))  # [P, R]
    return rows


def _steering(model, pairs, clean, corrupt, readers, steer_reader: str, slot: int, layers, alphas,
              margin) -> Steering | None:
    """Steering along a reader's truth direction at layer slot ``slot``, on the plain runs."""
    reader = readers[steer_reader]
    responses, steered = [], []
    for k, (claim, _, plain) in enumerate(pairs):
        if reader.covers(claim):
            vector = reader.steering_vector(claim, slot)
            responses.append(steer(model, [plain.text], layers[slot], vector, alphas, margin).numpy())
            steered.append(k)
    if not responses:
        return None
    response = np.mean(responses, 0)
    steer_clean = float(np.mean([clean[k] for k in steered]))
    steer_corrupt = float(np.mean([corrupt[k] for k in steered]))
    return Steering(steer_reader, layers[slot], tuple(alphas), response, steer_clean, steer_corrupt,
                    np.asarray(normalized_indirect_effect(steer_clean, response, steer_corrupt)))
