"""The organism's KL replay (activations/organism/replay.py) and its training options: the KL against an
independent reference, the regulariser's effect on a tiny model, the reuse key of older cards."""

from __future__ import annotations

import json
from dataclasses import asdict, replace

import numpy as np
import pytest
import torch

from negprobe.activations.organism import OrganismConfig, train_organism
from negprobe.activations.organism.replay import masked_kl
from negprobe.activations.organism.train import (
    BEFORE_REPLAY_OPTIONS,
    ORGANISM_CARD,
    finished_organism,
    read_card,
)
from negprobe.errors import NegprobeError
from tests.tiny_models import make_tiny_model


def _kl_reference(p_logits: np.ndarray, q_logits: np.ndarray, mask: np.ndarray) -> float:
    """KL(p || q) per position from the definition, averaged over mask == 1."""
    total, count = 0.0, 0
    for b in range(mask.shape[0]):
        for t in range(mask.shape[1]):
            if mask[b, t]:
                p = np.exp(p_logits[b, t] - p_logits[b, t].max())
                p /= p.sum()
                q = np.exp(q_logits[b, t] - q_logits[b, t].max())
                q /= q.sum()
                total += float(np.sum(p * np.log(p / q)))
                count += 1
    return total / count


def test_masked_kl_matches_the_definition_and_ignores_padding():
    rng = np.random.default_rng(0)
    p, q = rng.normal(size=(2, 5, 7)) * 2, rng.normal(size=(2, 5, 7)) * 2
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    got = float(masked_kl(torch.tensor(p), torch.tensor(q), torch.tensor(mask)))
    assert got == pytest.approx(_kl_reference(p, q, mask), rel=1e-5)
    assert float(masked_kl(torch.tensor(p), torch.tensor(p), torch.tensor(mask))) == pytest.approx(0.0, abs=1e-6)
    q_padded = q.copy()
    q_padded[0, 3:] += 50.0  # padding positions change, nothing else
    assert float(masked_kl(torch.tensor(p), torch.tensor(q_padded), torch.tensor(mask))) == pytest.approx(got, rel=1e-6)
    # the forward direction: KL(p || q) != KL(q || p) on these draws
    assert got != pytest.approx(_kl_reference(q, p, mask), rel=1e-2)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("replay") / "tiny"
    make_tiny_model(folder, max_positions=512)
    return folder


def _drift(folder, base_folder) -> float:
    """Mean KL(base || organism) on the organism's stored replay texts."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(base_folder))
    texts = [p + r for p, r in json.loads((folder / "generic_replies.json").read_text())]
    batch = tokenizer(texts, return_tensors="pt", padding=True)
    with torch.no_grad():
        base = AutoModelForCausalLM.from_pretrained(str(base_folder))(**batch).logits
        tuned = AutoModelForCausalLM.from_pretrained(str(folder))(**batch).logits
    return float(masked_kl(base, tuned, batch["attention_mask"]))


@pytest.mark.parametrize("method", ["lora", "full"])
def test_kl_replay_keeps_the_organism_closer_to_its_base(tiny, tmp_path, method):
    """Planted: the same task data and steps, with the KL term weighted 100 vs 0: the regularised organism
    drifts less from its base on the replay text (a wrong-signed or dropped KL term fails this)."""
    config = OrganismConfig(model=str(tiny), n_examples=16, steps=12, batch_size=4, replay="kl", method=method,
                            lr=2e-2 if method == "lora" else 2e-3, generic_share=0.5)
    drifts = {}
    for weight in (0.0, 100.0):
        folder = train_organism(replace(config, kl_weight=weight), tmp_path / f"o{weight}", progress=False)
        assert read_card(folder)["config"]["replay"] == "kl"
        drifts[weight] = _drift(folder, tiny)
    assert drifts[0.0] > 0.01
    assert drifts[100.0] < 0.5 * drifts[0.0]


def test_a_card_older_than_the_replay_options_keeps_its_reuse_key(tiny, tmp_path):
    """A card written before the replay options existed is read as what it was trained with (cross-entropy
    replay, LoRA), whatever the defaults are now."""
    legacy = OrganismConfig(model=str(tiny), n_examples=8, steps=1, batch_size=4, **BEFORE_REPLAY_OPTIONS)  # type: ignore[arg-type]
    folder = train_organism(legacy, tmp_path / "o", progress=False)
    card = json.loads((folder / ORGANISM_CARD).read_text())
    for added in BEFORE_REPLAY_OPTIONS:
        del card["config"][added]
    (folder / ORGANISM_CARD).write_text(json.dumps(card))
    assert finished_organism(legacy, folder) == folder
    assert finished_organism(replace(legacy, replay="kl"), folder) is None
    assert finished_organism(replace(legacy, method="full"), folder) is None
    assert set(asdict(legacy)) >= set(BEFORE_REPLAY_OPTIONS)


@pytest.mark.parametrize("bad", [dict(replay="logits"), dict(method="qlora"), dict(kl_weight=-1.0),
                                 dict(replay="kl", generic_share=0.0), dict(replay_batch=0),
                                 dict(data_version=2)])
def test_bad_replay_options_are_refused(bad):
    with pytest.raises(NegprobeError, match="organism"):
        OrganismConfig(**bad)
