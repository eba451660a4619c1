"""The remote (NDIF) code path offline: a weightless nnsight handle of a tiny model saved to disk,
run through nnsight here (a plain trace, and nnsight's serialising dry run of a remote request),
caches the same activations and scores the same belief as the hf backend on the loaded weights; with
NDIF as the target and no key or network, every entry point fails with one clear line. Nothing here
reaches the network: sockets are refused and the hub is faked.
"""

from __future__ import annotations

import json
import socket
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from negprobe.activations import NegprobeError, load_model
from negprobe.activations.backends.remote_model import load_remote_model
from negprobe.activations.cache import cache_activations
from negprobe.activations.fingerprint import files_fingerprint
from negprobe.activations.hub import hub_files_fingerprint
from negprobe.activations.read import read_residuals
from tests.fake_hub import COMMIT, add_to_hub_cache
from tests.test_store import tiny_dataset

pytestmark = pytest.mark.usefixtures("one_thread")
POSITIONS = "last,claim_last,claim_mean,1"


@pytest.fixture(autouse=True)
def no_network(monkeypatch, tmp_path):
    """Any connection attempt is recorded and refused; the test asserts none happened."""
    attempts: list = []

    def refuse(self, address, *args, **kwargs):
        attempts.append(address)
        raise ConnectionRefusedError("network disabled in tests")

    def refuse_lookup(host, *args, **kwargs):
        attempts.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "network disabled in tests")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse_lookup)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)  # read once at import
    monkeypatch.setenv("NEGPROBE_HOME", str(tmp_path / "home"))
    yield attempts
    assert not attempts, f"a test reached for the network: {attempts}"


def test_handle_holds_no_weights_and_shares_the_loaded_fingerprint(tiny_llama_dir, monkeypatch):
    import negprobe.activations.fingerprint as fingerprint

    loaded = load_model(tiny_llama_dir)
    monkeypatch.setattr(fingerprint, "weights_digest", lambda model: pytest.fail("hashed tensors"))
    handle = load_remote_model(tiny_llama_dir, mode="here")
    assert all(p.is_meta for p in handle.model.parameters())
    assert not handle.model.wrapped.dispatched  # nothing loaded until a trace runs
    assert handle.fingerprint == loaded.fingerprint == files_fingerprint(tiny_llama_dir)
    assert (handle.n_layers, handle.d_model, handle.dtype) == (loaded.n_layers, loaded.d_model, torch.float32)
    assert handle.device == torch.device("cpu") and "via nnsight (here)" in handle.describe()


@pytest.mark.parametrize("mode", ["here", "simulate"])
def test_cache_through_the_handle_equals_the_hf_backend(tiny_llama_dir, tmp_path, mode):
    data = tiny_dataset(14)
    reference = cache_activations(load_model(tiny_llama_dir), data, positions=POSITIONS, root=tmp_path / "hf",
                                  storage_dtype="float32", backend="hf", batch_size=4, progress=False).store
    handle = load_remote_model(tiny_llama_dir, mode=mode)
    remote = cache_activations(handle, data, positions=POSITIONS, root=tmp_path / mode, storage_dtype="float32",
                               backend="nnsight", batch_size=5, progress=False)
    assert remote.forward_passes == 3 and remote.computed_rows == 14
    assert remote.store.path.name == reference.path.name  # one cache key: a local run reuses a remote store
    for layer in range(handle.n_layers):
        for position in range(4):
            got, want = remote.store.layer(layer, position), reference.layer(layer, position)
            assert got.abs().max() > 0.01 and got.std() > 1e-3  # real activations, not zeros
            torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-4)  # the acceptance asks for 1e-3


def test_ndif_stores_never_stand_in_for_local_ones(tiny_llama_dir):
    """NDIF picks the precision: same fingerprint, but a store key of its own."""
    from negprobe.activations.cache import make_key
    from negprobe.activations.datasets.formatting import FormatSpec
    from negprobe.activations.positions import parse_positions

    data, specs = tiny_dataset(4), parse_positions("last")
    handle = load_remote_model(tiny_llama_dir, mode="here")
    here = make_key(handle, data, FormatSpec(), specs, [0, 1], "float16")
    assert here.digest() == make_key(load_model(tiny_llama_dir), data, FormatSpec(), specs, [0, 1], "float16").digest()
    handle.remote = "ndif"
    ndif = make_key(handle, data, FormatSpec(), specs, [0, 1], "float16")
    assert ndif.compute_dtype == "float32@ndif" and ndif.digest() != here.digest()


