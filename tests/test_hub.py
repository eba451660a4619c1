"""Hub adapters offline: a fake hub cache resolves by id and revision; a missing id is one clear error."""

from __future__ import annotations

import pytest
import torch

from negprobe.activations import NegprobeError, load_model
from negprobe.activations.hub import HubRef, parse_hub_ref, resolve_adapter
from tests.fake_hub import COMMIT, add_to_hub_cache
from tests.test_models import make_lora_adapter, run_cli

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """An offline hub cache under tmp_path holding ``org/tiny-adapter``; returns (cache, local adapter)."""
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("NEGPROBE_HOME", str(tmp_path / "home"))
    return tmp_path / "hub"


def test_parse_hub_ref():
    assert parse_hub_ref("org/name") == HubRef("org/name")
    assert parse_hub_ref("hf:org/name@v1.0") == HubRef("org/name", "v1.0")
    assert str(HubRef("org/name", "abc")) == "hf:org/name@abc"
    assert parse_hub_ref("just-a-name") is None and parse_hub_ref("a/b/c") is None
    with pytest.raises(NegprobeError, match="not a hub reference"):
        parse_hub_ref("hf:nothing")


def test_hub_adapter_resolves_from_the_cache(hub, tiny_llama_dir, tmp_path):
    local = tmp_path / "adapter"
    make_lora_adapter(tiny_llama_dir, local)
    snapshot = add_to_hub_cache(hub, "org/tiny-adapter", local)
    by_folder = load_model(tiny_llama_dir, adapter=local)
    ids = torch.tensor([[2, 5, 9, 14, 30, 7]])
    for name in ("org/tiny-adapter", "hf:org/tiny-adapter", "hf:org/tiny-adapter@main", f"hf:org/tiny-adapter@{COMMIT}"):
        folder, shown = resolve_adapter(name)
        assert folder == snapshot and shown.startswith("hf:org/tiny-adapter")
        tuned = load_model(tiny_llama_dir, adapter=name)
        assert tuned.fingerprint == by_folder.fingerprint  # the adapter's files, wherever they lie
        assert tuned.adapter_name == shown and shown in tuned.describe()
        with torch.no_grad():
            torch.testing.assert_close(tuned.model(input_ids=ids).logits, by_folder.model(input_ids=ids).logits)
    with pytest.raises(NegprobeError, match="hf:org/tiny-adapter@v9 is not in the hub cache"):
        load_model(tiny_llama_dir, adapter="hf:org/tiny-adapter@v9")  # an unknown revision


def test_missing_hub_adapter_offline_is_one_clear_error(hub, tiny_llama_dir):
    with pytest.raises(NegprobeError, match=r"hf:org/absent is not in the hub cache .* HF_HUB_OFFLINE") as info:
        load_model(tiny_llama_dir, adapter="org/absent")
    assert "\n" not in str(info.value)


def test_cli_missing_hub_adapter_exits_2(hub, tiny_llama_dir):
    result = run_cli("read", "the cat", "--model", str(tiny_llama_dir), "--adapter", "hf:org/absent@main")
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("negprobe: error:")]
    assert len(errors) == 1 and "hf:org/absent@main is not in the hub cache" in errors[0], result.stderr
    assert "Traceback" not in result.stderr


def test_local_folder_adapter_still_wins(hub, tiny_llama_dir, tmp_path, monkeypatch):
    """A folder named like a hub id (``org/name`` relative to the working directory) is the folder."""
    make_lora_adapter(tiny_llama_dir, tmp_path / "org" / "tiny-adapter")
    monkeypatch.chdir(tmp_path)
    folder, shown = resolve_adapter("org/tiny-adapter")
    assert folder.resolve() == (tmp_path / "org" / "tiny-adapter").resolve() and shown == "org/tiny-adapter"
