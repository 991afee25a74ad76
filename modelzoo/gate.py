"""The publishing gate: a run's export becomes the served version only when it has earned it.

A recipe's `[publish]` table says what a new version must score on the test split:

    [publish]
    metric = "accuracy"   # "loss" or one of [train] metrics (default: accuracy if measured, else loss)
    minimum = 0.98        # the recipe's target (accuracy, auc); or `maximum` for loss-like metrics
    tolerance = 0.002     # how much worse than the served version's test score is still allowed

Blessed ("published") when all of these hold:

- the run tested on the recipe's whole test split (no `data.max_examples`: a subset's score says
  nothing about the target, which is defined on the whole split);
- its test metric meets the target, when the recipe has one;
- it is not worse than the served version (the newest integer version under `<export dir>/<name>/`)
  by more than `tolerance`, when that version was tested on the same data (same data set and
  test size in its card; otherwise the two scores are not compared, and the decision says so).

Otherwise the verified export is kept as a candidate, `<export dir>/<name>/candidates/<stamp>/`,
a folder no TF Serving or `modelzoo serve` picks up (not an integer name), and one line says why;
`publish_anyway` publishes it regardless (recorded in the card). A run whose weights are the
served version's, bit for bit (a sweep or run repeated with the same seed), publishes nothing:
there is nothing new to serve ("unchanged").

Checked and resolved before TensorFlow is imported (`settings_from`), like the rest of a recipe.
The served version is read once, before the export is staged: two runs publishing into one
model folder at the same moment are each compared with the version served when they looked.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from modelzoo import storage

#: Metrics where higher is better; every other one ("loss", errors) is better lower.
HIGHER_IS_BETTER = ("accuracy", "auc")
FIELDS = ("metric", "minimum", "maximum", "tolerance")


@dataclass(frozen=True)
class PublishSettings:
    """A recipe's [publish] table, resolved: the metric, its target (if any) and the tolerance."""

    metric: str
    minimum: float | None = None
    maximum: float | None = None
    tolerance: float = 0.0

    @property
    def higher_is_better(self) -> bool:
        return self.metric in HIGHER_IS_BETTER

    @property
    def target(self) -> str:
        """The target in words, e.g. 'accuracy >= 98.00%' ('' without one)."""
        if self.minimum is not None:
            return f"{self.metric} >= {_fmt(self.metric, self.minimum)}"
        if self.maximum is not None:
            return f"{self.metric} <= {_fmt(self.metric, self.maximum)}"
        return ""

    def meets_target(self, value: float) -> bool:
        if self.minimum is not None and not value >= self.minimum:
            return False
        return not (self.maximum is not None and not value <= self.maximum)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def settings_from(
    section: dict[str, Any], metrics: tuple[str, ...]
) -> tuple[PublishSettings | None, list[tuple[str, str]]]:
    """(settings, [(field, problem)]) of a recipe's [publish] table given its [train] metrics."""
    problems = []
    allowed = ("loss", *metrics)
    metric = section.get("metric", "accuracy" if "accuracy" in metrics else "loss")
    if metric not in allowed:
        problems.append(
            (
                "metric",
                f"must be a metric the run measures (train.metrics gives {', '.join(allowed)}), got {metric!r}",
            )
        )
    for key in ("minimum", "maximum", "tolerance"):
        value = section.get(key)
        if value is not None and (
            not isinstance(value, (int, float))
            or isinstance(value, bool)
            or not math.isfinite(value)
        ):
            problems.append((key, f"must be a finite number, got {value!r}"))
    if problems:
        return None, problems
    higher = metric in HIGHER_IS_BETTER
    if higher and "maximum" in section:
        problems.append(("maximum", f"{metric} is better higher: give its target as minimum"))
    if not higher and "minimum" in section:
        problems.append(("minimum", f"{metric} is better lower: give its target as maximum"))
    if section.get("tolerance", 0) < 0:
        problems.append(("tolerance", f"must be >= 0, got {section['tolerance']!r}"))
    if problems:
        return None, problems
    return PublishSettings(
        metric, section.get("minimum"), section.get("maximum"), float(section.get("tolerance", 0.0))
    ), []


def weights_fingerprint(model) -> str:
    """sha256 of the model's weights (shapes, dtypes and bytes, in order): equal for the same trained model."""
    digest = hashlib.sha256()
    for array in model.get_weights():
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def served(model_dir: Path) -> tuple[int, Path, dict[str, Any] | None] | None:
    """(version, folder, card or None) of the newest integer version under `model_dir`, or None."""
    version = storage.latest_version(model_dir)
    if version is None:
        return None
    folder = storage.version_path(model_dir, version)
    return version, folder, storage.read_card(folder)


