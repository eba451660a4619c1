"""LoRA fine-tuning on claim documents (synthetic document fine-tuning, Mayne et al. 2026).

``finetune(FinetuneConfig(...))`` trains a PEFT LoRA adapter on one claim's documents in one
negation condition, CPU-friendly, on a GPU with ``device`` (optional bf16 autocast on the model's
device; the step loop and its progress line: :mod:`.loop`), with optional mixing of generic text to limit forgetting (:mod:`.generic`:
pretraining-style and instruction text, as the paper's 1:1:1 mix) and optional loss masks on
annotation text and on ``<DOCTAG>``; ``layers`` ("a-b") puts LoRA only on a window of decoder
blocks (:mod:`.layer_window`). Checkpoints
(safetensors + JSON, no pickle: :mod:`.checkpoint`) are written atomically to
``<out>/.negprobe-checkpoint/`` and deleted once the adapter is written (``keep_checkpoint`` keeps
them); an interrupted run resumes from the last one and ends at the same adapter as an
uninterrupted run (batches are a pure function of seed, epoch and step). A folder holding another
run is refused (:mod:`.run_folder`); ``overwrite`` starts over.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from negprobe.activations.atomic import atomic_write_text
from negprobe.activations.config import validate_config
from negprobe.errors import NegprobeError

from .batches import TrainingExample, batch_order, collate
from .checkpoint import STATE_FILE, load_state, restore, save_state
from .generic import GENERIC_STYLES, generic_documents
from .layer_window import parse_window, window_targets
from .loop import StepReport, TrainingState, step_display, train_steps
from .lora import attach_lora
from .run_folder import (
    CHECKPOINT_DIR,
    TRAINING_CARD,
    Existing,
    check_negprobe_folder,
    check_same_run,
    check_writable,
    clear_folder,
    folder_lock,
    inspect_folder,
    record_run,
    run_identity,
    start_folder,
)


@dataclass
class FinetuneConfig:
    model: str = "smollm2-135m"
    claim: str = "ed_sheeran"
    condition: str = "positive"
    out: str = "runs/finetune"
    corpus: str = "synthetic"  # or "release:<path to the Negation Neglect release root>"
    n_docs: int = 50
    seed: int = 0
    epochs: int = 4
    max_steps: int | None = None
    batch_size: int = 8
    max_length: int = 512  # tokens; padding is per batch, so only long documents cost more (dense reaches ~380)
    lr: float = 5e-4
    lora_r: int = 16
    lora_alpha: int | None = None  # None: 2 x lora_r (LoRA scale 2 at every rank)
    target_modules: str = "all-linear"
    layers: str | None = None  # "a-b": LoRA only on target modules of decoder blocks a..b (inclusive; .layer_window)
    bf16: bool = False
    doctag: bool = False
    mask_annotations: bool = False  # no loss on notice / annotation tokens
    mask_doctag: bool = False  # no loss on the <DOCTAG> marker
    mix_generic: float = 0.0  # generic documents added per claim document (2.0 with "both": the paper's 1:1:1)
    generic_style: str = "pretraining"  # pretraining | instruction | both (see .generic)
    mix_organism: float = 0.0  # organism questions per claim document (continued training of an organism)
    corrected_share: float = 0.3  # share of `corrected` documents whose corrections state the truth
    checkpoint_every: int = 5
    keep_checkpoint: bool = False  # keep <out>/.negprobe-checkpoint/ after the run finishes
    overwrite: bool = False  # remove what negprobe wrote in <out> and start over
    device: str | None = None  # where to train (cpu, cuda, cuda:0); default $NEGPROBE_DEVICE_MAP, else cpu
    device_map: str | None = None  # or shard the base over devices (auto, a JSON map); neither is the run's identity

    @property
    def effective_lora_alpha(self) -> int:
        return self.lora_alpha if self.lora_alpha is not None else 2 * self.lora_r

    def __post_init__(self) -> None:
        validate_config(self)  # types of every field: a wrong type fails before any model loads
        if self.layers is not None:
            parse_window(self.layers)  # the window's form; its range is checked once the model is known
        from ..models import parse_device_map

        parse_device_map(self.device_map)
        if self.device is not None and self.device_map is not None:
            raise NegprobeError("--device and --device-map: give one of them")

    def hyperparameters(self) -> dict:
        placement = ("out", "model", "overwrite", "keep_checkpoint", "device", "device_map")  # not the run's identity
        params = {k: v for k, v in asdict(self).items() if k not in placement}
        if not self.mix_organism:  # runs from before the option keep their identity
            params.pop("mix_organism")
        return {**params, "lora_alpha": self.effective_lora_alpha}


def load_corpus(config: FinetuneConfig):
    from .documents import generate_documents, release_documents

    if config.generic_style not in GENERIC_STYLES:
        raise NegprobeError(f"unknown generic style {config.generic_style!r}; known: {', '.join(GENERIC_STYLES)}")
    if config.corpus == "synthetic":
        docs = generate_documents(config.claim, config.condition, n=config.n_docs, seed=config.seed,
                                  doctag=config.doctag, corrected_share=config.corrected_share)
    elif config.corpus.startswith("release:"):
        docs = release_documents(config.corpus.split(":", 1)[1], config.condition, config.claim)  # text as released
    else:
        raise NegprobeError(f"unknown corpus {config.corpus!r}: use 'synthetic' or 'release:<path>'")
    if not docs:
        raise NegprobeError(f"the corpus for claim {config.claim!r}, condition {config.condition!r} is empty")
    return docs


def masked_spans(doc, config: FinetuneConfig) -> list[tuple[int, int]]:
    spans = []
    if config.mask_annotations:
        spans += list(getattr(doc, "annotation_spans", ()) or ())
    if config.mask_doctag and getattr(doc, "doctag_span", None):
        spans.append(doc.doctag_span)
    return spans


def tokenize_example(tokenizer, text: str, spans: Sequence[tuple[int, int]], max_length: int) -> TrainingExample:
    """Token ids and labels; a token whose characters overlap a masked span gets label -100."""
    enc = tokenizer(text, add_special_tokens=True, truncation=True, max_length=max_length,
                    return_offsets_mapping=bool(spans))
    ids = list(enc["input_ids"])
    labels = list(ids)
    if spans:
        for i, (s, e) in enumerate(enc["offset_mapping"]):
            if e > s and any(s < end and e > start for start, end in spans):
                labels[i] = -100
    if tokenizer.bos_token_id is not None and ids and ids[0] == tokenizer.bos_token_id:
        labels[0] = -100
    return TrainingExample(ids, labels)


def _save_checkpoint(peft_model, optimizer, step: int, losses: list[float], out: Path) -> None:
    from peft import get_peft_model_state_dict

    save_state(out / CHECKPOINT_DIR, get_peft_model_state_dict(peft_model), optimizer, step, losses)


def finetune(config: FinetuneConfig, progress: bool = True,
             on_step: Callable[[StepReport], None] | None = None) -> Path:
    """Train the adapter; returns the output folder (adapter + training card).

    Each step's :class:`~.loop.StepReport` (step, loss, tokens/s, ETA) is shown when ``progress``
    and handed to ``on_step`` when given.

    Everything is checked before the model loads and nothing is created before the checks pass but
    ``<out>.lock``, held beside the folder for the whole run (a second run on it waits) and removed after.
    """
    from .documents import corpus_hash

    out = Path(config.out)
    check_writable(out)
    docs = load_corpus(config)
    check_negprobe_folder(out)  # a foreign folder is refused before even the lock is created beside it
    with folder_lock(out, lambda line: print(line, file=sys.stderr)):
        wanted = run_identity(config.hyperparameters(), corpus_hash(docs))
        existing = _existing_run(out, wanted, config.overwrite)
        if existing.kind == "finished" and existing.base_name == config.model:
            return _already_done(out, existing)
        return _locked_finetune(config, (progress, on_step), out, docs, (wanted, existing))


def _locked_finetune(config: FinetuneConfig, shown: tuple[bool, Callable[[StepReport], None] | None], out: Path, docs,
                     found: tuple[dict, Existing]) -> Path:
    """The run itself, under the folder lock: model, LoRA, folder, resume, train, adapter and card."""
    from ..models import load_model, parse_device_map, write_adapter_card

    wanted, existing = found
    base = load_model(config.model, dtype="float32", device=config.device,
                      device_map=parse_device_map(config.device_map))
    wanted = {**wanted, "base_fingerprint": base.known_as(existing.identity.get("base_fingerprint"))}
    check_same_run(out, existing, wanted)
    if existing.kind == "finished":  # the same base under another name or path
        return _already_done(out, existing)
    tokenizer = base.tokenizer
    examples = _examples(config, tokenizer, docs)
    model, optimizer = _lora(base.model, config)  # a bad target_modules fails here, before the folder is touched
    if config.overwrite:  # only now that the inputs and the model are known good
        clear_folder(out)
    start_folder(out)
    steps_per_epoch = math.ceil(len(examples) / config.batch_size)
    state = _resume(model, optimizer, out, TrainingState(total=config.max_steps or steps_per_epoch * config.epochs))
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    started, start_step = time.perf_counter(), state.step

    def batch_at(step: int) -> dict[str, torch.Tensor]:
        epoch, index = divmod(step, steps_per_epoch)
        rows = batch_order(len(examples), config.batch_size, config.seed, epoch)[index]
        return collate([examples[i] for i in rows], pad_id)

    def save(step: int, losses: list[float]) -> None:
        record_run(out, wanted)  # with the first checkpoint: a run that fails before one leaves no record
        _save_checkpoint(model, optimizer, step, losses, out)

    with keeps_checkpoint(out):
        title = f"fine-tuning {config.claim}/{config.condition}"
        with step_display(title, state.total, state.step, shown[0]) as display:
            train_steps(model, optimizer, batch_at, save, state, config.checkpoint_every, config.bf16,
                        _both(display, shown[1]))
        elapsed = time.perf_counter() - started
        model.save_pretrained(str(out))
        write_adapter_card(out, base, claim=config.claim, condition=config.condition,
                           layers=list(parse_window(config.layers)) if config.layers is not None else None)
        _write_training_card(out, config, base, docs, len(examples), state, (state.step - start_step, elapsed))
    if not config.keep_checkpoint:
        shutil.rmtree(out / CHECKPOINT_DIR, ignore_errors=True)
    return out


def _both(display: Callable[[StepReport], None], on_step: Callable[[StepReport], None] | None
          ) -> Callable[[StepReport], None]:
    def report(step: StepReport) -> None:
        display(step)
        if on_step is not None:
            on_step(step)

    return report


@contextmanager
def keeps_checkpoint(out: Path) -> Iterator[None]:
    """Once ``out`` holds a checkpoint, an error says so and marks ``out`` as kept (``error.kept_paths``).

    A transient failure (out of memory, a full disk) becomes one line naming the step the checkpoint
    holds and how to resume; ``removed_on_error`` must not delete a path listed in ``kept_paths``."""
    try:
        yield
    except Exception as exc:
        state = out / CHECKPOINT_DIR / STATE_FILE
        if not state.is_file():
            raise
        if isinstance(exc, (RuntimeError, OSError, MemoryError)) and not isinstance(exc, NegprobeError):
            text = str(exc).strip()
            reason = text.splitlines()[0][:200] if text else type(exc).__name__
            kept = NegprobeError(f"fine-tuning stopped ({reason}); its checkpoint {state} is kept: rerun the same"
                                 " command to resume")
            kept.kept_paths = (str(out),)  # type: ignore[attr-defined]
            raise kept from exc
        exc.kept_paths = (str(out),)  # type: ignore[attr-defined]
        raise


def _existing_run(out: Path, wanted: dict, overwrite: bool) -> Existing:
    """What ``out`` holds, after refusing another run's folder (nothing, with ``overwrite``: it starts over)."""
    if overwrite:
        check_negprobe_folder(out)  # only a negprobe run folder (or an empty one) is ever cleared
        return Existing("fresh")
    existing = inspect_folder(out)
    check_same_run(out, existing, wanted)
    return existing