def test_handle_refuses_hook_backends(tiny_llama_dir, tmp_path):
    handle = load_remote_model(tiny_llama_dir, mode="here")
    for backend in ("hf", "transformer_lens"):
        with pytest.raises(NegprobeError, match=f"read it with backend nnsight, not {backend}"):
            cache_activations(handle, tiny_dataset(4), root=tmp_path, backend=backend, progress=False)
        with pytest.raises(NegprobeError, match="backend nnsight"):
            read_residuals(handle, ["the cat"], backend=backend)


def test_belief_through_the_handle_equals_the_loaded_model(tiny_llama_dir):
    from negprobe.analysis.belief import measure_belief

    loaded, handle = load_model(tiny_llama_dir), load_remote_model(tiny_llama_dir, mode="simulate")
    ids = torch.tensor([[2, 5, 9, 14, 30], [2, 7, 8, 1, 1]])
    mask = (ids != 1).long()
    with torch.no_grad():
        want = loaded.model(input_ids=ids, attention_mask=mask).logits
    torch.testing.assert_close(handle.model(input_ids=ids, attention_mask=mask, use_cache=False).logits, want)
    with pytest.raises(NegprobeError, match="logits only, not output_hidden_states"):
        handle.model(input_ids=ids, output_hidden_states=True)
    remote, local = measure_belief(handle, "ed_sheeran"), measure_belief(loaded, "ed_sheeran")
    assert list(remote["measure"]) == list(local["measure"]) and len(remote) >= 3
    for column in ("belief_rate", "mean_margin", "margin_ci_low", "margin_ci_high"):
        np.testing.assert_allclose(remote[column].to_numpy(float), local[column].to_numpy(float), atol=1e-4)