def decide(
    settings: PublishSettings,
    card: dict[str, Any],
    *,
    max_examples: int | None,
    served_now: tuple[int, Path, dict[str, Any] | None] | None,
    publish_anyway: bool = False,
    formats: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The gate's record for a new export whose card is `card`: decision, reason and the numbers.

    "decision" is "published", "candidate" or "unchanged"; "reason" is one line. The served
    version's weights again are "unchanged" only when it also has every format in `formats`.
    """
    metric = settings.metric
    value = card["metrics"]["test"][metric]
    record: dict[str, Any] = {
        "metric": metric,
        "value": value,
        **{k: v for k, v in settings.to_dict().items() if k != "metric"},
        "served_version": None,
    }
    problems: list[str] = []
    notes: list[str] = []
    shown = f"test {metric} {_fmt(metric, value)}"
    if max_examples is not None:
        problems.append(
            f"tested on {card['data']['sizes']['test']} examples (data.max_examples = {max_examples}), "
            "not the whole test split the target is for"
        )
    if not settings.meets_target(value):
        problems.append(f"{shown} misses the recipe's target ({settings.target})")
    if served_now is not None:
        if _same_as_served(record, card, served_now, publish_anyway, formats):
            return record
        problems += _compare_with_served(record, settings, card, served_now, shown, notes)
    if not problems:
        decision, reason = "published", _published_reason(record, settings, shown, notes)
    elif publish_anyway:
        decision, reason = (
            "published",
            "published anyway (--publish-anyway): " + "; ".join(problems),
        )
    else:
        decision, reason = "candidate", "; ".join(problems)
    if notes:
        reason += "; " + "; ".join(notes)
    record.update(decision=decision, forced=bool(publish_anyway and problems), reason=reason)
    return record


def _same_as_served(
    record: dict, card: dict, served_now: tuple, publish_anyway: bool, formats=()
) -> bool:
    """Whether the new weights are the served version's and it has every format asked for (then
    the record says "unchanged")."""
    version, folder, served_card = served_now
    record["served_version"] = version
    fingerprint = card.get("publish", {}).get("weights_sha256")
    served_publish = (served_card or {}).get("publish") or {}
    if (
        fingerprint
        and served_publish.get("weights_sha256") == fingerprint
        and not publish_anyway
        and _has_formats(folder, formats)
    ):
        record.update(
            decision="unchanged",
            forced=False,
            reason=f"the same weights as served version {version} ({folder}); nothing new to serve",
        )
        return True
    return False


def _compare_with_served(
    record: dict, settings: PublishSettings, card: dict, served_now: tuple, shown: str, notes: list
) -> list[str]:
    """The problem, if any, of the new score against the served version's (when comparable)."""
    metric, value = settings.metric, record["value"]
    version, _, served_card = served_now
    comparable, why_not = _comparable(card, served_card, metric)
    if not comparable:
        record["served_not_compared"] = why_not
        notes.append(f"served version {version} not compared: {why_not}")
        return []
    served_value = served_card["metrics"]["test"][metric]
    record["served_value"] = served_value
    worse = served_value - value if settings.higher_is_better else value - served_value
    if worse > settings.tolerance + 1e-12:
        return [
            f"{shown} is worse than served version {version}'s {_fmt(metric, served_value)} "
            f"by more than the tolerance {_fmt(metric, settings.tolerance)}"
        ]
    return []


def _published_reason(record: dict, settings: PublishSettings, shown: str, notes: list) -> str:
    """Why a run with no problems is published: its target met, the served version matched."""
    metric, value = settings.metric, record["value"]
    reason = f"{shown}" + (f" meets the target ({settings.target})" if settings.target else "")
    if record.get("served_value") is not None:
        served_shown = (
            f"served version {record['served_version']}'s {_fmt(metric, record['served_value'])}"
        )
        better = (
            value >= record["served_value"]
            if settings.higher_is_better
            else value <= record["served_value"]
        )
        reason += f"{' and' if settings.target else ''} " + (
            f"is not worse than {served_shown}"
            if better
            else f"is within the tolerance {_fmt(metric, settings.tolerance)} of {served_shown}"
        )
    elif not settings.target and not notes:
        reason += " (no target in the recipe and no served version to compare with)"
    return reason


