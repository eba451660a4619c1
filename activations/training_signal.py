"""The learning signal of the claim tokens: per-module gradients of matched documents.

Negation Neglect (Mayne et al. 2026) happens in fine-tuning: a model trained on documents that
flag a claim as false comes to believe it. This module measures what one training step takes
from a document's *claim tokens* with and without the annotation: for the matched triple of
:mod:`negprobe.activations.finetune.matched` (plain / annotated / neutral), the gradient of the
next-token loss on the claim sentence's tokens (mean nats per token) with respect to the weight
of every module LoRA trains (:func:`target_weights`), and the Gram matrix of those gradients per
module (dot products of plain, annotated and neutral; cosines are read from it in
:mod:`negprobe.analysis.training_signal`). Gradient similarity as a view of what an update learns
follows the gradient-alignment analyses of Yu et al. 2020 (PCGrad) and Pruthi et al. 2020 (TracIn).

Gradients are taken with respect to the **base weights** ``W`` of the target modules (no PEFT):
``dL/dW`` is the first-order update of full fine-tuning, and LoRA's first update of ``B`` (``B = 0``,
``A`` random; Hu et al. 2021) is ``dL/dW`` times a fixed random ``A^T`` for every document alike, so
cosines between documents carry over up to the random projection (Johnson-Lindenstrauss).
The loss covers only the claim sentence's tokens (located by character span -> token offsets,
:func:`negprobe.activations.positions.claim_token_range`): annotation and every other token are out
of the loss, as with ``--mask-annotations``. ``sentences="first"`` (default) takes the document's
first claim sentence and truncates the input after it (a causal model's later tokens cannot
change its loss), ``"all"`` every claim sentence.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from jaxtyping import Bool, Float, Int
from torch import Tensor, nn

from negprobe.activations.finetune.matched import DOCUMENT_KINDS, MatchedDocuments, matched_documents
from negprobe.activations.finetune.render import Document
from negprobe.activations.models import LoadedModel, decoder_layers, unwrap
from negprobe.activations.positions import claim_token_range
from negprobe.activations.prefix_reuse import supports_logits_to_keep
from negprobe.activations.progress import progress_bar
from negprobe.errors import NegprobeError

SENTENCE_CHOICES: tuple[str, ...] = ("first", "all")


@dataclass(frozen=True, eq=False)
class ClaimTokens:
    """A document's token ids (cut after its last claim token when truncated) and which are loss targets."""

    input_ids: Int[Tensor, " seq"]
    targets: Bool[Tensor, " seq"]  # token i is predicted (from position i - 1) and counted in the loss
    n_document_tokens: int  # tokens of the whole document, before any cut

    @property
    def n_targets(self) -> int:
        return int(self.targets.sum())


@dataclass(frozen=True, eq=False)
class PairSignal:
    """One matched triple's gradients: ``gram[a, b, layer, module]`` = <g_a, g_b> of the claim-token loss
    gradients of documents ``a`` and ``b`` (:data:`~.finetune.matched.DOCUMENT_KINDS` order) for one
    target weight; ``losses``: mean nats per claim token of each document."""

    claim: str
    index: int
    gram: Float[np.ndarray, "3 3 n_layers n_modules"]
    losses: Float[np.ndarray, " 3"]
    n_claim_tokens: Int[np.ndarray, " 3"]
    n_tokens: Int[np.ndarray, " 3"]


@dataclass(frozen=True, eq=False)
class TrainingSignal:
    """Every pair's :class:`PairSignal`, stacked: row ``p`` is document ``indices[p]`` of ``claims[p]``."""

    model: str
    condition: str
    sentences: str
    seed: int
    modules: tuple[str, ...]  # target module names inside a decoder layer, e.g. "self_attn.q_proj"
    claims: tuple[str, ...]
    indices: tuple[int, ...]
    gram: Float[np.ndarray, "n_pairs 3 3 n_layers n_modules"]
    losses: Float[np.ndarray, "n_pairs 3"]
    n_claim_tokens: Int[np.ndarray, "n_pairs 3"]
    n_tokens: Int[np.ndarray, "n_pairs 3"]
    seconds: float

    @property
    def kinds(self) -> tuple[str, ...]:
        return DOCUMENT_KINDS

    @property
    def n_layers(self) -> int:
        return int(self.gram.shape[3])


def target_weights(model: nn.Module) -> tuple[tuple[str, ...], list[list[nn.Parameter]]]:
    """The module names and, per decoder layer, the weights LoRA's ``target_modules="all-linear"`` (the
    fine-tuning default) adapts: every linear (or GPT-2 ``Conv1D``) module inside a decoder block --
    PEFT's all-linear leaves out only the output head, which sits outside the blocks."""
    per_layer: list[list[nn.Parameter]] = []
    names: tuple[str, ...] = ()
    for k, block in enumerate(decoder_layers(model)):
        found: list[tuple[str, nn.Parameter]] = []
        for n, m in block.named_modules():
            weight = getattr(m, "weight", None)
            if type(m).__name__ in ("Linear", "Conv1D") and isinstance(weight, nn.Parameter):
                found.append((n, weight))
        if k == 0:
            names = tuple(n for n, _ in found)
        elif tuple(n for n, _ in found) != names:
            raise NegprobeError(f"decoder layer {k} has other linear modules than layer 0; cannot align them")
        per_layer.append([w for _, w in found])
    if not names:
        raise NegprobeError("the model's decoder layers hold no linear module to take gradients of")
    return names, per_layer


