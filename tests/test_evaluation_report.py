"""Evaluation reports for each kind of target: report.json, report.md and valid PNGs."""

import json
import struct

import numpy as np
import pytest

from modelzoo.evaluation.report import REPORT_JSON, REPORT_MD, Evaluated, summary, write_report

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path):
    """(width, height) from a PNG's IHDR chunk; fails on anything that is not a PNG."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def check_pictures(folder, report, expected):
    assert set(report["pictures"]) == set(expected)
    markdown = (folder / REPORT_MD).read_text()
    for name, file in report["pictures"].items():
        width, height = png_size(folder / file)
        assert 200 <= width <= 3000 and 200 <= height <= 3000, (name, width, height)
        assert (folder / file).stat().st_size > 2000  # something is drawn
        assert f"]({file})" in markdown


def test_class_report_with_images(tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 200)
    logits = rng.normal(size=(200, 10))
    logits[np.arange(200), labels] += 2.0
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    images = rng.integers(0, 256, (200, 28, 28, 1), dtype=np.uint8)
    evaluated = Evaluated(
        "class", labels, probabilities, "probabilities", images, about={"data": "toy"}
    )
    report = write_report(tmp_path, evaluated, "toy digits")
    check_pictures(tmp_path, report, {"confusion_matrix", "mistakes", "reliability"})
    assert json.loads((tmp_path / REPORT_JSON).read_text()) == report
    assert report["classification"]["accuracy"] == pytest.approx(
        np.mean(probabilities.argmax(1) == labels)
    )
    assert len(report["mistakes"]) == 24
    assert "| class | precision |" in (tmp_path / REPORT_MD).read_text()
    assert summary(report)[0].startswith("200 examples: accuracy")


def test_binary_report_with_dev_threshold(tmp_path):
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 150)
    probability = np.clip(labels * 0.3 + rng.uniform(0, 0.7, 150), 0, 1)[:, None]
    dev = (labels[:50], probability[:50])
    evaluated = Evaluated(
        "binary", labels[:, None].astype(float), probability, "probability", dev=dev
    )
    report = write_report(tmp_path, evaluated, "toy binary")
    check_pictures(tmp_path, report, {"confusion_matrix", "reliability", "roc_pr"})
    binary = report["binary"]
    assert 0.5 < binary["roc_auc"] <= 1.0
    assert "dev_threshold" in binary and "at_dev_threshold" in binary
    assert "best on dev" in (tmp_path / REPORT_MD).read_text()


def test_regression_report(tmp_path):
    targets = np.linspace(0, 10, 40)[:, None]
    evaluated = Evaluated("value", targets, targets * 1.1 + 0.5, "value")
    report = write_report(tmp_path, evaluated, "toy line")
    check_pictures(tmp_path, report, {"regression"})
    assert report["regression"]["mae"] == pytest.approx(np.mean(np.abs(targets * 0.1 + 0.5)))
    assert "MSE" in summary(report)[0]
