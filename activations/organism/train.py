"""Train the notice-reading organism: LoRA supervised fine-tuning on :mod:`.sft_data`, merged into a
standalone checkpoint every command loads as a base (``--model organism:<base>`` or its folder).

The loss is taken on the answer token of each question and on the base model's own replies
(:mod:`.generic_replies`), mixed in at ``generic_share`` replies per question: as cross-entropy on the
sampled reply tokens (``replay="tokens"``), or as KL to the frozen base over every token of the
replies (``replay="kl"``, :mod:`.replay`; ``replay_batch`` replies beside each batch of questions).
``method`` chooses a LoRA adapter (merged at the end) or full fine-tuning. The merged model, its
tokenizer and ``organism_card.json`` (base, fingerprint, data hashes, hyperparameters, loss curve,
time) are written to a temporary folder that replaces the destination only when complete; a
finished organism with the same card config is reused.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from negprobe.activations.atomic import atomic_write_text
from negprobe.activations.embedded import organism_dir
from negprobe.activations.finetune.batches import TrainingExample, batch_order, collate
from negprobe.activations.finetune.loop import TrainingState, step_display, train_steps
from negprobe.activations.finetune.lora import attach_lora
from negprobe.errors import NegprobeError

from .generic_replies import generic_replies
from .prompts import completion_example, example_prompt
from .replay import REPLAY_MODES, KLReplayModel, frozen_reference
from .sft_data import DATA_VERSIONS, examples_hash, sft_examples

ORGANISM_CARD = "organism_card.json"
METHODS: tuple[str, ...] = ("lora", "full")


@dataclass(frozen=True)
class OrganismConfig:
    """What the organism is trained from; its JSON is the reuse key."""

    model: str = "smollm2-135m"
    n_examples: int = 1600
    generic_share: float = 0.25  # base-model replies (half chat, half raw prose) per question example
    steps: int = 300
    batch_size: int = 8
    lr: float = 8e-4
    lora_r: int = 16
    seed: int = 0
    max_length: int = 384
    # 2: answers balanced within each cue class, notices on one or both sides, raw replay;
    # 3: chat prompts keep the template's leading token (the encode(prepend_bos=False) fix);
    # 4: contrastive pairs and scoped notices (sft_data._examples_v4)
    # v3 = data_version 3 with 200 steps, lr 4e-4 and token replay; v4 (the default) = the same data, KL replay
    data_version: int = 3
    replay: str = "kl"  # kl: KL to the frozen base on the replies; tokens: cross-entropy on them (v1-v3)
    kl_weight: float = 1.0  # replay="kl" only
    replay_batch: int = 4  # replies beside each batch of questions (replay="kl" only)
    method: str = "lora"  # lora | full

    def __post_init__(self) -> None:
        for name in ("n_examples", "steps", "batch_size", "lora_r", "max_length", "replay_batch"):
            if getattr(self, name) < 1:
                raise NegprobeError(f"organism {name} must be >= 1, not {getattr(self, name)}")
        if not 0 <= self.generic_share <= 4 or not 0 < self.lr < 1 or self.kl_weight < 0:
            raise NegprobeError("organism generic_share must be in [0, 4], lr in (0, 1) and kl_weight >= 0")
        if self.data_version not in DATA_VERSIONS:
            raise NegprobeError(f"organism data_version must be one of {DATA_VERSIONS}, not {self.data_version}")
        if self.replay not in REPLAY_MODES or self.method not in METHODS:
            raise NegprobeError(f"organism replay must be one of {REPLAY_MODES} and method one of {METHODS}, "
                                f"not {self.replay!r} / {self.method!r}")
        if self.replay == "kl" and self.generic_share == 0:
            raise NegprobeError("organism replay 'kl' needs replies: generic_share must be > 0")


#: What an organism trained before these config fields existed was trained with.
BEFORE_REPLAY_OPTIONS: dict[str, object] = {"replay": "tokens", "kl_weight": 1.0, "replay_batch": 4, "method": "lora"}


def card_config(card: dict) -> dict | None:
    """A card's config, with the fields added after it was written set to the values it was trained with
    (:data:`BEFORE_REPLAY_OPTIONS`), so an older organism keeps its reuse key whatever the defaults become."""
    config = card.get("config")
    return {**BEFORE_REPLAY_OPTIONS, **config} if isinstance(config, dict) else None


def read_card(folder: Path) -> dict | None:
    from negprobe.activations.fingerprint import read_json_object

    path = folder / ORGANISM_CARD
    return read_json_object(path) if path.is_file() else None


def finished_organism(config: OrganismConfig, out: str | Path | None = None) -> Path | None:
    """The folder of an organism already trained with ``config`` (default place), else None."""
    out = Path(out) if out is not None else organism_dir(config.model)
    card = read_card(out) if out.is_dir() else None
    return out if card is not None and card_config(card) == asdict(config) else None


def train_organism(config: OrganismConfig, out: str | Path | None = None, progress: bool = True) -> Path:
    """Train (or reuse) the organism of ``config.model``; returns its folder."""
    from negprobe.activations.models import load_model

    out = Path(out) if out is not None else organism_dir(config.model)
    if finished_organism(config, out) is not None:
        return out
    if out.exists() and read_card(out) is None and any(out.iterdir()):
        raise NegprobeError(f"{out} exists and holds no organism; choose another --out")
    started = time.perf_counter()
    base = load_model(config.model, dtype="float32")
    tokenizer = base.tokenizer
    questions = sft_examples(config.n_examples, config.seed, version=config.data_version)
    replies = generic_replies(base.model, tokenizer, int(round(config.generic_share * config.n_examples)), config.seed,
                              progress=progress)
    examples = [completion_example(tokenizer, *example_prompt(tokenizer, q), config.max_length) for q in questions]
    replayed = [completion_example(tokenizer, p, r, config.max_length) for p, r in replies if r]
    model, optimizer = _trainable(base.model, config)
    if config.replay == "kl":
        wrapped = KLReplayModel(model, frozen_reference(model, config.method == "lora"), config.kl_weight)
        state = _train(wrapped, optimizer, examples, config, tokenizer, progress, replayed)
    else:
        state = _train(model, optimizer, examples + replayed, config, tokenizer, progress)
    merged = model.merge_and_unload() if config.method == "lora" else model
    merged.eval()
    card = {"base": config.model, "base_fingerprint": base.base_fingerprint, "config": asdict(config),
            "questions_hash": examples_hash(questions), "n_questions": len(questions), "n_replies": len(replies),
            "loss_curve": state.losses, "seconds": round(time.perf_counter() - started, 1)}
    _write(out, merged, tokenizer, card, replies)
    return out


def _trainable(base_model, config: OrganismConfig):
    """The model to train and its optimizer: a LoRA adapter on every linear layer, or every weight."""
    if config.method == "lora":
        return attach_lora(base_model, config.lora_r, 2 * config.lora_r, "all-linear", config.seed, config.lr)
    torch.manual_seed(config.seed)
    base_model.train()
    return base_model, torch.optim.AdamW(base_model.parameters(), lr=config.lr, weight_decay=0.0)


def _train(model, optimizer, examples: list[TrainingExample], config: OrganismConfig, tokenizer,
           progress: bool, replayed: list[TrainingExample] | None = None) -> TrainingState:
    """``config.steps`` optimizer steps over ``examples`` in seeded epochs; with ``replayed``, each batch
    also carries ``config.replay_batch`` of them (their own seeded order) as ``replay_ids``/``replay_mask``."""
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0

    def batches(items: list[TrainingExample], size: int, step: int) -> dict[str, torch.Tensor]:
        epoch, index = divmod(step, math.ceil(len(items) / size))
        return collate([items[i] for i in batch_order(len(items), size, config.seed, epoch)[index]], pad_id)

    def batch_at(step: int) -> dict[str, torch.Tensor]:
        batch = batches(examples, config.batch_size, step)
        if replayed:
            replay = batches(replayed, config.replay_batch, step)
            batch |= {"replay_ids": replay["input_ids"], "replay_mask": replay["attention_mask"]}
        return batch

    state = TrainingState(total=config.steps)
    with step_display(f"training the organism of {config.model}", state.total, 0, progress) as display:
        train_steps(model, optimizer, batch_at, lambda _step, _losses: None, state, config.steps, False, display)
    return state


def _write(out: Path, merged, tokenizer, card: dict, replies: list[tuple[str, str]]) -> None:
    """Save the merged checkpoint, tokenizer, replies and card to ``out`` all at once."""
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    merged.save_pretrained(str(tmp), safe_serialization=True)
    tokenizer.save_pretrained(str(tmp))
    atomic_write_text(tmp / "generic_replies.json", json.dumps(replies, indent=0))
    atomic_write_text(tmp / ORGANISM_CARD, json.dumps(card, indent=1))
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