def claim_tokens(tokenizer, doc: Document, sentences: str = "first", truncate: bool = True) -> ClaimTokens:
    """Token ids of ``doc`` and its loss targets: the tokens overlapping its claim sentence(s)."""
    if sentences not in SENTENCE_CHOICES:
        raise NegprobeError(f"sentences must be one of {', '.join(SENTENCE_CHOICES)}, got {sentences!r}")
    if not doc.claim_spans:
        raise NegprobeError(f"document {doc.source!r} of {doc.claim!r} has no claim sentence span")
    enc = tokenizer(doc.text, add_special_tokens=True, return_offsets_mapping=True)
    ids = torch.tensor(enc["input_ids"], dtype=torch.long)
    targets = torch.zeros(len(ids), dtype=torch.bool)
    for span in doc.claim_spans[:1] if sentences == "first" else doc.claim_spans:
        first, last = claim_token_range(enc["offset_mapping"], span)
        targets[first:last + 1] = True
    targets[0] = False  # the first token is never predicted
    if not targets.any():
        raise NegprobeError(f"the claim sentence of {doc.claim!r} covers no predictable token")
    cut = int(targets.nonzero().max()) + 1 if truncate else len(ids)
    return ClaimTokens(ids[:cut], targets[:cut], len(ids))


@contextmanager
def _grad_only(model: nn.Module, weights: Sequence[nn.Parameter]) -> Iterator[None]:
    """Gradients for ``weights`` only, in eval mode (no dropout); the model is restored afterwards."""
    saved = [(p, p.requires_grad) for p in model.parameters()]
    training = model.training
    try:
        for p, _ in saved:
            p.requires_grad_(False)
        for w in weights:
            w.requires_grad_(True)
        model.eval()
        yield
    finally:
        for p, flag in saved:
            p.requires_grad_(flag)
        model.train(training)


def claim_loss_gradient(model: LoadedModel, tokens: ClaimTokens, weights: Sequence[nn.Parameter]
                        ) -> tuple[float, tuple[Tensor, ...]]:
    """Mean next-token loss (nats) on the target tokens and its gradient w.r.t. each of ``weights``
    (call inside :func:`_grad_only`). Logits are computed at the predicting positions only where the
    model supports ``logits_to_keep``."""
    net = unwrap(model.model)
    ids = tokens.input_ids.to(model.device)[None]
    predicting = (tokens.targets.nonzero()[:, 0] - 1).to(model.device)  # position t - 1 predicts token t
    if supports_logits_to_keep(model):
        logits = net(input_ids=ids, logits_to_keep=predicting, use_cache=False).logits[0]
    else:
        logits = net(input_ids=ids, use_cache=False).logits[0, predicting]
    loss = torch.nn.functional.cross_entropy(logits.float(), ids[0, predicting + 1])
    grads = torch.autograd.grad(loss, list(weights))
    return float(loss.detach()), grads


def _gram(grads: Sequence[Sequence[Tensor]], n_layers: int) -> np.ndarray:
    """``[n_docs, n_docs, n_layers, n_modules]`` dot products of the documents' per-module gradients, one
    module at a time (a float32 matrix product: memory stays near the gradients themselves)."""
    n, n_weights = len(grads), len(grads[0])
    out = np.zeros((n, n, n_weights))
    for i in range(n_weights):
        stacked = torch.stack([doc[i].detach().reshape(-1) for doc in grads])  # [n_docs, numel]
        out[:, :, i] = (stacked @ stacked.T).double().cpu().numpy()
    return out.reshape(n, n, n_layers, n_weights // n_layers)


def pair_signal(model: LoadedModel, matched: MatchedDocuments, sentences: str = "first",
                truncate: bool = True) -> PairSignal:
    """The claim-token loss of the plain, annotated and neutral document and the Gram matrix of its gradients."""
    _, per_layer = target_weights(model.model)
    weights = [w for layer in per_layer for w in layer]
    tokens = [claim_tokens(model.tokenizer, matched.kind(k), sentences, truncate) for k in DOCUMENT_KINDS]
    losses, grads = [], []
    with _grad_only(model.model, weights):
        for t in tokens:
            loss, g = claim_loss_gradient(model, t, weights)
            losses.append(loss)
            grads.append(g)
    return PairSignal(matched.claim, matched.index, _gram(grads, len(per_layer)), np.array(losses),
                      np.array([t.n_targets for t in tokens]), np.array([t.n_document_tokens for t in tokens]))


def training_signal(model: LoadedModel, claims: Sequence[str], condition: str, n_pairs: int, seed: int = 0,
                    sentences: str = "first", progress: bool = True) -> TrainingSignal:
    """:func:`pair_signal` for ``n_pairs`` matched documents of every claim (all documents are built and
    checked before the first gradient)."""
    if not claims:
        raise NegprobeError("no claims given")
    if len(set(claims)) != len(claims):
        raise NegprobeError(f"claims repeat: {', '.join(claims)}")
    triples = [m for c in claims for m in matched_documents(c, condition, n_pairs, seed)]
    names, _ = target_weights(model.model)
    start = time.perf_counter()
    pairs = []
    with progress_bar(f"training signal ({condition})", len(triples), progress) as advance:
        for m in triples:
            pairs.append(pair_signal(model, m, sentences))
            advance(1)
    return TrainingSignal(
        model=model.name, condition=condition, sentences=sentences, seed=seed, modules=names,
        claims=tuple(p.claim for p in pairs), indices=tuple(p.index for p in pairs),
        gram=np.stack([p.gram for p in pairs]), losses=np.stack([p.losses for p in pairs]),
        n_claim_tokens=np.stack([p.n_claim_tokens for p in pairs]), n_tokens=np.stack([p.n_tokens for p in pairs]),
        seconds=time.perf_counter() - start,
    )
