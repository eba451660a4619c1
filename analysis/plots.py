"""Plotting helpers shared by the reports: matplotlib on Agg, offline plotly pages.

Sweep figures live in :mod:`.sweep_report`; the localize report draws its own with these helpers.
"""

from __future__ import annotations

from pathlib import Path


def pyplot():
    """matplotlib's pyplot on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_html(fig, path: Path) -> None:
    """An interactive plotly page; plotly.js is written once into the same folder (works offline)."""
    fig.write_html(str(path), include_plotlyjs="directory", full_html=True)
