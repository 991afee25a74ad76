"""The pictures of an evaluation report, drawn headless with matplotlib and scikit-learn's displays.

Each function saves one PNG at `path` and closes its figure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

#: Dots per inch of every saved picture.
DPI = 100


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure, path: Path) -> None:
    figure.tight_layout(rect=(0, 0, 1, 0.96))  # room for the figure title
    figure.savefig(path, dpi=DPI, bbox_inches="tight")  # nothing cut off at the edges
    _pyplot().close(figure)


def confusion_matrix(counts: list, normalised: list, classes: list[str], path: Path, title: str):
    """Counts beside the row-normalised matrix (each true class's row sums to 1)."""
    from sklearn.metrics import ConfusionMatrixDisplay

    plt = _pyplot()
    size = max(4.0, 0.45 * len(classes) + 2.5)
    figure, axes = plt.subplots(1, 2, figsize=(2 * size, size))
    for axis, matrix, name, fmt in (
        (axes[0], np.asarray(counts), "counts", "d"),
        (axes[1], np.asarray(normalised), "row-normalised (recall on the diagonal)", ".2f"),
    ):
        ConfusionMatrixDisplay(matrix, display_labels=classes).plot(
            ax=axis, values_format=fmt, colorbar=False, cmap="Blues"
        )
        axis.set_title(name)
    figure.suptitle(title)
    _save(figure, path)


def mistakes_grid(
    mistakes: list[dict[str, Any]], images: np.ndarray, classes: list[str], path: Path, title: str
) -> None:
    """The most confidently wrong examples as images, each titled true / predicted (probability)."""
    plt = _pyplot()
    shown = max(len(mistakes), 1)
    columns = min(shown, 8)
    rows = -(-shown // columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(1.6 * columns, 1.9 * rows + 0.4), squeeze=False
    )
    for axis in axes.flat:
        axis.axis("off")
    for axis, mistake in zip(axes.flat, mistakes):
        image = np.asarray(images[mistake["index"]], dtype=np.float64)
        image = image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image
        axis.imshow(image, cmap="gray" if image.ndim == 2 else None)
        axis.set_title(
            f"true {classes[mistake['true']]}\npred {classes[mistake['predicted']]} "
            f"({mistake['probability']:.0%})",
            fontsize=8,
        )
    if not mistakes:
        axes.flat[0].text(0.5, 0.5, "no mistakes", ha="center", va="center")
    figure.suptitle(title, fontsize=10)
    _save(figure, path)


def reliability(calibration: dict[str, Any], path: Path, title: str) -> None:
    """Accuracy against confidence per bin (bars) beside the diagonal of perfect calibration, with
    the expected calibration error, and how many examples each bin holds."""
    plt = _pyplot()
    edges = np.asarray(calibration["bin_edges"])
    counts = np.asarray(calibration["bin_counts"])
    filled = counts > 0
    centres = (edges[:-1] + edges[1:]) / 2
    width = edges[1] - edges[0]
    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(5, 5.6), gridspec_kw={"height_ratios": [3, 1]}, sharex=True
    )
    top.bar(centres[filled], calibration["bin_accuracy"], width=width * 0.9, label="accuracy")
    top.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfectly calibrated")
    top.plot(
        centres[filled],
        calibration["bin_confidence"],
        "_",
        color="C1",
        markersize=20,
        markeredgewidth=3,
        label="mean confidence in the bin",
    )
    top.set_ylabel("accuracy in the bin")
    top.set_ylim(0, 1)
    top.legend(loc="upper left")
    top.set_title(
        f"{title}\nexpected calibration error {calibration['expected_calibration_error']:.4f}"
    )
    bottom.bar(centres, counts, width=width * 0.9, color="C2")
    bottom.set_yscale("log" if counts.max() > 100 * max(counts[filled].min(), 1) else "linear")
    bottom.set_xlabel("confidence (probability of the predicted class)")
    bottom.set_ylabel("examples")
    bottom.set_xlim(0, 1)
    _save(figure, path)


def roc_and_pr(labels: np.ndarray, probability: np.ndarray, path: Path, title: str) -> None:
    """The ROC curve and the precision-recall curve, each with its area."""
    from sklearn.metrics import PrecisionRecallDisplay, RocCurveDisplay

    plt = _pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    RocCurveDisplay.from_predictions(labels, probability, ax=axes[0], plot_chance_level=True)
    PrecisionRecallDisplay.from_predictions(labels, probability, ax=axes[1], plot_chance_level=True)
    axes[0].set_title("ROC")
    axes[1].set_title("precision-recall")
    figure.suptitle(title)
    _save(figure, path)


def regression(targets: np.ndarray, predicted: np.ndarray, path: Path, title: str) -> None:
    """Predicted against true values beside the residuals against the predicted values."""
    from sklearn.metrics import PredictionErrorDisplay

    plt = _pyplot()
    targets = np.asarray(targets, dtype=np.float64).reshape(-1)
    predicted = np.asarray(predicted, dtype=np.float64).reshape(-1)
    figure, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    PredictionErrorDisplay.from_predictions(
        targets, predicted, kind="actual_vs_predicted", ax=axes[0], subsample=None
    )
    PredictionErrorDisplay.from_predictions(
        targets, predicted, kind="residual_vs_predicted", ax=axes[1], subsample=None
    )
    axes[0].set_title("predicted vs true")
    axes[1].set_title("residuals")
    figure.suptitle(title)
    _save(figure, path)
