"""Evaluate a target on a data set's split and write its report (what `modelzoo evaluate` does)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from modelzoo.errors import UsageError
from modelzoo.evaluation import examples as examples_module
from modelzoo.evaluation.report import Evaluated, write_report
from modelzoo.evaluation.target import Target, default_out, resolve


def prepare(target_text: str, data: str | None, split: str) -> tuple[Target, str]:
    """The target and the data set to score it on, checked against each other (no TensorFlow)."""
    if split not in examples_module.SPLITS:
        raise UsageError(
            f"--split must be one of {', '.join(examples_module.SPLITS)}, not {split!r}"
        )
    target = resolve(target_text)
    data = data or target.data
    if not data:
        raise UsageError(
            f"{target.description} does not say what it was trained on: give --data NAME"
        )
    examples_module.check_contract(target, data)
    return target, data


def score(
    target: Target,
    data: str,
    split: str,
    out: str | os.PathLike | None = None,
    mirror: str | os.PathLike | None = None,
) -> tuple[dict[str, Any], Path]:
    """Predict the split's examples, write the report into `out` (default evaluations/<target>/<data>-<split>)
    and return report.json's content and the folder."""
    examples = examples_module.load(target, data, split, mirror)
    outputs = target.predict(examples.inputs)
    dev = None
    if examples.dev is not None:
        dev = (examples.dev[1], target.predict(examples.dev[0]))
    about: dict[str, Any] = {
        "target": target.description,
        "data": data,
        "split": split,
        "model": {"input": str(target.input), "output": str(target.output)},
    }
    recorded = target.recorded.get(split) if data == target.data else None
    if recorded:
        about["recorded"] = recorded
    evaluated = Evaluated(
        examples.task,
        examples.targets,
        outputs,
        target.output.name,
        examples.inputs,
        examples.class_names,
        dev,
        about,
    )
    folder = Path(out) if out is not None else default_out(target, data, split)
    title = f"{target.label} on {data} ({split})"
    return write_report(folder, evaluated, title), folder
