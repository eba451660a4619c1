"""Cross-model patching as one JSON file (``cross_patching.json``), and the typed curve read back from it.

The file holds the gate (the paired belief rise, :mod:`.belief_gate`), ``status`` / ``reason``, the
patched layers, every curve's claim-mean recovery per layer with its CI and half layer (a curve
behind a failed gate is written with ``read`` false and no half layer), each question's clean
margins and the recovery units (answer-balanced pairs, each used unit with its own recovery curves, so
per-seed or per-prompt half layers can be read back), so the fine-tuned report
(:mod:`.finetuned_report`) reads it without a model. :func:`read_recovery` refuses a file that is
not one in one clear line.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from jaxtyping import Float

from negprobe.activations.atomic import atomic_write_text
from negprobe.activations.fingerprint import read_json_object
from negprobe.errors import NegprobeError

from .belief_gate import EFFECT, NOTHING, BeliefGate
from .cross_patching import CURVES, CrossPatching

FORMAT = "negprobe.cross_patching/1"


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(float(x)) else None


def cross_patching_json(result: CrossPatching) -> dict:
    """The JSON-ready dict of :func:`write_cross_patching`."""
    g = result.gate
    read = result.status == EFFECT  # a curve behind a failed gate is written without a half layer: never read
    curves = {name: {"recovery": [_num(v) for v in m.value], "ci_low": [_num(v) for v in m.ci_low],
                     "ci_high": [_num(v) for v in m.ci_high], "n_claims": m.n_claims, "n_rows": m.n_rows,
                     "read": read, "half_layer": result.half[name].layer if read else None,
                     "half_ci": [result.half[name].ci_low, result.half[name].ci_high] if read else None}
              for name, m in result.mean.items()}
    items = [{"adapter": it.adapter, "claim": it.claim, "item": it.item, "base_margin": it.base_margin,
              "tuned_margin": it.tuned_margin, "believer_yes": it.believer_yes} for it in result.items]
    unit_curves = iter([{name: [_num(v) for v in values[row]] for name, values in result.recovery.items()}
                   for row in range(sum(result.used))] if result.recovery else [])  # one row per used unit, in order
    units = [{"adapter": it.adapter, "claim": it.claim, "unit": it.item, "base_margin": it.base_margin,
              "tuned_margin": it.tuned_margin, "used": used, "recovery": next(unit_curves, None) if used else None}
             for it, used in zip(result.units, result.used)]
    return {"format": FORMAT, "measure": result.measure, "status": result.status, "reason": result.reason,
            "layers": list(result.layers),
            "n_layers": result.n_layers, "min_effect": result.min_effect,
            "gate": {"what": g.what, "measure": g.measure, "rise": g.rise, "ci_low": g.ci_low, "ci_high": g.ci_high,
                     "n_seeds": g.n_seeds, "n_units": g.n_units, "level": g.level, "status": g.status,
                     "line": g.line()},
            "curves": curves, "notes": list(result.notes), "items": items, "units": units}


def write_cross_patching(result: CrossPatching, path: str | Path) -> Path:
    """Write ``result`` as JSON to ``path`` atomically."""
    return atomic_write_text(Path(path), json.dumps(cross_patching_json(result), indent=1) + "\n")


@dataclass(frozen=True, eq=False)
class RecoveryCurve:
    """One curve of a ``cross_patching.json``: recovery per layer with CI, or the reason there is none."""

    curve: str
    status: str  # effect | nothing_to_localise
    reason: str
    gate: BeliefGate
    layers: Float[np.ndarray, " n"]
    value: Float[np.ndarray, " n"]
    low: Float[np.ndarray, " n"]
    high: Float[np.ndarray, " n"]
    half_layer: int | None  # None: never reaches half (or nothing localised)
    half_ci: tuple[int, int] | None
    n_claims: int


def _array(values, path: Path, what: str, n: int) -> np.ndarray:
    if not isinstance(values, list) or len(values) != n:
        raise NegprobeError(f"{path}: {what} is not a list of {n} numbers")
    try:
        return np.array([np.nan if v is None else float(v) for v in values])
    except (TypeError, ValueError):
        raise NegprobeError(f"{path}: {what} holds a value that is not a number") from None


def _gate(data: dict, path: Path) -> BeliefGate:
    g = data.get("gate")
    if not isinstance(g, dict):
        raise NegprobeError(f"{path}: no 'gate' object")
    try:
        return BeliefGate(str(g["what"]), str(g["measure"]), float(g["rise"]), float(g["ci_low"]), float(g["ci_high"]),
                          int(g["n_seeds"]), int(g["n_units"]), float(g.get("level", 0.95)))
    except (TypeError, KeyError, ValueError):
        raise NegprobeError(f"{path}: 'gate' lacks rise / ci_low / ci_high / n_seeds / n_units") from None


def read_recovery(path: str | Path, curve: str = CURVES[1]) -> RecoveryCurve:
    """``curve`` (default: tuned -> base, all positions) of a file :func:`write_cross_patching` wrote."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise NegprobeError(f"{path}: cross-patching JSON not found")
    data = read_json_object(path)
    if data.get("format") != FORMAT or data.get("status") not in (EFFECT, NOTHING):
        raise NegprobeError(f"{path}: not a cross-patching JSON (format {FORMAT!r} with a status expected)")
    gate, status, reason = _gate(data, path), str(data["status"]), str(data.get("reason", ""))
    layers = _array(data.get("layers"), path, "'layers'", len(data.get("layers") or []))
    if status == EFFECT and not gate.passed:
        raise NegprobeError(f"{path}: status {EFFECT!r} but its gate's CI is not above 0")
    entry = (data.get("curves") or {}).get(curve)
    if status == NOTHING and not isinstance(entry, dict):
        nan = np.full(len(layers), np.nan)
        return RecoveryCurve(curve, status, reason or gate.reason, gate, layers, nan, nan, nan, None, None, 0)
    if not isinstance(entry, dict):
        raise NegprobeError(f"{path}: no curve {curve!r}")
    value, low, high = (_array(entry.get(k), path, f"{curve} {k}", len(layers)) for k in ("recovery", "ci_low", "ci_high"))
    n_layers, half = int(data.get("n_layers", len(layers))), entry.get("half_layer")
    ci = entry.get("half_ci")
    if status == NOTHING:  # a curve computed despite a failed gate: drawn, never read
        return RecoveryCurve(curve, status, reason or gate.reason, gate, layers, value, low, high, None, None,
                             int(entry.get("n_claims", 0)))
    return RecoveryCurve(curve, status, reason, gate, layers, value, low, high,
                         None if half is None or int(half) >= n_layers else int(half),
                         (int(ci[0]), int(ci[1])) if isinstance(ci, list) and len(ci) == 2 else None,
                         int(entry.get("n_claims", 0)))
