"""Every backend's residuals equal HF ``output_hidden_states`` of unpadded single-prompt runs."""

from __future__ import annotations

import pytest
import torch

from negprobe.activations import NegprobeError, load_model, read_residuals
from negprobe.activations.models import final_norm
from negprobe.activations.tokenize import token_index, tokenize

PROMPTS = [
    "the cat is in paris",
    "ed sheeran won the 100m gold in the 2024 olympics .",
    "noah lyles won",
    "the capital of france is paris , not a city of dogs",
    "yes",
    "brennan holloway is a dentist , this claim is false .",
]
BACKENDS = ["hf", "transformer_lens", "nnsight"]


def reference_residuals(model, prompt: str, positions: list[int]) -> torch.Tensor:
    """[n_layers, n_positions, d] from one unpadded HF run; the final block is undone from the final norm check."""
    enc = model.tokenizer(prompt, return_tensors="pt")
    with torch.no_grad():
        hidden = model.model(**enc, output_hidden_states=True).hidden_states
    n = model.n_layers
    # hidden_states[l + 1] is block l's output, except the last, which has the final norm applied
    stacked = torch.stack([hidden[layer + 1][0, positions] for layer in range(n - 1)])
    return stacked, hidden[n][0, positions]


@pytest.fixture(scope="module", params=["llama", "gpt2"])
def tiny(request, tiny_llama_dir, tiny_gpt2_dir):
    return load_model(tiny_llama_dir if request.param == "llama" else tiny_gpt2_dir)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("padding_side", ["left", "right"])
def test_backend_matches_unpadded_hidden_states(tiny, backend, padding_side):
    positions = [-1, 1]
    acts = read_residuals(tiny, PROMPTS, positions=positions, backend=backend, batch_size=4, padding_side=padding_side)
    assert acts.shape == (len(PROMPTS), tiny.n_layers, 2, tiny.d_model)
    norm = final_norm(tiny.model)
    for i, prompt in enumerate(PROMPTS):
        ref, ref_final = reference_residuals(tiny, prompt, positions)
        torch.testing.assert_close(acts[i, :-1], ref, atol=1e-5, rtol=1e-5)
        with torch.no_grad():
            torch.testing.assert_close(norm(acts[i, -1]), ref_final, atol=1e-5, rtol=1e-5)


def test_layer_subset_and_order(tiny):
    all_layers = read_residuals(tiny, PROMPTS[:3], positions=[-1])
    some = read_residuals(tiny, PROMPTS[:3], layers=[2, 0], positions=[-1])
    torch.testing.assert_close(some[:, 0], all_layers[:, 2])
    torch.testing.assert_close(some[:, 1], all_layers[:, 0])


def test_token_index_left_and_right(tiny):
    for side in ("left", "right"):
        batch = tokenize(tiny.tokenizer, ["the cat", "the cat is in paris"], padding_side=side)
        index = token_index(batch, [0, -1])
        ids = batch.input_ids.gather(1, index)
        assert ids[:, 0].tolist() == [tiny.tokenizer.bos_token_id] * 2
        assert ids[:, 1].tolist() == tiny.tokenizer.convert_tokens_to_ids(["cat", "paris"])


def test_prepend_bos_override(tiny):
    with_bos = tokenize(tiny.tokenizer, ["the cat"], prepend_bos=True)
    without = tokenize(tiny.tokenizer, ["the cat"], prepend_bos=False)
    assert with_bos.input_ids[0, 0] == tiny.tokenizer.bos_token_id
    assert without.input_ids[0].tolist() == tiny.tokenizer.convert_tokens_to_ids(["the", "cat"])


def test_bad_layers_and_positions(tiny):
    with pytest.raises(NegprobeError, match="layer 99 is out of range"):
        read_residuals(tiny, PROMPTS[:1], layers=[99])
    with pytest.raises(NegprobeError, match="outside prompt 4"):
        read_residuals(tiny, PROMPTS, positions=[3])
    with pytest.raises(NegprobeError, match="unknown backend"):
        read_residuals(tiny, PROMPTS[:1], backend="jax")
    with pytest.raises(NegprobeError, match="context"):
        read_residuals(tiny, [" ".join(["cat"] * 100)])


@pytest.mark.slow
@pytest.mark.parametrize("name", ["smollm2-135m", "gemma3-270m"])
def test_a_chat_prompt_keeps_exactly_one_leading_bos_on_the_real_tokenizers(name):
    """The scorers' ids of a prompt that writes its own BOS start with exactly one: SmolLM2's chat template
    writes its BOS (``<|im_start|>``) and its tokenizer adds none, so nothing may be stripped; on Gemma a
    text starting with ``<bos>`` gets another from the tokenizer, so one is."""
    from transformers import AutoTokenizer

    from negprobe.activations import embedded
    from negprobe.activations.question_format import prompt_token_ids

    if not embedded.is_converted(name):
        pytest.skip(f"{name} is not converted")
    tok = AutoTokenizer.from_pretrained(embedded.converted_dir(name))
    text = (tok.apply_chat_template([{"role": "user", "content": "Is Paris in France?"}], tokenize=False,
                                    add_generation_prompt=True) if tok.chat_template  # gemma base: none; a
            else tok.bos_token + "Is Paris in France?")  # text that writes its own BOS, as a template does
    ids = tokenize(tok, [text], prepend_bos=False).input_ids[0].tolist()
    assert ids[0] == tok.bos_token_id and ids[1] != tok.bos_token_id
    if tok.chat_template:  # the scorers' own path (SmolLM2)
        assert prompt_token_ids(tok, text) == ids
    assert tok.decode(ids, skip_special_tokens=False).startswith(tok.bos_token)
    plain = tokenize(tok, ["Paris is in France."], prepend_bos=False).input_ids[0].tolist()
    assert plain[0] != tok.bos_token_id  # no BOS asked for, none written by the text: none kept
