"""Fine-tuning follows the model's device: the autocast and the batches go where the model is (CUDA
mocked on this CPU machine), CPU training is unchanged step for step, and ``device`` is not part of
a run's identity."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import pytest
import torch

from negprobe.activations import NegprobeError, load_model
from negprobe.activations.finetune import loop
from negprobe.activations.finetune.loop import TrainingState, autocast_for, train_steps
from negprobe.activations.finetune.train import FinetuneConfig

pytestmark = pytest.mark.usefixtures("one_thread")


def peft_model(folder):
    from peft import LoraConfig, get_peft_model

    base = load_model(folder)
    torch.manual_seed(0)
    return get_peft_model(base.model, LoraConfig(r=4, lora_alpha=8, target_modules="all-linear")), base.tokenizer


class OnGpu:
    """A model stand-in whose input embedding lives on cuda:0 (no CUDA needed to ask where it is)."""

    def get_input_embeddings(self):
        return SimpleNamespace(weight=SimpleNamespace(device=torch.device("cuda:0")))


def test_autocast_follows_a_cpu_model(tiny_llama_dir):
    model, _ = peft_model(tiny_llama_dir)
    assert autocast_for(model, True) == ("cpu", torch.bfloat16, True)
    assert autocast_for(model, False) == ("cpu", torch.bfloat16, False)


def test_autocast_follows_a_cuda_model(monkeypatch):
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Old GPU")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    assert autocast_for(OnGpu(), True) == ("cuda", torch.bfloat16, True)
    assert autocast_for(OnGpu(), False) == ("cuda", torch.bfloat16, False)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: False)
    with pytest.raises(NegprobeError, match="--bf16: Old GPU has no bfloat16"):
        autocast_for(OnGpu(), True)
    assert autocast_for(OnGpu(), False) == ("cuda", torch.bfloat16, False)  # float32 training needs nothing


@pytest.mark.parametrize("bf16", [False, True])
def test_cpu_training_is_the_old_loop_step_for_step(tiny_llama_dir, monkeypatch, bf16):
    model, tokenizer = peft_model(tiny_llama_dir)
    reference = copy.deepcopy(model)
    enc = tokenizer(["ed sheeran won the 100m gold", "the cat is in paris"], return_tensors="pt", padding=True)
    batch = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"], "labels": enc["input_ids"]}
    seen = []
    real_autocast = torch.autocast
    monkeypatch.setattr(loop.torch, "autocast", lambda *a, **kw: seen.append((a, kw)) or real_autocast(*a, **kw))

    def optimizer_for(m):
        return torch.optim.AdamW([p for p in m.parameters() if p.requires_grad], lr=1e-2)

    state = TrainingState(total=3)
    train_steps(model, optimizer_for(model), lambda step: batch, lambda step, losses: None, state, 10, bf16,
                lambda report: None)
    assert seen == [(("cpu",), {"dtype": torch.bfloat16, "enabled": bf16})] * 3
    monkeypatch.setattr(loop.torch, "autocast", real_autocast)
    optimizer, losses = optimizer_for(reference), []
    for _ in range(3):  # the loop as it was before it followed the device
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = reference(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()))
    assert state.losses == losses and losses[-1] < losses[0]


def test_device_is_not_part_of_the_run_identity():
    assert FinetuneConfig(device="cuda:0").hyperparameters() == FinetuneConfig().hyperparameters()
    assert "device" not in FinetuneConfig().hyperparameters()
