"""The localize report's findings box: one line per question a researcher asks of the run, each
answered from a gated statistic (with n and CI) and linked to the figure that shows it."""

from __future__ import annotations

import pandas as pd

from .causal_findings import causal_findings
from .report_decodability import decodability_findings
from .report_figures import Finding
from .report_page import gate_findings
from .results import LocalizeResult

PREREQUISITE = "Behavioural prerequisite"
PATCHING = "Claim-token patching"
DECODABILITY = "Annotation decodability (matched contrasts)"
READOUTS = "Truth readouts"


def _fine_tuned_line(result: LocalizeResult, layers: pd.DataFrame) -> str:
    """Flip layers of the bare claim in each fine-tuned model (primary reader, only where it passes its gate)."""
    if not result.config.adapters:
        return "No fine-tuned adapter given (negprobe localize --adapters CONDITION=FOLDER)."
    if not result.primary_gate.passed.any():
        return (f"Not measurable here: the primary truth reader ({result.primary}) fails its validity gate at every "
                "layer, so no readout of the fine-tuned models is a finding.")
    rows = layers.loc[layers["statistic"].str.contains("bare claim, fine-tuned")]
    parts = [f"{r.statistic}: layer {r.layer} [{r.ci_low}, {r.ci_high}]" for r in rows.itertuples()
             if not pd.isna(r.layer)]
    return "; ".join(parts) or "The bare claim never reads true in any fine-tuned model."


def findings(result: LocalizeResult, layers: pd.DataFrame, rho_text: str) -> list[Finding]:
    """The findings box, in the order a reader asks: effect? where? present? fine-tuned? readouts? belief?"""
    causal = causal_findings(result.causal)
    box = [Finding("Is there an in-context effect to localise?", line, PREREQUISITE)
           for line in causal if line.startswith("In-context effect")]
    box += [Finding("Where does it act?", line, "Steering" if line.startswith("Steering") else PATCHING)
            for line in causal if not line.startswith(("In-context effect", "Grid:"))]
    if result.causal.steering is None:
        box.append(Finding("Where does it act?", f"Steering not run: the primary truth reader ({result.primary}) fails "
                           "its validity gate at its best layer, so its direction is not a validated truth direction.",
                           None))
    box += [Finding("Is the annotation present in the representation?", line, DECODABILITY)
            for line in decodability_findings(result.curves)]
    box.append(Finding("Where is it lost in fine-tuning?", _fine_tuned_line(result, layers), READOUTS))
    box.append(Finding("Which readouts pass their gate?", "; ".join(gate_findings(result)) + ".", None))
    box.append(Finding("Belief beside readout", rho_text or "No belief table joined (negprobe belief --out FILE, then "
                       "--belief-csv FILE), or too few rows for a rank correlation.", None))
    return box
