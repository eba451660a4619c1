"""Layer x position heatmap at the question's last tokens: where does the annotation's effect sit late on?

For passing pairs of one annotation (see :mod:`.claim_patching` for which pairs), one of the
question's last ``n_positions`` tokens at a time is patched from the annotated run into the plain
run after block ``l`` (causal tracing, Meng et al. 2022). Both records end in the same text (the
restated question and "Answer:"), so these tokens align by their offset from the end; the token
ids are checked. Each cell is the **NIE** ``(m - m_plain) / (m_annotated - m_plain)``: the share of
the annotation's effect on the belief margin that this one token carries at that layer. Shown as
the claim mean over pairs (a two-stage bootstrap CI per cell is kept for the CSV).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from jaxtyping import Float

from negprobe.activations.models import LoadedModel
from negprobe.activations.prefix_reuse import Progress
from negprobe.activations.tracing import LayerPatch, run_layer_patches
from negprobe.errors import NegprobeError

from .claim_level import ClaimMean, claim_mean
from .claim_patching import TraceCache
from .indirect_effect import normalized_indirect_effect
from .prerequisite import belief_readout, believer_sign


@dataclass(frozen=True, eq=False)
class PairHeatmap:
    claim: str
    paraphrase: str
    nie: Float[np.ndarray, "n_layers n_positions"]


def heatmap_pair(model: LoadedModel, traces: TraceCache, annotated, plain, layers: Sequence[int], n_positions: int,
                 max_rows: int = 64, progress: Progress | None = None) -> PairHeatmap:
    """NIE of patching each of the last ``n_positions`` tokens, annotated -> plain, at every layer."""
    t_ann, t_plain = traces(annotated), traces(plain)
    n_positions = min(n_positions, t_ann.seq - 1, t_plain.seq - 1)
    src = list(range(t_ann.seq - n_positions, t_ann.seq))
    tgt = list(range(t_plain.seq - n_positions, t_plain.seq))
    if t_ann.input_ids[0, src].tolist() != t_plain.input_ids[0, tgt].tolist():
        raise NegprobeError(f"the last {n_positions} tokens of {annotated.pair_id} and {plain.pair_id} differ; "
                            "they cannot be aligned from the end")
    patches = [LayerPatch.from_trace(t_ann, layers, [s], [t]) for s, t in zip(src, tgt)]
    margins = run_layer_patches(model, t_plain, layers, patches, belief_readout(model, believer_sign(plain) > 0),
                                max_rows, progress).numpy()  # [P, L]
    nie = normalized_indirect_effect(traces.margin(annotated), margins.T, traces.margin(plain))
    return PairHeatmap(plain.claim or "", plain.get_extra("paraphrase") or "0", np.asarray(nie))


@dataclass(frozen=True, eq=False)
class PositionHeatmap:
    """Claim-mean NIE per (patched layer, last-token position), annotated -> plain."""

    annotation: str
    patch_layers: tuple[int, ...]
    positions: tuple[int, ...]  # negative offsets from the end of the question
    tokens: tuple[str, ...]  # those tokens' text (identical in every record's tail)
    pairs: tuple[PairHeatmap, ...]
    mean: ClaimMean  # [n_layers, n_positions]

    @property
    def n_claims(self) -> int:
        return self.mean.n_claims


def summarise_heatmap(annotation: str, pairs: Sequence[PairHeatmap], patch_layers: Sequence[int],
                      tokens: Sequence[str], n_boot: int = 1000, seed: int = 0) -> PositionHeatmap:
    if not pairs:
        raise NegprobeError(f"no {annotation} pair for the position heatmap")
    width = min(p.nie.shape[1] for p in pairs)
    nie = np.stack([p.nie[:, -width:] for p in pairs])
    mean = claim_mean(nie, np.array([p.claim for p in pairs]), n_boot, seed)
    return PositionHeatmap(annotation, tuple(patch_layers), tuple(range(-width, 0)), tuple(tokens)[-width:],
                           tuple(pairs), mean)


def tail_tokens(model: LoadedModel, text: str, n: int) -> list[str]:
    """The text of the last ``n`` tokens of ``text`` (figure labels)."""
    ids = model.tokenizer(text, add_special_tokens=True)["input_ids"][-n:]
    return [model.tokenizer.decode([i]) for i in ids]
