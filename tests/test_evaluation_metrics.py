"""The numbers of evaluation reports against small cases checked by hand."""

import numpy as np
import pytest

from modelzoo.evaluation import metrics


def one_hot_probabilities(predicted, classes, confidence=1.0):
    """Rows giving `confidence` to the predicted class and the rest spread evenly."""
    rest = (1.0 - confidence) / (classes - 1)
    rows = np.full((len(predicted), classes), rest)
    rows[np.arange(len(predicted)), predicted] = confidence
    return rows


def test_three_class_confusion_matrix_and_per_class_scores():
    labels = [0, 0, 0, 1, 1, 2]
    predicted = [0, 0, 1, 1, 2, 2]
    report = metrics.classification(np.array(labels), one_hot_probabilities(predicted, 3))
    # rows are true classes, columns predicted: worked out by hand from the pairs above
    assert report["confusion_matrix"] == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    assert np.allclose(
        report["confusion_matrix_normalised"], [[2 / 3, 1 / 3, 0], [0, 0.5, 0.5], [0, 0, 1]]
    )
    assert report["accuracy"] == pytest.approx(4 / 6)
    rows = {row["class"]: row for row in report["per_class"]}
    # class 1: predicted twice, right once; truly 2 examples, found once
    assert rows["1"]["precision"] == pytest.approx(0.5)
    assert rows["1"]["recall"] == pytest.approx(0.5)
    assert rows["0"]["precision"] == pytest.approx(1.0)
    assert rows["0"]["recall"] == pytest.approx(2 / 3)
    assert rows["0"]["f1"] == pytest.approx(0.8)
    assert rows["2"]["precision"] == pytest.approx(0.5)
    assert [rows[c]["support"] for c in "012"] == [3, 2, 1]


def test_perfect_classifier():
    labels = np.array([0, 1, 2, 2, 1])
    report = metrics.classification(labels, one_hot_probabilities(labels, 3))
    assert report["accuracy"] == 1.0
    assert report["macro_f1"] == 1.0
    assert np.array_equal(np.diag(report["confusion_matrix"]), [1, 2, 2])
    assert report["calibration"]["expected_calibration_error"] == pytest.approx(0.0)
    assert metrics.most_confident_mistakes(labels, one_hot_probabilities(labels, 3), 5) == []


def test_constant_classifier():
    labels = np.array([0, 0, 1, 1, 2, 2, 2, 2])
    report = metrics.classification(labels, one_hot_probabilities(np.full(8, 2), 3, 0.9))
    assert report["accuracy"] == pytest.approx(0.5)
    assert report["confusion_matrix"] == [[0, 0, 2], [0, 0, 2], [0, 0, 4]]
    rows = report["per_class"]
    assert (
        rows[0]["precision"] == 0.0 and rows[0]["recall"] == 0.0
    )  # never predicted: 0, no warning
    assert rows[2]["recall"] == 1.0 and rows[2]["precision"] == pytest.approx(0.5)
    # always 90% sure and right half the time: off by 0.4 in the one filled bin
    assert report["calibration"]["expected_calibration_error"] == pytest.approx(0.4)
    counts = report["calibration"]["bin_counts"]
    assert sum(counts) == 8 and counts.count(0) == 9


def test_auc_of_a_known_ranking():
    labels = np.array([0, 0, 1, 1])
    probability = np.array([0.1, 0.4, 0.35, 0.8])
    report = metrics.binary(labels, probability)
    # of the 4 (positive, negative) pairs, 3 are ranked right: 0.35 < 0.4 is the one wrong
    assert report["roc_auc"] == pytest.approx(0.75)
    assert metrics.binary(labels, np.array([0.1, 0.2, 0.3, 0.4]))["roc_auc"] == 1.0
    assert report["at_threshold"]["confusion_matrix"] == [[2, 0], [1, 1]]


def test_dev_threshold_is_chosen_on_dev_only():
    dev_labels, dev_p = np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.3, 0.35])
    test_labels, test_p = np.array([0, 1]), np.array([0.6, 0.7])
    report = metrics.binary(test_labels, test_p, dev=(dev_labels, dev_p))
    assert report["dev_threshold"] == pytest.approx(0.3)  # separates dev perfectly
    # on test, 0.3 calls both positive; the best threshold on test (0.7) would be 1.0
    assert report["at_dev_threshold"]["accuracy"] == pytest.approx(0.5)
    assert report["at_threshold"]["confusion_matrix"] == [[0, 1], [0, 1]]


def test_dev_threshold_is_the_smallest_with_the_best_accuracy_ties_included():
    """Against the definition, accuracy at every candidate threshold, on probabilities with ties
    (rounded to 2 places) and balanced and one-class label sets."""
    rng = np.random.default_rng(0)
    for labels in (
        rng.integers(0, 2, 300),
        np.zeros(50, dtype=int),
        np.ones(50, dtype=int),
        np.array([1, 0]),
    ):
        probability = np.round(np.clip(0.3 * labels + rng.random(len(labels)) * 0.7, 0, 1), 2)
        candidates = np.unique(np.append(probability, 0.5))
        accuracy = [np.mean((probability >= t) == labels) for t in candidates]
        assert metrics.best_threshold(labels, probability) == candidates[np.argmax(accuracy)]
    # A positive exactly at the threshold counts as called positive: 0.8 gets both right.
    assert metrics.best_threshold(np.array([0, 1]), np.array([0.6, 0.8])) == 0.8
    # A label that is neither 0 nor 1 is never right, as scikit-learn's accuracy had it.
    # (Counted as negatives, the two 2s would make 0.5 the best.)
    assert metrics.best_threshold(np.array([2, 2, 1]), np.array([0.2, 0.3, 0.1])) == 0.1
    with pytest.raises(ValueError, match="as many probabilities as labels"):
        metrics.best_threshold(np.array([0, 1]), np.array([0.5]))


def test_ece_of_a_calibrated_toy():
    # in each bin, the share right equals the confidence: 60% sure, right 3 of 5; 90% sure, 9 of 10
    confidence = np.array([0.65] * 20 + [0.95] * 20)
    correct = np.array([1] * 13 + [0] * 7 + [1] * 19 + [0] * 1)
    report = metrics.calibration(correct, confidence)
    assert report["expected_calibration_error"] == pytest.approx(0.0)
    assert report["bin_counts"][6] == 20 and report["bin_counts"][9] == 20
    # a toy 10 points over-confident in both bins
    shifted = metrics.calibration(correct, confidence + 0.04)
    assert shifted["expected_calibration_error"] == pytest.approx(0.04)


def test_regression_errors():
    report = metrics.regression(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.5, 2.0]))
    assert report["mse"] == pytest.approx((0 + 0.25 + 1) / 3)
    assert report["mae"] == pytest.approx(1.5 / 3)


def test_scores_become_probabilities_and_mistakes_are_ordered():
    logits = np.array([[2.0, -1.0, 0.0], [0.0, 3.0, -2.0], [5.0, 0.0, 0.0]])
    probabilities, made = metrics.as_probabilities(logits, "logits")
    assert made and np.allclose(probabilities.sum(axis=1), 1.0)
    mistakes = metrics.most_confident_mistakes(np.array([1, 0, 2]), probabilities, 2)
    assert [m["index"] for m in mistakes] == [2, 1]  # the 5.0 logit is the surest mistake
    assert mistakes[0]["true"] == 2 and mistakes[0]["predicted"] == 0
