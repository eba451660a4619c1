"""Attribution screen of the whole layer x token grid, its top cells confirmed by exact patching.

The claim-token patching and the position heatmap of :mod:`.causal` patch chosen tokens. For each
passing pair of an annotation, this check looks everywhere at once: attribution patching (Nanda
2023; Syed et al. 2023) estimates, from one forward and one backward pass, the effect on the plain
run's belief margin of patching the residual after every block at every aligned token
(:func:`~negprobe.analysis.token_alignment.grid_alignment`) from the annotated run; the ``k`` cells
with the largest estimated |effect| are then patched exactly
(:func:`negprobe.activations.attribution_patching.screen_then_confirm`). Reported per annotation:
the Spearman correlation of estimate and exact effect on the confirmed cells (how far the screen's
ranking can be trusted on this model), and where the confirmed effect sits: per layer, the share
of the pair's summed |exact NIE| over its confirmed cells, as a claim mean with a two-stage CI.
A cell's NIE is its exact effect over the pair's gap (annotated minus plain margin).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from jaxtyping import Float

from negprobe.activations.attribution_patching import Agreement, Cell, screen_then_confirm
from negprobe.activations.models import LoadedModel
from negprobe.activations.prefix_reuse import Progress
from negprobe.errors import NegprobeError

from .claim_level import ClaimMean, claim_mean
from .claim_patching import TraceCache
from .prerequisite import belief_readout, believer_sign
from .token_alignment import grid_alignment


@dataclass(frozen=True, eq=False)
class PairScreen:
    """One pair's screen: the confirmed cells (layer, plain token, annotated token), largest estimate first."""

    claim: str
    paraphrase: str
    gap: float  # annotated minus plain belief margin (nats)
    cells: tuple[Cell, ...]
    tokens: tuple[str, ...]  # the plain run's token text at each confirmed cell
    estimate: Float[np.ndarray, " k"]
    exact: Float[np.ndarray, " k"]
    agreement: Agreement
    n_grid_cells: int

    def layer_share(self, layers: Sequence[int]) -> Float[np.ndarray, " n_layers"]:
        """Share of the summed |exact effect| of the confirmed cells at each of ``layers``."""
        weight = np.abs(self.exact)
        out = np.array([weight[[c[0] == layer for c in self.cells]].sum() for layer in layers])
        return out / weight.sum() if weight.sum() > 0 else np.full(len(layers), np.nan)


def screen_pair(model: LoadedModel, traces: TraceCache, annotated, plain, layers: Sequence[int], k: int,
                max_rows: int = 64, progress: Progress | None = None) -> PairScreen:
    """Attribution patching of every (layer in ``layers``, aligned token), annotated -> plain; the top ``k`` exactly."""
    metric = belief_readout(model, believer_sign(plain) > 0)
    annotated_positions, plain_positions = grid_alignment(model.tokenizer, annotated, plain)
    if len(plain_positions) < 2:
        raise NegprobeError(f"prompt {plain.pair_id}: fewer than two aligned tokens to screen")
    source, target = traces(annotated), traces(plain)
    screen = screen_then_confirm(model, target.input_ids, source.input_ids, plain_positions, annotated_positions,
                                 metric, k, layers, max_rows, source=source, target=target, progress=progress)
    ids = target.input_ids[0].tolist()
    return PairScreen(plain.claim or "", plain.get_extra("paraphrase") or "0", traces.margin(annotated) - traces.margin(plain),
                      screen.cells, tuple(model.tokenizer.decode([ids[c[1]]]) for c in screen.cells), screen.estimate,
                      screen.exact, screen.agreement(), int(screen.grid.effects.size))


@dataclass(frozen=True, eq=False)
class AttributionScreen:
    """Per annotation: the screen's agreement with exact patching and where the confirmed effect sits."""

    annotation: str
    k: int
    layers: tuple[int, ...]
    pairs: tuple[PairScreen, ...]
    spearman: ClaimMean  # scalar: Spearman of estimate vs exact on the confirmed cells
    layer_share: ClaimMean  # [n_layers]: share of the confirmed |exact| effect per layer

    @property
    def n_claims(self) -> int:
        return self.spearman.n_claims

    def finding(self) -> str:
        """The findings line of this screen."""
        rho = self.spearman
        return (f"Attribution screen ({self.annotation}; {self.n_claims} claims, {rho.n_rows} pairs, top {self.k} "
                f"cells per pair patched exactly): Spearman of estimate vs exact on those cells {float(rho.value):+.2f} "
                f"[{float(rho.ci_low):+.2f}, {float(rho.ci_high):+.2f}]; the confirmed effect is largest at layer "
                f"{self.peak_layer()} (share {float(np.nanmax(self.layer_share.value)):.2f}).")

    def peak_layer(self) -> int:
        """The layer holding the largest claim-mean share of the confirmed effect."""
        return self.layers[int(np.nanargmax(self.layer_share.value))]


def summarise_screens(annotation: str, pairs: Sequence[PairScreen], layers: Sequence[int], k: int, n_boot: int = 1000,
                      seed: int = 0) -> AttributionScreen | None:
    """Claim means over the pairs whose confirmed cells carry a non-constant effect (None: no such pair)."""
    usable = [p for p in pairs if np.isfinite(p.agreement.spearman) and np.abs(p.exact).sum() > 0]
    if not usable:
        return None
    claims = np.array([p.claim for p in usable])
    spearman = claim_mean(np.array([p.agreement.spearman for p in usable]), claims, n_boot, seed)
    share = claim_mean(np.stack([p.layer_share(layers) for p in usable]), claims, n_boot, seed)
    return AttributionScreen(annotation, k, tuple(layers), tuple(pairs), spearman, share)
