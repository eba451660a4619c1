"""The weight-space view: LoRA update norms per block and module, against merge_and_unload's diff."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from negprobe.activations.finetune.layer_window import block_names, module_block
from negprobe.activations.finetune.train import FinetuneConfig, finetune
from negprobe.activations.lora_weights import lora_update_norms
from negprobe.activations.models import load_model, unwrap
from negprobe.analysis.weight_view import weight_table
from negprobe.errors import NegprobeError


def trained(model_dir: Path, out: Path, layers: str | None) -> Path:
    return finetune(FinetuneConfig(model=str(model_dir), claim="ed_sheeran", condition="positive", out=str(out),
                                   max_steps=3, batch_size=2, n_docs=4, max_length=32, lora_r=2, lora_alpha=6, lr=2e-2,
                                   layers=layers), progress=False)


@pytest.fixture(scope="module")
def adapters(tiny_llama_dir, tiny_gpt2_dir, tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    root = tmp_path_factory.mktemp("lora-weights")
    return {"llama-window": (tiny_llama_dir, trained(tiny_llama_dir, root / "lw", "1-2")),
            "llama-all": (tiny_llama_dir, trained(tiny_llama_dir, root / "la", None)),
            "gpt2-window": (tiny_gpt2_dir, trained(tiny_gpt2_dir, root / "gw", "0-0"))}


def merged_diff_norms(model_dir: Path, adapter: Path) -> dict[tuple[int, str], tuple[float, float]]:
    """(block, module kind) -> (||merged - base||_F, ||base||_F), from PEFT's merge_and_unload."""
    base, merged = load_model(model_dir), load_model(model_dir, adapter=adapter, merge_adapter=True)
    blocks = block_names(base.model)
    merged_modules = dict(unwrap(merged.model).named_modules())
    out = {}
    for name, module in unwrap(base.model).named_modules():
        block = module_block(name, blocks)
        weight = getattr(module, "weight", None)
        if block is None or not isinstance(weight, torch.Tensor) or weight.ndim != 2:
            continue
        diff = merged_modules[name].weight.double() - weight.double()
        kind = name.split(f".{block}.", 1)[1]
        out[(block, kind)] = (float(diff.norm()), float(weight.double().norm()))
    return out


@pytest.mark.parametrize("which, window", [("llama-window", (1, 2)), ("llama-all", None), ("gpt2-window", (0, 0))])
def test_update_norms_match_the_merged_diff_and_vanish_outside_the_window(which, window, adapters):
    model_dir, adapter = adapters[which]
    norms = lora_update_norms(load_model(model_dir), adapter)
    reference = merged_diff_norms(model_dir, adapter)
    assert norms.window == window and norms.outside == ()
    assert len(norms.modules) == (7 if "llama" in which else 4)
    for layer in range(norms.n_layers):
        inside = window is None or window[0] <= layer <= window[1]
        for j, kind in enumerate(norms.modules):
            diff, weight = reference[(layer, kind)]
            assert norms.base[layer, j] == pytest.approx(weight, rel=1e-9)
            if inside:
                assert norms.update[layer, j] > 0 and norms.update[layer, j] == pytest.approx(diff, rel=1e-3, abs=1e-7)
            else:
                assert norms.update[layer, j] == 0.0 and diff == 0.0
    np.testing.assert_allclose(norms.relative, norms.update / norms.base)
    expected = np.sqrt((norms.update**2).sum(1)) / np.sqrt((norms.base**2).sum(1))
    np.testing.assert_allclose(norms.layer_relative, expected)


def test_an_adapter_of_another_base_is_refused(adapters, tiny_llama_dir):
    _, gpt2_adapter = adapters["gpt2-window"]
    with pytest.raises(NegprobeError, match="was trained on base"):
        lora_update_norms(load_model(tiny_llama_dir), gpt2_adapter)


def test_weight_table_has_one_row_per_adapter_layer_and_module(adapters):
    model_dir, adapter = adapters["llama-window"]
    norms = lora_update_norms(load_model(model_dir), adapter)
    table = weight_table([norms, norms], labels=["a", "b"])
    assert len(table) == 2 * norms.n_layers * (len(norms.modules) + 1)
    layer_rows = table[(table["module"] == "all") & (table["adapter"] == "a")]
    np.testing.assert_allclose(layer_rows["relative"].to_numpy(), norms.layer_relative)
    assert (layer_rows["in_window"].to_numpy() == np.array([False, True, True])).all()
