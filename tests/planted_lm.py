"""A hand-built causal LM whose causal structure is known, and in-context records shaped like the dataset's.

The model (word-level tiny tokenizer, residual width 64, ``n_layers`` blocks) plants this route:

- embedding: annotation words ("notice", "fabricated", "not") set dim ``FLAG``; claim words
  (ed, sheeran, won, gold) set ``IS_CLAIM``; filler words carry a value in ``WORD`` (paraphrase
  noise); every token has ``BIAS`` = 1;
- block ``read_at`` (default 0): every claim token copies "an annotation word came before me"
  (a running max of ``FLAG``) into ``CARRY``; with ``everywhere=True`` every token does; it also
  sums ``WORD`` over the prefix into ``NOISE``;
- block ``handoff`` (K): every position takes the running max of ``CARRY`` into ``OUT``;
- all other blocks are the identity; the head reads the last position:
  ``margin = base + NOISE + effect * OUT`` as logit(Yes) - logit(No).

Blocks see earlier positions through ``cache.update`` when replayed on a suffix (as attention
layers do), so the suffix replay of :mod:`negprobe.activations.block_replay` applies;
``cache_aware=False`` makes them ignore the cache, which that replay's check must catch.

So patching the claim tokens annotated -> plain after block ``l`` moves the margin by ``effect``
for ``read_at <= l < K`` and not at all from ``K`` on: the hand-off layer is ``K``. Non-claim
tokens never carry the annotation, so the random-token control is exactly 0 (unless ``everywhere``).
Neutral words set nothing, so the neutral control is exactly 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import torch
from torch import nn

from negprobe.activations.models import LoadedModel
from tests.tiny_models import tiny_tokenizer

D = 64
FLAG, CARRY, OUT, IS_CLAIM, BIAS, NOISE, WORD = range(7)
CLAIM_WORDS = ("ed", "sheeran", "won", "gold")
FLAG_WORDS = ("notice", "fabricated", "not")
WORD_VALUES = {"dog": 0.3, "cat": -0.2, "paris": 0.15, "france": -0.1, "city": 0.05, "capital": -0.25, "queen": 0.2}


def _cummax(x: torch.Tensor) -> torch.Tensor:
    return torch.cummax(x, dim=1).values


class _Block(nn.Module):
    """Mixes positions like attention does: through ``cache.update`` when given a cache (unless not ``cache_aware``)."""

    def __init__(self, kind: str, layer_idx: int, everywhere: bool = False, cache_aware: bool = True):
        super().__init__()
        self.kind, self.layer_idx, self.everywhere, self.cache_aware = kind, layer_idx, everywhere, cache_aware

    def forward(self, hidden_states, attention_mask=None, position_ids=None, cache=None, **kwargs):
        full = hidden_states  # every position this block's outputs may depend on
        if cache is not None and self.cache_aware:
            full = cache.update(hidden_states[:, None], hidden_states[:, None], self.layer_idx)[0][:, 0]
        n = hidden_states.shape[1]
        h = hidden_states.clone()
        if self.kind == "read":
            seen = _cummax(full[..., FLAG])[:, -n:]
            gate = torch.ones_like(seen) if self.everywhere else hidden_states[..., IS_CLAIM]
            h[..., CARRY] = torch.maximum(hidden_states[..., CARRY], seen * gate)
            h[..., NOISE] = torch.cumsum(full[..., WORD], dim=1)[:, -n:]
        elif self.kind == "handoff":
            h[..., OUT] = _cummax(full[..., CARRY])[:, -n:]
        return h


class _Inner(nn.Module):
    def __init__(self, blocks: list[nn.Module], vocab: int):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, D)
        self.layers = nn.ModuleList(blocks)
        self.norm = nn.Identity()


class PlantedLM(nn.Module):
    """See the module docstring. Takes the HF call signature the interventions use."""

    def __init__(self, tokenizer, n_layers: int = 6, handoff: int = 3, effect: float = -3.0, base: float = 0.5,
                 everywhere: bool = False, read_at: int = 0, cache_aware: bool = True):
        super().__init__()
        vocab = tokenizer.get_vocab()
        kinds = ["id"] * n_layers
        kinds[read_at], kinds[handoff] = "read", "handoff"
        blocks: list[nn.Module] = [_Block(kind, i, everywhere, cache_aware) for i, kind in enumerate(kinds)]
        self.model = _Inner(blocks, len(vocab) + 8)
        self.lm_head = nn.Linear(D, len(vocab) + 8, bias=False)
        self.config = SimpleNamespace(max_position_embeddings=512, final_logit_softcapping=None)
        with torch.no_grad():
            emb = torch.zeros(len(vocab) + 8, D)
            emb[:, BIAS] = 1.0
            for word, i in vocab.items():
                emb[i, FLAG] = float(word in FLAG_WORDS)
                emb[i, IS_CLAIM] = float(word in CLAIM_WORDS)
                emb[i, WORD] = WORD_VALUES.get(word, 0.0)
            self.model.embed_tokens.weight.copy_(emb)
            readout = torch.zeros(D)
            readout[BIAS], readout[NOISE], readout[OUT] = base, 1.0, effect
            head = torch.zeros(len(vocab) + 8, D)
            for word in ("Yes", "yes"):
                head[vocab[word]] = readout / 2
            for word in ("No", "no"):
                head[vocab[word]] = -readout / 2
            self.lm_head.weight.copy_(head)

    def get_output_embeddings(self):
        return self.lm_head

    def forward(self, input_ids, attention_mask=None, position_ids=None, use_cache=False, logits_to_keep: int = 0):
        h = self.model.embed_tokens(input_ids)
        for block in self.model.layers:
            h = block(h, attention_mask=attention_mask, position_ids=position_ids)
        h = self.model.norm(h)
        if logits_to_keep:
            h = h[:, -logits_to_keep:]
        return SimpleNamespace(logits=self.lm_head(h))


def planted_model(**kwargs) -> LoadedModel:
    tokenizer = tiny_tokenizer()
    net = PlantedLM(tokenizer, **kwargs).eval()
    return LoadedModel(net, tokenizer, "planted", "planted", len(net.model.layers), D, "planted", "planted")


# --------------------------------------------------------------------------- records

FILLERS = (
    ("the dog is in paris .", "the cat is in france ."),
    ("the cat is in the city .", "a dog is in paris ."),
    ("the queen is in the capital .", "the dog is in france ."),
    ("a cat is in the capital of france .", "the queen is in paris ."),
)
PREFIX = {"notice": "notice this document is fabricated .", "neutral": "a queen is in this city ."}
SUFFIX = {"notice": "notice this document is fabricated .", "neutral": "the queen is in the city ."}
CLAIM = "ed sheeran won gold ."
LOCAL = "ed sheeran not won gold ."
QUESTION = "did ed sheeran won gold ?"


@dataclass(frozen=True)
class ICRecord:
    """The fields of a ``PromptRecord`` the causal checks read (the neutral conditions are not in the
    record vocabulary of this branch yet, so the tests use this stand-in)."""

    text: str
    condition: str
    claim: str
    pair_id: str
    claim_span: tuple[int, int]
    extra: tuple[tuple[str, str], ...]

    def get_extra(self, key: str, default=None):
        return dict(self.extra).get(key, default)


@dataclass
class _Builder:
    text: str = ""

    def add(self, piece: str, shared: list | None = None) -> tuple[int, int]:
        start = len(self.text)
        self.text += piece
        if shared is not None:
            shared.append((start, len(self.text)))
        return start, len(self.text)


def record(claim: str, paraphrase: int, kind: str, probe: str = "question", shared_spans: bool = True) -> ICRecord:
    """One in-context record of the dataset's shape (``kind``: plain, notice, neutral, dense, dense_neutral, local)."""
    before, after = FILLERS[paraphrase % len(FILLERS)]
    b, shared = _Builder(), []
    outer = {"notice": "notice", "neutral": "neutral"}.get(kind)
    inner = {"dense": "notice", "dense_neutral": "neutral"}.get(kind)
    if outer:
        b.add(PREFIX[outer] + "\n\n")
    b.add(before + " ", shared)
    if inner:
        b.add(PREFIX[inner] + " ")
    doc = b.add(LOCAL if kind == "local" else CLAIM)
    if inner:
        b.add(" " + SUFFIX[inner])
    b.add(" " + after, shared)
    if outer:
        b.add("\n\n" + SUFFIX[outer])
    b.add("\n\nQuestion: ", shared)
    span = b.add(QUESTION if probe == "question" else CLAIM)
    extra = [("paraphrase", str(paraphrase)), ("probe", probe), ("doc_claim_span", f"{doc[0]}:{doc[1]}")]
    if probe == "question":
        b.add("\nAnswer:", shared)
        extra.append(("believer_answer", " Yes"))
    if kind != "plain" and shared_spans:
        extra.append(("shared_spans", ";".join(f"{s}:{e}" for s, e in shared)))
    return ICRecord(b.text, f"in_context_{kind}", claim, f"in_context:{claim}:{paraphrase:02d}:{probe}", span,
                    tuple(extra))


def questions(claims=("ed_sheeran", "ed_again"), paraphrases: int = 4,
              kinds=("plain", "notice", "neutral", "dense", "dense_neutral", "local")) -> list[ICRecord]:
    return [record(c, p, k) for c in claims for p in range(paraphrases) for k in kinds]


class FakeReader:
    """A truth reader whose steering vector points along ``OUT`` (what the head reads)."""

    label = "planted"

    def covers(self, claim: str) -> bool:
        return True

    def steering_vector(self, claim: str, layer_slot: int) -> torch.Tensor:
        v = torch.zeros(D)
        v[OUT] = 0.5
        return v