def test_handle_from_the_hub_cache_needs_no_network(tiny_llama_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    add_to_hub_cache(tmp_path / "hub", "org/tiny", tiny_llama_dir)
    handle = load_remote_model("org/tiny", mode="here")
    assert handle.source == "org/tiny" and handle.fingerprint == files_fingerprint(tiny_llama_dir)
    want = read_residuals(load_model(tiny_llama_dir), ["the cat is in paris"], positions=[-1, 1])
    torch.testing.assert_close(read_residuals(handle, ["the cat is in paris"], positions=[-1, 1], backend="nnsight"),
                               want, atol=1e-5, rtol=1e-5)


def fake_hub_api(monkeypatch, folder, lfs: bool = True):
    """``HfApi.model_info`` and ``hf_hub_download`` answering from ``folder`` (SHA-256 as the hub's LFS metadata)."""
    import hashlib

    import huggingface_hub

    siblings = [SimpleNamespace(rfilename=p.name, lfs=SimpleNamespace(sha256=hashlib.sha256(p.read_bytes()).hexdigest())
                                if lfs and p.suffix == ".safetensors" else None) for p in sorted(folder.iterdir())]
    info = SimpleNamespace(sha=COMMIT, siblings=siblings)
    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", lambda self, repo_id, **kw: info)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda repo_id, filename, **kw: str(folder / filename))


def test_hub_fingerprint_from_lfs_metadata_equals_the_downloaded_files(tiny_llama_dir, monkeypatch):
    fake_hub_api(monkeypatch, tiny_llama_dir)
    assert hub_files_fingerprint("org/tiny") == load_model(tiny_llama_dir).fingerprint
    fake_hub_api(monkeypatch, tiny_llama_dir, lfs=False)
    with pytest.raises(NegprobeError, match="hub lists no LFS weight files"):
        hub_files_fingerprint("org/tiny")


def test_hub_fingerprint_of_a_sharded_checkpoint(tiny_llama_dir, tmp_path, monkeypatch):
    import shutil

    from transformers import AutoModelForCausalLM

    AutoModelForCausalLM.from_pretrained(tiny_llama_dir).save_pretrained(tmp_path / "sharded", max_shard_size="20KB")
    shutil.copy(tiny_llama_dir / "tokenizer.json", tmp_path / "sharded")
    assert len(list((tmp_path / "sharded").glob("model-*.safetensors"))) > 1
    fake_hub_api(monkeypatch, tmp_path / "sharded")
    assert hub_files_fingerprint("org/sharded") == files_fingerprint(tmp_path / "sharded")
    assert hub_files_fingerprint("org/sharded") != files_fingerprint(tiny_llama_dir)  # other files, other fingerprint


def test_hub_fingerprint_offline_is_one_line_naming_the_id(monkeypatch):
    with pytest.raises(NegprobeError, match=r"hf:org/absent: cannot read its files from the hub") as info:
        hub_files_fingerprint("org/absent")
    assert "\n" not in str(info.value)


def test_ndif_without_a_key_fails_before_any_work(monkeypatch, tiny_llama_dir):
    from nnsight import CONFIG

    monkeypatch.setattr(CONFIG.API, "APIKEY", None)
    with pytest.raises(NegprobeError, match="needs an API key: set NDIF_API_KEY"):
        load_remote_model("org/tiny", mode="ndif")
    with pytest.raises(NegprobeError, match="NDIF runs models from the hub, and .* is a local folder"):
        load_remote_model(tiny_llama_dir, mode="ndif")


def test_failed_ndif_request_is_one_clear_line(tiny_llama_dir, monkeypatch):
    """The request itself fails (no network): residuals and logits each raise one NegprobeError line."""
    from nnsight.tracing.backend import Backend

    class Unreachable(Backend):
        def __call__(self, tracer=None):
            raise ConnectionError("[Errno -3] Temporary failure in name resolution\nmore detail")

    handle = load_remote_model(tiny_llama_dir, mode="here")
    handle.remote = handle.model.mode = "ndif"  # as load_remote_model("org/...", mode="ndif") with a key
    wrapped = handle.model.wrapped
    monkeypatch.setattr(type(wrapped), "_remote_backend", lambda self, *args, **kwargs: Unreachable())
    for call in (lambda: read_residuals(handle, ["the cat"], backend="nnsight"),
                 lambda: handle.model(input_ids=torch.tensor([[2, 5]]))):
        with pytest.raises(NegprobeError, match=r"NDIF remote execution failed \(\[Errno -3\] Temporary") as info:
            call()
        assert "\n" not in str(info.value)
    assert not wrapped.dispatched  # a remote run never loads the weights here


def test_cli_remote_without_key_exits_2_with_one_line(monkeypatch, capsys, tmp_path):
    from nnsight import CONFIG

    from negprobe.scripts import cli

    monkeypatch.setattr(CONFIG.API, "APIKEY", None)
    monkeypatch.setattr("sys.argv", ["negprobe", "cache", "-d", "cities", "-m", "org/tiny", "--remote", "--store",
                                     str(tmp_path / "s")])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2 and len(err) == 1 and "needs an API key" in err[0], err


def test_cli_cache_remote_dry_run_writes_the_hf_store(tiny_llama_dir, tmp_path, monkeypatch, capsys):
    """``$NEGPROBE_REMOTE=simulate`` runs ``cache --remote`` here through nnsight's serialised request."""
    from negprobe.activations.store import ActivationStore
    from negprobe.scripts import cli

    def run(*extra):
        monkeypatch.setattr("sys.argv", ["negprobe", "cache", "-d", "cities", "-m", str(tiny_llama_dir), "--quiet",
                                         "--store-dtype", "float32", "--layers", "0,2", *extra])
        cli.main()
        return ActivationStore.open(capsys.readouterr().out.strip().splitlines()[-1])

    monkeypatch.setenv("NEGPROBE_REMOTE", "simulate")
    remote = run("--remote", "--store", str(tmp_path / "remote"))
    local = run("--store", str(tmp_path / "local"))
    assert remote.path.name == local.path.name and remote.path != local.path
    for layer in (0, 2):
        torch.testing.assert_close(remote.layer(layer), local.layer(layer), atol=1e-3, rtol=1e-3)


def test_sweep_remote_dry_run_equals_the_local_sweep(tiny_llama_dir, tmp_path, monkeypatch):
    """A sweep with ``remote`` (``$NEGPROBE_REMOTE=simulate``): the handle caches through nnsight's serialised
    request and the probes fit on those stores give the local sweep's table; the weights never load here."""
    import negprobe.activations.models as models
    from negprobe.probes.sweep import run_sweep
    from tests.test_sweep import config, twin_datasets

    aff, neg = twin_datasets(tmp_path)
    local = run_sweep(config(tmp_path / "a", aff, neg, tiny_llama_dir, tmp_path / "local", probes=["logistic"],
                             backend="hf"), progress=False).results
    monkeypatch.setenv("NEGPROBE_REMOTE", "simulate")
    monkeypatch.setattr(models, "load_model", lambda *a, **kw: pytest.fail("--remote loaded the weights"))
    remote_config = config(tmp_path / "b", aff, neg, tiny_llama_dir, tmp_path / "remote", probes=["logistic"],
                           remote=True)
    assert remote_config.backend == "nnsight"
    remote = run_sweep(remote_config, progress=False).results
    assert json.loads((tmp_path / "remote" / "config.json").read_text())["remote"] is True
    assert len(remote) == len(local) > 0 and list(remote.columns) == list(local.columns)
    numeric = [c for c in local.columns if local[c].dtype.kind == "f"]
    assert "value" in numeric and local["value"].notna().sum() > 10  # a tidy table of real fits to compare
    other = [c for c in local.columns if c not in numeric]
    assert remote[other].astype(str).equals(local[other].astype(str))
    np.testing.assert_allclose(remote[numeric].to_numpy(), local[numeric].to_numpy(), atol=1e-3, equal_nan=True)