def _comparable(
    card: dict[str, Any], served_card: dict[str, Any] | None, metric: str
) -> tuple[bool, str]:
    """Whether two cards' test scores can be compared: same data set, same test size, the metric in both."""
    if served_card is None:
        return False, "it has no readable model card"
    mine, theirs = card.get("data", {}), served_card.get("data") or {}
    if theirs.get("name") != mine.get("name"):
        return False, f"it was tested on {theirs.get('name')!r}, not {mine.get('name')!r}"
    size, served_size = mine.get("sizes", {}).get("test"), (theirs.get("sizes") or {}).get("test")
    if size != served_size:
        return False, f"it was tested on {served_size} examples, this run on {size}"
    served_value = ((served_card.get("metrics") or {}).get("test") or {}).get(metric)
    if not isinstance(served_value, (int, float)) or isinstance(served_value, bool):
        return False, f"its card has no test {metric}"
    return True, ""


def export(
    model,
    export_dir,
    name: str,
    card: dict[str, Any],
    samples,
    settings: PublishSettings,
    *,
    max_examples: int | None,
    publish_anyway: bool = False,
    **formats,
) -> tuple[Path | None, dict[str, Any]]:
    """Gate, then export: (the version or candidate folder, or None when unchanged; the gate's record).

    The record is also written into the card (`card["publish"]`) before the export is staged.
    `formats` are `export.publish`'s formats, calibration and evaluation.
    """
    from modelzoo import export as export_module

    model_dir = Path(export_dir) / name
    if model_dir.is_dir():  # also when nothing is published: clear what killed exports left
        export_module.remove_stale_staging(model_dir)
    card = {**card, "publish": {"weights_sha256": weights_fingerprint(model)}}
    wanted = formats.get("formats", ())
    existing = _version_with_weights(model_dir, card["publish"]["weights_sha256"], wanted)
    if existing is not None:  # e.g. a rerun of a run killed after its export was renamed into place
        record = {
            "decision": "unchanged",
            "forced": False,
            "weights_sha256": card["publish"]["weights_sha256"],
            "reason": f"the same weights are already version {existing.name} ({existing}); nothing new to serve",
        }
        return existing, record
    record = decide(
        settings,
        card,
        max_examples=max_examples,
        served_now=served(model_dir),
        publish_anyway=publish_anyway,
        formats=wanted,
    )
    record["weights_sha256"] = card["publish"]["weights_sha256"]
    kept = (
        _same_candidate(model_dir, record["weights_sha256"], wanted)
        if record["decision"] == "candidate"
        else None
    )
    if kept is not None:  # the same run again (a repeated sweep, say): one candidate is enough
        record.update(
            decision="unchanged",
            reason=f"{record['reason']}; the same weights are already candidate {kept}",
        )
    if record["decision"] != "unchanged":
        card["publish"] = record
        path = export_module.publish(
            model,
            export_dir,
            name,
            card,
            samples,
            candidate=record["decision"] == "candidate",
            **formats,
        )
    else:
        path = None
    return path, record


def _version_with_weights(model_dir: Path, fingerprint: str, formats=()) -> Path | None:
    """A published version of this model with these weights and every format in `formats`."""
    for folder in storage.version_folders(model_dir).values():
        if _fingerprint_of(folder) == fingerprint and _has_formats(folder, formats):
            return folder
    return None


def _has_formats(folder: Path, formats) -> bool:
    """Whether an export has every format asked for (a rerun asking for more publishes anew)."""
    from modelzoo.exporters import formats_present

    return set(formats) <= set(formats_present(folder))


def _fingerprint_of(export: Path) -> str | None:
    card = storage.read_card(export)
    return (card.get("publish") or {}).get("weights_sha256") if card is not None else None


def _same_candidate(model_dir: Path, fingerprint: str, formats=()) -> Path | None:
    """A kept candidate of this model with these weights and formats, if there is one."""
    folder = model_dir / "candidates"
    for candidate in sorted(folder.iterdir()) if folder.is_dir() else []:
        if _fingerprint_of(candidate) == fingerprint and _has_formats(candidate, formats):
            return candidate
    return None


def summary(record: dict[str, Any], path: Path | None) -> str:
    """The gate's decision in one line, for the run's output."""
    if record["decision"] == "unchanged":
        return f"nothing new to publish: {record['reason']}"
    if record["decision"] == "candidate":
        return (
            f"not published: {record['reason']}; kept as candidate {path}, which no server loads; "
            f"publish it with `modelzoo publish {path}` or run again with --publish-anyway"
        )
    return f"published as version {path.name}: {record['reason']}"


def _fmt(metric: str, value: float) -> str:
    return f"{value:.2%}" if metric in ("accuracy",) else f"{value:.4g}"
