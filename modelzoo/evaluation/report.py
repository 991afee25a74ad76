"""An evaluation report: its numbers (`metrics`) and pictures (`plots`) written into a folder as
`report.json` (every number) and `report.md` (a summary that embeds the PNGs).

`write_report` takes the true targets and the model's outputs of one evaluation, so a run writes
its report from the predictions of its one test evaluation, and `modelzoo evaluate` from any model's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from modelzoo.evaluation import metrics, plots

REPORT_JSON, REPORT_MD = "report.json", "report.md"
#: The most confidently wrong examples kept in report.json and shown in the mistakes grid.
MISTAKES = 24
#: Task names: a data set's target kind ("class", "binary", "value").
TASKS = ("class", "binary", "value")


@dataclass
class Evaluated:
    """One evaluation's examples and outputs: what a report is written from.

    `task` is the data set's target kind; `outputs` the model's (probabilities, scores or logits of
    each class; a probability of class 1; a value), named `output_key` as its signature names them;
    `inputs` the examples (images are drawn in the mistakes grid); `dev`, (labels, outputs) on
    dev, where a binary model's best threshold is chosen.
    """

    task: str
    targets: np.ndarray
    outputs: np.ndarray
    output_key: str = ""
    inputs: np.ndarray | None = None
    class_names: list[str] | None = None
    dev: tuple[np.ndarray, np.ndarray] | None = None
    about: dict[str, Any] = field(default_factory=dict)


def numbers(evaluated: Evaluated) -> dict[str, Any]:
    """Every number of the report (report.json's content, less its pictures)."""
    task = evaluated.task
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    report: dict[str, Any] = {"task": task, **evaluated.about}
    if task == "value":
        report["regression"] = metrics.regression(evaluated.targets, evaluated.outputs)
        return report
    probabilities, made = metrics.as_probabilities(evaluated.outputs, evaluated.output_key)
    if made:
        report["probabilities"] = "the model's scores turned into probabilities by a softmax"
    names = evaluated.class_names
    if task == "binary" and not names:
        names = ["0", "1"]
    report["classification"] = metrics.classification(evaluated.targets, probabilities, names)
    report["mistakes"] = metrics.most_confident_mistakes(evaluated.targets, probabilities, MISTAKES)
    if task == "binary":
        dev = evaluated.dev
        report["binary"] = metrics.binary(
            evaluated.targets,
            probabilities[:, 1],
            dev=None if dev is None else (dev[0], np.asarray(dev[1]).reshape(-1)),
        )
    return report


def write_report(folder: str | Path, evaluated: Evaluated, title: str) -> dict[str, Any]:
    """Write the pictures, report.json and report.md into `folder`; return report.json's content."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    report = numbers(evaluated)
    pictures: dict[str, str] = {}

    def picture(name: str, draw, *args) -> None:
        draw(*args, folder / name, title)
        pictures[name.removesuffix(".png")] = name

    if evaluated.task == "value":
        picture("regression.png", plots.regression, evaluated.targets, evaluated.outputs)
    else:
        scores = report["classification"]
        picture(
            "confusion_matrix.png",
            plots.confusion_matrix,
            scores["confusion_matrix"],
            scores["confusion_matrix_normalised"],
            scores["classes"],
        )
        if _are_images(evaluated.inputs):
            picture(
                "mistakes.png",
                plots.mistakes_grid,
                report["mistakes"],
                evaluated.inputs,
                scores["classes"],
            )
        picture("reliability.png", plots.reliability, scores["calibration"])
        if "roc_auc" in report.get("binary", {}):
            labels = np.asarray(evaluated.targets).reshape(-1)
            probability = metrics.as_probabilities(evaluated.outputs, "")[0][:, 1]
            picture("roc_pr.png", plots.roc_and_pr, labels, probability)
    report["pictures"] = pictures
    (folder / REPORT_JSON).write_text(json.dumps(report, indent=2) + "\n")
    (folder / REPORT_MD).write_text(markdown(report, title))
    return report


def _are_images(inputs: np.ndarray | None) -> bool:
    """Whether examples are pictures: height x width (x 1 or 3 channels)."""
    if inputs is None:
        return False
    shape = np.asarray(inputs).shape[1:]
    return len(shape) == 2 or (len(shape) == 3 and shape[-1] in (1, 3))


def summary(report: dict[str, Any]) -> list[str]:
    """The report's headline numbers, a line each (what `modelzoo evaluate` prints)."""
    lines = []
    if "regression" in report:
        r = report["regression"]
        lines.append(f"{r['examples']} examples: MSE {r['mse']:.6g}, MAE {r['mae']:.6g}")
        return lines
    c = report["classification"]
    lines.append(
        f"{c['examples']} examples: accuracy {c['accuracy']:.4f}, macro F1 {c['macro_f1']:.4f}, "
        f"expected calibration error {c['calibration']['expected_calibration_error']:.4f}"
    )
    b = report.get("binary")
    if b:
        if "roc_auc" in b:
            lines.append(
                f"ROC AUC {b['roc_auc']:.4f}, average precision {b['average_precision']:.4f}"
            )
        at = b["at_threshold"]
        lines.append(f"at threshold {at['threshold']:.3g}: accuracy {at['accuracy']:.4f}")
        if "at_dev_threshold" in b:
            at = b["at_dev_threshold"]
            lines.append(
                f"at threshold {at['threshold']:.3g} (best on dev): accuracy {at['accuracy']:.4f}"
            )
    worst = sorted(c["per_class"], key=lambda row: row["f1"])[:3]
    lines.append("lowest F1: " + ", ".join(f"{row['class']} {row['f1']:.3f}" for row in worst))
    return lines


def markdown(report: dict[str, Any], title: str) -> str:
    """report.md: the summary, the tables and the pictures, readable in any Markdown viewer."""
    out = [f"# {title}", ""]
    for key in ("target", "data", "split", "model"):
        if key in report:
            out.append(f"- {key}: {report[key]}")
    out += [f"- {line}" for line in summary(report)] + [""]
    if "classification" in report:
        c = report["classification"]
        out += ["| class | precision | recall | F1 | support |", "|---|---:|---:|---:|---:|"]
        out += [
            f"| {r['class']} | {r['precision']:.4f} | {r['recall']:.4f} | {r['f1']:.4f} "
            f"| {r['support']} |"
            for r in c["per_class"]
        ]
        out.append("")
    if "binary" in report:
        b = report["binary"]
        out += [
            "| threshold | accuracy | confusion matrix [[tn, fp], [fn, tp]] |",
            "|---|---:|---|",
        ]
        for key in ("at_threshold", "at_dev_threshold"):
            if key in b:
                at = b[key]
                how = "the model's" if key == "at_threshold" else "best on dev"
                out.append(
                    f"| {at['threshold']:.4g} ({how}) | {at['accuracy']:.4f} "
                    f"| {at['confusion_matrix']} |"
                )
        out.append("")
    captions = {
        "confusion_matrix": "Confusion matrix",
        "mistakes": "The most confidently wrong examples",
        "reliability": "Reliability diagram",
        "roc_pr": "ROC and precision-recall curves",
        "regression": "Predicted vs true, and residuals",
    }
    for name, file in report.get("pictures", {}).items():
        out += [f"## {captions.get(name, name)}", "", f"![{name}]({file})", ""]
    return "\n".join(out)
