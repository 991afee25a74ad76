"""The numbers of an evaluation report, from true targets and a model's outputs (scikit-learn's metrics).

Every function takes NumPy arrays and returns plain JSON data (floats, ints, lists): a report is
written from it without the model. `classification` scores class probabilities, `binary` a single
probability of class 1, `regression` predicted values.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Equal-width confidence bins of the reliability diagram and the expected calibration error.
CALIBRATION_BINS = 10


def classification(
    labels: np.ndarray, probabilities: np.ndarray, class_names: list[str] | None = None
) -> dict[str, Any]:
    """Accuracy, per-class precision / recall / F1 / support, the confusion matrix (counts and
    row-normalised) and the top-label calibration of `probabilities` (examples x classes)."""
    from sklearn import metrics

    labels = np.asarray(labels).astype(int).reshape(-1)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    classes = probabilities.shape[1]
    names = list(class_names) if class_names else [str(c) for c in range(classes)]
    predicted = probabilities.argmax(axis=1)
    every = list(range(classes))
    precision, recall, f1, support = metrics.precision_recall_fscore_support(
        labels, predicted, labels=every, zero_division=0
    )
    counts = metrics.confusion_matrix(labels, predicted, labels=every)
    with np.errstate(invalid="ignore", divide="ignore"):
        normalised = np.nan_to_num(counts / counts.sum(axis=1, keepdims=True))
    confidence = probabilities.max(axis=1)
    return {
        "examples": int(len(labels)),
        "accuracy": float(metrics.accuracy_score(labels, predicted)),
        "classes": names,
        "per_class": [
            {
                "class": name,
                "precision": float(p),
                "recall": float(r),
                "f1": float(f),
                "support": int(s),
            }
            for name, p, r, f, s in zip(names, precision, recall, f1, support)
        ],
        "macro_f1": float(
            metrics.f1_score(labels, predicted, labels=every, average="macro", zero_division=0)
        ),
        "confusion_matrix": counts.tolist(),
        "confusion_matrix_normalised": normalised.tolist(),
        "calibration": calibration(predicted == labels, confidence),
    }


def calibration(correct: np.ndarray, confidence: np.ndarray, bins: int = CALIBRATION_BINS) -> dict:
    """The reliability diagram's bins (sklearn's `calibration_curve`, equal widths) and the
    expected calibration error: the example-weighted mean gap between accuracy and confidence."""
    from sklearn.calibration import calibration_curve

    correct = np.asarray(correct, dtype=int).reshape(-1)
    confidence = np.clip(np.asarray(confidence, dtype=np.float64).reshape(-1), 0.0, 1.0)
    edges = np.linspace(0.0, 1.0, bins + 1)
    # The same bin of each example as calibration_curve gives it; it returns non-empty bins only.
    counts = np.bincount(np.searchsorted(edges[1:-1], confidence), minlength=bins)
    accuracy, mean_confidence = calibration_curve(correct, confidence, n_bins=bins, pos_label=1)
    filled = counts[counts > 0]
    ece = float(np.sum(filled / filled.sum() * np.abs(accuracy - mean_confidence)))
    return {
        "bins": bins,
        "expected_calibration_error": ece,
        "bin_edges": edges.tolist(),
        "bin_counts": counts.tolist(),
        "bin_accuracy": accuracy.tolist(),
        "bin_confidence": mean_confidence.tolist(),
    }


def binary(
    labels: np.ndarray,
    probability: np.ndarray,
    *,
    threshold: float = 0.5,
    dev: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict[str, Any]:
    """ROC and precision-recall curves with their areas, and the confusion matrix at the model's
    `threshold` and at the threshold that maximises accuracy on `dev` (labels, probability) —
    never one chosen on the examples scored."""
    from sklearn import metrics

    labels = np.asarray(labels).astype(int).reshape(-1)
    probability = np.asarray(probability, dtype=np.float64).reshape(-1)
    report: dict[str, Any] = {"threshold": threshold}
    both = len(np.unique(labels)) == 2
    if both:
        fpr, tpr, _ = metrics.roc_curve(labels, probability)
        precision, recall, _ = metrics.precision_recall_curve(labels, probability)
        report.update(
            roc_auc=float(metrics.roc_auc_score(labels, probability)),
            average_precision=float(metrics.average_precision_score(labels, probability)),
            roc_curve={"fpr": fpr.tolist(), "tpr": tpr.tolist()},
            pr_curve={"precision": precision.tolist(), "recall": recall.tolist()},
        )
    report["at_threshold"] = at_threshold(labels, probability, threshold)
    if dev is not None:
        chosen = best_threshold(*dev)
        report["dev_threshold"] = chosen
        report["at_dev_threshold"] = at_threshold(labels, probability, chosen)
    return report


def at_threshold(labels: np.ndarray, probability: np.ndarray, threshold: float) -> dict[str, Any]:
    """Accuracy and the 2x2 confusion matrix ([[tn, fp], [fn, tp]]) of `probability >= threshold`."""
    from sklearn import metrics

    predicted = (np.asarray(probability).reshape(-1) >= threshold).astype(int)
    labels = np.asarray(labels).astype(int).reshape(-1)
    return {
        "threshold": float(threshold),
        "accuracy": float(metrics.accuracy_score(labels, predicted)),
        "confusion_matrix": metrics.confusion_matrix(labels, predicted, labels=[0, 1]).tolist(),
    }


def best_threshold(labels: np.ndarray, probability: np.ndarray) -> float:
    """The threshold with the highest accuracy on these examples (the smallest such, among the
    probabilities themselves and 0.5); meant for dev, never for the split reported."""
    labels = np.asarray(labels).astype(int).reshape(-1)
    probability = np.asarray(probability, dtype=np.float64).reshape(-1)
    if len(labels) == 0 or len(labels) != len(probability):
        raise ValueError(
            f"best_threshold needs as many probabilities as labels, at least one: got "
            f"{len(probability)} and {len(labels)}"
        )
    candidates = np.unique(np.append(probability, 0.5))  # ascending
    # Right at t: the positives with p >= t and the negatives with p < t, counted for every
    # candidate at once from the sorted probabilities (n log n, not a pass over n per candidate).
    positives = np.sort(probability[labels == 1])
    negatives = np.sort(probability[labels == 0])
    right = (
        len(positives)
        - np.searchsorted(positives, candidates, side="left")
        + np.searchsorted(negatives, candidates, side="left")
    )
    return float(candidates[int(np.argmax(right))])


def regression(targets: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    """MSE, MAE, R² and the residuals' mean and spread."""
    from sklearn import metrics

    targets = np.asarray(targets, dtype=np.float64).reshape(-1)
    predicted = np.asarray(predicted, dtype=np.float64).reshape(-1)
    residuals = targets - predicted
    return {
        "examples": int(len(targets)),
        "mse": float(metrics.mean_squared_error(targets, predicted)),
        "mae": float(metrics.mean_absolute_error(targets, predicted)),
        "r2": float(metrics.r2_score(targets, predicted)) if len(targets) > 1 else None,
        "residual_mean": float(residuals.mean()),
        "residual_std": float(residuals.std()),
    }


