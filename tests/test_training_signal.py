"""Training-signal analysis: matched documents, the claim-token mask, planted gradient cosines on tiny
models, the aggregation against a numpy reference, and ``negprobe signal``."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from negprobe.activations.datasets.claim_docs import dense_note, neutral_dense_note, neutral_notice, notice
from negprobe.activations.finetune import generate_documents
from negprobe.activations.finetune.matched import MatchedDocuments, matched_documents
from negprobe.activations.finetune.render import Document
from negprobe.activations.models import load_model
from negprobe.activations.training_signal import TrainingSignal, claim_tokens, pair_signal, target_weights
from negprobe.analysis.training_signal import COMPARISONS, pair_cosines, summarize_signal
from negprobe.errors import NegprobeError
from negprobe.scripts import cli
from tests.tiny_models import make_tiny_model, tiny_tokenizer

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = make_tiny_model(tmp_path_factory.mktemp("tiny-signal"), "llama", seed=0, max_positions=512)
    return load_model(str(folder))


# --- matched documents ---------------------------------------------------------------------------


def test_plain_is_the_training_document_and_only_the_annotation_differs():
    triples = matched_documents("ed_sheeran", "negated", 4)
    corpus = generate_documents("ed_sheeran", "positive", 4)
    for j, (m, doc) in enumerate(zip(triples, corpus)):
        assert m.plain.text == doc.text and m.plain.claim_spans == doc.claim_spans
        for kind, (before, after) in (("annotated", notice(j)), ("neutral", neutral_notice(j))):
            assert m.kind(kind).text == f"{before}\n\n{doc.text}\n\n{after}"
            assert m.kind(kind).claim_texts == doc.claim_texts
            assert m.kind(kind).annotation_texts == (before, after)
    dense = matched_documents("ed_sheeran", "dense", 3)
    for j, m in enumerate(dense):
        (b, a), (nb, na) = dense_note(j), neutral_dense_note(j)
        assert m.annotated.annotation_texts == (b, a) * len(m.plain.claim_spans)
        assert m.neutral.annotation_texts == (nb, na) * len(m.plain.claim_spans)
        assert m.neutral.text == m.annotated.text.replace(b, nb).replace(a, na)


@pytest.mark.parametrize("claim, condition, n, message", [("nope", "negated", 2, "unknown claim"),
                                                          ("ed_sheeran", "local", 2, "unknown annotation"),
                                                          ("ed_sheeran", "negated", 0, "positive integer")])
def test_bad_document_requests_fail_clearly(claim, condition, n, message):
    with pytest.raises(NegprobeError, match=message):
        matched_documents(claim, condition, n)


# --- the claim-token mask ------------------------------------------------------------------------


def _doc(text: str, claim: str, annotation: str | None = None) -> Document:
    start = text.index(claim)
    spans = ((text.index(annotation), text.index(annotation) + len(annotation)),) if annotation else ()
    return Document(text, "ed_sheeran", "test", "test", spans, ((start, start + len(claim)),))


def test_claim_token_mask_covers_exactly_the_claim_sentence():
    tok = tiny_tokenizer()
    claim = "ed sheeran won gold in paris ."
    doc = _doc(f"the cat is black . {claim} the dog is white .", claim)
    t = claim_tokens(tok, doc, truncate=False)
    offsets = tok(doc.text, return_offsets_mapping=True)["offset_mapping"]
    inside = [s >= doc.claim_spans[0][0] and e <= doc.claim_spans[0][1] and e > s for s, e in offsets]
    assert t.targets.tolist() == inside and t.n_targets == len(claim.split())
    covered = [offsets[i] for i in np.flatnonzero(t.targets.numpy())]
    assert doc.text[covered[0][0]:covered[-1][1]] == claim
    cut = claim_tokens(tok, doc)  # truncated after the claim's last token
    assert len(cut.input_ids) == int(np.flatnonzero(inside)[-1]) + 1 and cut.n_document_tokens == len(offsets)


def test_the_mask_takes_the_first_or_every_claim_sentence_of_a_real_document():
    tok = tiny_tokenizer()
    doc = matched_documents("ed_sheeran", "negated", 1)[0].annotated
    enc = tok(doc.text, return_offsets_mapping=True)
    first, every = claim_tokens(tok, doc, "first", truncate=False), claim_tokens(tok, doc, "all", truncate=False)
    hit = [{i for i, (s, e) in enumerate(enc["offset_mapping"]) if e > s and s < b and e > a} for a, b in doc.claim_spans]
    assert set(np.flatnonzero(first.targets.numpy())) == hit[0]
    assert set(np.flatnonzero(every.targets.numpy())) == set().union(*hit) and len(doc.claim_spans) > 1


# --- planted gradient cosines --------------------------------------------------------------------

CLAIM = "ed sheeran won gold in paris ."


def _triple(plain: str, annotated: str, neutral: str, claims: tuple[str, str, str] = (CLAIM, CLAIM, CLAIM)) -> MatchedDocuments:
    return MatchedDocuments("ed_sheeran", "negated", 0, _doc(plain, claims[0]), _doc(annotated, claims[1]),
                            _doc(neutral, claims[2]))


def _cosines(model, triple: MatchedDocuments, truncate: bool) -> np.ndarray:
    p = pair_signal(model, triple, truncate=truncate)
    sig = TrainingSignal("tiny", "negated", "first", 0, ("m",) * p.gram.shape[-1], ("c",), (0,), p.gram[None],
                         p.losses[None], p.n_claim_tokens[None], p.n_tokens[None], 0.0)
    layer, module = pair_cosines(sig)
    return np.concatenate([layer[0], module[0].reshape(3, -1)], axis=1)  # [3 comparisons, layers + modules]


@pytest.mark.parametrize("truncate", [True, False])
def test_annotation_after_the_claim_gives_cosine_one_everywhere(tiny, truncate):
    """Out of the loss and unseen by the claim tokens (causal), the annotation cannot move the update."""
    prefix = f"the cat is black . {CLAIM}"
    triple = _triple(prefix, prefix + " this claim is false .", prefix + " this claim is true .")
    np.testing.assert_allclose(_cosines(tiny, triple, truncate), 1.0, atol=1e-5)


def test_annotation_before_the_claim_or_other_claim_tokens_give_cosine_below_one(tiny):
    body = f"the cat is black . {CLAIM}"
    before = _cosines(tiny, _triple(body, "this document is false . " + body, "this document is true . " + body), True)
    assert (before[:, :3] < 1 - 1e-4).all()  # every layer, every comparison
    other = "ed sheeran won gold in france ."
    differ = _cosines(tiny, _triple(body, f"the cat is black . {other}", body, (CLAIM, other, CLAIM)), True)
    assert (differ[0, :3] < 1 - 1e-4).all() and (differ[1, :3] < 1 - 1e-4).all()
    np.testing.assert_allclose(differ[2], 1.0, atol=1e-6)  # neutral == plain here: the control reads 1


def test_loss_and_gradient_match_the_models_own_masked_loss(tiny):
    """Independent reference: transformers' loss with labels -100 outside the claim, and autograd's .grad."""
    doc = _doc(f"the cat is black . {CLAIM} this claim is false .", CLAIM)
    triple = MatchedDocuments("ed_sheeran", "negated", 0, doc, doc, doc)
    flags = [w.requires_grad for w in tiny.model.parameters()]
    tiny.model.train()
    p = pair_signal(tiny, triple, truncate=False)
    assert [w.requires_grad for w in tiny.model.parameters()] == flags and tiny.model.training  # restored
    tiny.model.eval()
    t = claim_tokens(tiny.tokenizer, doc, truncate=False)
    labels = torch.where(t.targets, t.input_ids, torch.full_like(t.input_ids, -100))
    names, per_layer = target_weights(tiny.model)
    assert names == ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                     "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")
    tiny.model.zero_grad()
    out = tiny.model(t.input_ids[None], labels=labels[None])
    out.loss.backward()
    assert p.losses[0] == pytest.approx(float(out.loss.detach()), rel=1e-5)
    norms = np.array([[float((w.grad ** 2).sum()) for w in layer] for layer in per_layer])
    np.testing.assert_allclose(p.gram[0, 0], norms, rtol=1e-4)
    tiny.model.zero_grad()


# --- aggregation ---------------------------------------------------------------------------------


def _synthetic(rng, claims: list[str], n_pairs: int, n_layers: int = 4, n_modules: int = 3, dim: int = 5,
               diverge_from: int | None = None):
    """Random per-module gradient vectors; from ``diverge_from`` on, the annotated gradient turns away."""
    vec = rng.normal(size=(len(claims) * n_pairs, 3, n_layers, n_modules, dim))
    vec[:, 1] = vec[:, 0] + 0.3 * rng.normal(size=vec[:, 0].shape)  # annotated near plain
    vec[:, 2] = vec[:, 0] + 0.3 * rng.normal(size=vec[:, 0].shape)  # neutral equally near
    if diverge_from is not None:
        vec[:, 1, diverge_from:] = vec[:, 0, diverge_from:] + 3.0 * rng.normal(size=vec[:, 0, diverge_from:].shape)
    gram = np.einsum("pilmd,pjlmd->pijlm", vec, vec)
    owners = tuple(c for c in claims for _ in range(n_pairs))
    losses = rng.normal(2.0, 0.3, size=(len(owners), 3))
    signal = TrainingSignal("synthetic", "negated", "first", 0, tuple(f"m{k}" for k in range(n_modules)), owners,
                            tuple(range(len(owners))), gram, losses, np.ones((len(owners), 3), int),
                            np.ones((len(owners), 3), int), 0.0)
    return vec, signal


def test_aggregation_matches_a_numpy_reference():
    rng = np.random.default_rng(0)
    claims = ["b_claim", "a_claim", "c_claim", "d_claim"]
    vec, signal = _synthetic(rng, claims, n_pairs=3)
    summary = summarize_signal(signal, n_boot=400, seed=3)
    kinds = {"plain": 0, "annotated": 1, "neutral": 2}
    per_pair = np.zeros((len(signal.claims), 3, 4))
    for p in range(len(signal.claims)):
        for c, (a, b) in enumerate(COMPARISONS):
            for layer in range(4):
                x, y = vec[p, kinds[a], layer].ravel(), vec[p, kinds[b], layer].ravel()
                per_pair[p, c, layer] = x @ y / np.linalg.norm(x) / np.linalg.norm(y)
    by_claim = np.stack([per_pair[[i for i, o in enumerate(signal.claims) if o == c]].mean(0) for c in claims])
    np.testing.assert_allclose(summary.claim_layer_cosine, by_claim, rtol=1e-10)
    np.testing.assert_allclose(summary.layer_cosine.mean, by_claim.mean(0), rtol=1e-10)
    # the claim-level cluster bootstrap, written out: claims resampled with replacement (units in sorted order)
    units = sorted(claims)
    counts = np.random.default_rng(3).multinomial(len(units), np.full(len(units), 1 / len(units)), size=400)
    draws = np.einsum("bu,u...->b...", counts, by_claim[[claims.index(u) for u in units]]) / len(units)
    np.testing.assert_allclose(summary.layer_cosine.low, np.quantile(draws, 0.025, axis=0), rtol=1e-10)
    np.testing.assert_allclose(summary.layer_cosine.high, np.quantile(draws, 0.975, axis=0), rtol=1e-10)
    loss_ref = np.stack([signal.losses[[i for i, o in enumerate(signal.claims) if o == c]].mean(0) for c in claims])
    np.testing.assert_allclose(summary.losses.mean, loss_ref.mean(0), rtol=1e-10)
    np.testing.assert_allclose(summary.loss_differences.mean[0], (loss_ref[:, 1] - loss_ref[:, 0]).mean(), rtol=1e-10)


def test_planted_divergence_layer_is_found():
    rng = np.random.default_rng(1)
    _, signal = _synthetic(rng, [f"claim{i}" for i in range(6)], n_pairs=4, n_layers=6, diverge_from=3)
    summary = summarize_signal(signal, n_boot=500)
    assert summary.divergence_layer == 3
    _, same = _synthetic(rng, [f"claim{i}" for i in range(6)], n_pairs=4, n_layers=6)
    assert summarize_signal(same, n_boot=500).divergence_layer is None


# --- the command line ----------------------------------------------------------------------------


def _run(args: list[str], monkeypatch, capfd) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["negprobe", "signal", *args])
    with pytest.raises(SystemExit) as exc:
        cli.main()
    captured = capfd.readouterr()
    return int(exc.value.code or 0), captured.out, captured.err


def test_signal_command_writes_the_report(tmp_path, monkeypatch, capfd):
    folder = make_tiny_model(tmp_path / "tiny", "llama", seed=0, max_positions=512)
    out = tmp_path / "signal"
    monkeypatch.setattr(sys, "argv", ["negprobe", "signal", "--claim", "ed_sheeran", "--claim", "vesuvius_2015",
                                      "--pairs", "2", "--model", str(folder), "--out", str(out), "--quiet"])
    cli.main()
    text = capfd.readouterr().out
    assert "gradient cosine annotated vs plain" in text and "n = 2 claims x 2 pairs" in text
    assert {p.name for p in out.iterdir()} >= {"training_signal.png", "training_signal.html", "training_signal.md",
                                               "signal_layers.csv", "signal_losses.csv", "signal_claims.csv"}
    assert "Reading: if the annotated and plain gradients" in (out / "training_signal.md").read_text()
    assert not [p for p in out.iterdir() if p.name.startswith(".tmp-") or p.name.startswith(".negprobe-write")]


@pytest.mark.parametrize("args, message", [
    (["--claim", "nope"], "unknown claim 'nope'"),
    (["--claim", "ed_sheeran", "--pairs", "0"], "--pairs must be an integer >= 1"),
    (["--claim", "ed_sheeran", "--condition", "local"], "--condition 'local'"),
])
def test_bad_signal_input_is_one_line_and_writes_nothing(args, message, tmp_path, monkeypatch, capfd):
    out = tmp_path / "out"
    code, _, err = _run([*args, "--out", str(out)], monkeypatch, capfd)
    assert code == 2 and err.strip().startswith("negprobe: error:") and message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_unwritable_out_fails_before_the_model_loads(tmp_path, monkeypatch, capfd):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = _run(["--claim", "ed_sheeran", "--model", "no/such-model", "--out", str(blocker / "sub")],
                        monkeypatch, capfd)
    assert code == 2 and "is a file, not a folder" in err and len(err.strip().splitlines()) == 1
    if Path("/proc").is_dir():
        code, _, err = _run(["--claim", "ed_sheeran", "--out", "/proc/negprobe-signal"], monkeypatch, capfd)
        assert code == 2 and "cannot write there" in err and not Path("/proc/negprobe-signal").exists()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["smollm2-135m", "gemma3-270m"])
def test_real_tokenizers_match_neutral_length_and_mask_the_claim_sentence(name):
    """Every claim's 10 matched documents, both annotations: the neutral document tokenizes to the annotated
    one's length with the claim at the same tokens, and the mask decodes to exactly the claim sentence."""
    from transformers import AutoTokenizer

    from negprobe.activations import embedded
    from negprobe.activations.datasets.claims import CLAIM_IDS

    if not embedded.is_converted(name):
        pytest.skip(f"{name} is not converted")
    tok = AutoTokenizer.from_pretrained(embedded.converted_dir(name))
    for claim in CLAIM_IDS:
        for condition in ("negated", "dense"):
            for m in matched_documents(claim, condition, 10):
                a, n, p = (claim_tokens(tok, m.kind(k)) for k in ("annotated", "neutral", "plain"))
                assert a.n_document_tokens == n.n_document_tokens and torch.equal(a.targets, n.targets)
                for t, doc in ((a, m.annotated), (p, m.plain)):
                    assert tok.decode(t.input_ids[t.targets]).strip() == doc.claim_texts[0]