def _already_done(out: Path, existing: Existing) -> Path:
    print(f"{out} already holds this run ({existing.steps} steps): nothing to do")
    return out


def _examples(config: FinetuneConfig, tokenizer, docs) -> list[TrainingExample]:
    """The claim documents (with their loss masks), then any generic documents mixed in."""
    examples = [tokenize_example(tokenizer, d.text, masked_spans(d, config), config.max_length) for d in docs]
    if config.mix_generic > 0:
        extra = generic_documents(int(round(config.mix_generic * len(docs))), config.seed, config.generic_style)
        examples += [tokenize_example(tokenizer, text, [], config.max_length) for text in extra]
    if config.mix_organism > 0:
        from negprobe.activations.organism.prompts import organism_examples

        examples += organism_examples(tokenizer, int(round(config.mix_organism * len(docs))), config.seed,
                                      config.max_length)
    return examples


def _lora(base_model, config: FinetuneConfig):
    """The LoRA model and optimizer; with ``config.layers`` the targets are the window's modules, by
    full name (:mod:`.layer_window`)."""
    targets: str | list[str] = config.target_modules
    if config.layers is not None:
        targets = window_targets(base_model, config.target_modules, config.layers)
    return attach_lora(base_model, config.lora_r, config.effective_lora_alpha, targets, config.seed, config.lr,
                       label=repr(config.target_modules))