def most_confident_mistakes(
    labels: np.ndarray, probabilities: np.ndarray, count: int
) -> list[dict[str, Any]]:
    """The `count` wrong predictions with the highest predicted probability, most confident first:
    index, true label, predicted label and its probability."""
    labels = np.asarray(labels).astype(int).reshape(-1)
    probabilities = np.asarray(probabilities)
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != labels)
    confidence = probabilities[wrong, predicted[wrong]]
    order = wrong[np.argsort(-confidence, kind="stable")][:count]
    return [
        {
            "index": int(i),
            "true": int(labels[i]),
            "predicted": int(predicted[i]),
            "probability": float(probabilities[i, predicted[i]]),
        }
        for i in order
    ]


def as_probabilities(outputs: np.ndarray, key: str) -> tuple[np.ndarray, bool]:
    """Class probabilities from a classifier's outputs, and whether they had to be made: scores or
    logits (rows that are not already distributions) go through a softmax."""
    outputs = np.asarray(outputs, dtype=np.float64)
    if outputs.ndim == 1 or outputs.shape[1] == 1:
        p = outputs.reshape(-1)
        return np.stack([1.0 - p, p], axis=1), False
    is_distribution = key == "probabilities" or (
        outputs.min() >= 0 and np.allclose(outputs.sum(axis=1), 1.0, atol=1e-3)
    )
    if is_distribution:
        return outputs, False
    from scipy.special import softmax

    return softmax(outputs, axis=1), True
