"""The decodability report part: figure, CSV, drop-layer rows and findings lines from planted curves."""

from __future__ import annotations

import base64

import numpy as np
import pandas as pd
import pytest
import torch

from negprobe.analysis.contrasts import ContrastKey, matched_contrasts
from negprobe.analysis.plots import pyplot
from negprobe.analysis.report_decodability import (
    decodability_drop_rows,
    decodability_figure,
    decodability_findings,
    decodability_table,
    write_decodability_csv,
)
from tests.synthetic_stores import ALL_CONDITIONS, planted_store
from tests.tiny_models import tiny_tokenizer

NOTICE = ContrastKey("notice", "neutral", "restated claim")


@pytest.fixture(scope="module")
def curves():
    """Notice-only direction at layers 1..4 (strength 4); dense rows carry nothing; 'not' in the local claim."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    stores, records = {}, {}
    for i, read in enumerate(("document", "statement")):
        stores[read], records[read], _ = planted_store({"notice": (range(1, 5), 4.0)}, read=read, seed=i,
                                                       conditions=ALL_CONDITIONS)
    out = matched_contrasts(stores, tiny_tokenizer(), records, seed=0, n_boot=200, probe="mass_mean")
    torch.set_num_threads(threads)
    return out


def test_table_has_one_row_per_contrast_read_and_layer(curves, tmp_path):
    table = decodability_table(curves)
    assert len(curves) == 14 and len(table) == 14 * 8
    row = table.loc[(table["contrast"] == "notice vs neutral") & (table["read"] == "restated claim")]
    curve = curves[NOTICE]
    np.testing.assert_allclose(row["auroc"], curve.auroc.value)
    np.testing.assert_allclose(row["above_ci_low"], curve.above_baseline.ci_low)
    assert row["above"].tolist() == [False, True, True, True, True, False, False, False]
    assert (row["tokens_auroc"] == 0.5).all() and (row["n_folds"] == 6).all()
    assert set(table.loc[table["contrast"] == "neutral vs plain", "control"]) == {True}
    read_back = pd.read_csv(write_decodability_csv(curves, tmp_path))
    assert list(read_back.columns) == list(table.columns) and len(read_back) == len(table)


def test_drop_rows_carry_the_bootstrap_ci_of_the_statistic(curves):
    rows = {row.statistic: row for row in decodability_drop_rows(curves)}
    notice = rows["annotation drop layer (notice vs neutral, restated claim)"]
    assert (notice.layer, notice.ci_low, notice.ci_high) == (5, 5, 5)
    assert "last decodable layer 4 [95% CI 4, 4]" in notice.note and "presence, not use" in notice.note
    dense = rows["annotation drop layer (dense vs dense_neutral, document claim)"]
    assert dense.layer is None and "not decodable" in dense.note


def test_findings_one_line_per_annotation(curves):
    lines = decodability_findings(curves)
    assert [line.split(":")[0] for line in lines] == ["notice", "dense", "local"]
    notice, dense, local = lines
    assert notice.startswith("notice: notice vs neutral (6 claims): at the document claim ")
    assert "at the restated claim decodable above baseline at 4 of 8 layers" in notice
    assert "last decodable layer 4 [95% CI 4, 4]" in notice
    assert "dense vs dense_neutral" in dense and "not decodable" in dense
    assert all("not that the model uses it" in line for line in lines)


def test_figure_is_written(curves, tmp_path):
    plt = pyplot()
    figure = decodability_figure(plt, curves, tmp_path)
    png = (tmp_path / "decodability.png").read_bytes()
    assert png[:4] == b"\x89PNG" and base64.b64decode(figure.png_base64) == png
    assert "layer 0" in figure.caption and "not that the model uses it" in figure.caption


def test_a_curve_that_sags_without_a_half_peak_drop_is_not_called_decodable_at_the_last_layer(curves):
    """The half-peak drop statistic and the simultaneous band can disagree; the note says which holds."""
    from dataclasses import replace

    from negprobe.analysis.report_decodability import _never_dropped

    curve = curves[ContrastKey("notice", "plain", "document claim")]
    curve = replace(curve, decodable=np.ones_like(curve.decodable))
    assert _never_dropped(curve) == f"no drop through layer {curve.layers[-1]} (still decodable there)"
    sagging = replace(curve, decodable=np.r_[curve.decodable[:-1], False])
    note = _never_dropped(sagging)
    assert note.startswith(f"no drop below half its peak through layer {curve.layers[-1]}, but not decodable at layer")
    assert f"(AUROC {curve.auroc.value[-1]:.2f} [" in note