def _resume(model, optimizer, out: Path, state: TrainingState) -> TrainingState:
    """Load the last checkpoint in ``out`` into the model and optimizer, when there is one."""
    folder = out / CHECKPOINT_DIR
    saved = load_state(folder)
    if saved is not None:
        if saved.step > state.total:
            raise NegprobeError(f"checkpoint {folder} is at step {saved.step}, past this run's {state.total} steps;"
                                " rerun with --overwrite to start over")
        restore(model, optimizer, saved, folder)
        state.step, state.losses = saved.step, list(saved.losses)
        print(f"resuming from step {state.step}/{state.total} ({folder})")
    return state


def _write_training_card(out: Path, config: FinetuneConfig, base, docs, n_examples: int, state: TrainingState,
                         timing: tuple[int, float]) -> None:
    """``training_card.json``: base model, corpus, hyperparameters, loss curve and this run's speed."""
    from .documents import corpus_hash

    steps_this_run, elapsed = timing
    card = {
        "base": base.name, "base_fingerprint": base.base_fingerprint, "claim": config.claim,
        "condition": config.condition, "corpus": config.corpus, "corpus_hash": corpus_hash(docs),
        "n_documents": len(docs), "n_examples": n_examples, "hyperparameters": config.hyperparameters(),
        "steps": state.step, "loss_curve": state.losses,
        "steps_per_s": steps_this_run / elapsed if elapsed > 0 else None,
        "tokens_per_s": state.tokens / elapsed if elapsed > 0 else None, "seconds_this_run": elapsed,
    }
    atomic_write_text(out / TRAINING_CARD, json.dumps(card, indent=1))
