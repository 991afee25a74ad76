"""Regenerate benchmarks/RESULTS.md from the JSON files the benchmark scripts write.

    python benchmarks/write_results.py

Every figure in RESULTS.md comes from benchmarks/results/*.json or recipes/results.json, with
the command that measured it; nothing is typed by hand. Figures not measured yet say so.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
OUTPUT = ROOT / "benchmarks" / "RESULTS.md"


def _load(name: str) -> dict | None:
    path = RESULTS / name
    return json.loads(path.read_text()) if path.exists() else None


def machine_records(name: str) -> list[dict]:
    """The records of a results file kept per machine (`{"machines": [record, ...]}`), in the order
    the machines were first measured; a file from before it kept one per machine is one record."""
    data = _load(name)
    if not data:
        return []
    return data["machines"] if "machines" in data else [data]


def machine_record(name: str, machine: str) -> dict | None:
    """The record `machine` has in the per-machine results file `name`, if it has one."""
    return next((record for record in machine_records(name) if record["machine"] == machine), None)


def save_machine_record(path: Path, record: dict) -> None:
    """Save `record` as its machine's in the per-machine results file at `path` (the records of
    other machines kept, this machine's replaced in place), then regenerate RESULTS.md."""
    data = json.loads(path.read_text()) if path.exists() else {}
    machines = data.get("machines", [data] if data else [])
    places = [index for index, kept in enumerate(machines) if kept["machine"] == record["machine"]]
    if places:
        machines[places[0]] = record
    else:
        machines.append(record)
    save(path, {"machines": machines})


def per_machine(name: str, render: Callable[[dict], list[str]]) -> list[str]:
    """Each machine's record of the per-machine results file `name` rendered by `render` under an
    `### On <machine>` heading, or a note naming the script that measures it."""
    records = machine_records(name)
    if not records:
        return [f"Not measured yet: run `python benchmarks/{name.removesuffix('.json')}.py`."]
    lines = []
    for data in records:
        lines += [f"### On {data['machine']}", "", *render(data), ""]
    return lines[:-1]


def fp32_peak(machine: str) -> float | None:
    """The fp32 peak (GFLOP/s) measured on `machine` (cpu_peak.json), which every "of fp32 peak"
    of a record from that machine divides by."""
    data = machine_record("cpu_peak.json", machine)
    return data["fp32_peak_gflops"] if data else None


def of_peak(gflops: float, peak: float | None) -> str:
    """`gflops` as a fraction of `peak`, or a note that the peak is not measured yet."""
    return f"{gflops / peak:.1%}" if peak else "peak not measured"


def cpu_peak() -> list[str]:
    """The measured peak of each machine (every "of fp32 peak" divides by its own machine's)."""
    return per_machine("cpu_peak.json", machine_peak)


def machine_peak(data: dict) -> list[str]:
    peak, nominal = data["fp32_peak_gflops"], data["nominal_fp32_gflops"]
    versions = data["versions"]
    # {column title: rows by size}: TensorFlow's rates with each of its CPU kernels, or (records
    # from before both were timed) with its default ones for the CPU, which were not recorded
    columns = {
        f"TF {dtype} ({kernels})": measured[f"tf_{dtype}"]
        for dtype in ("float32", "bfloat16")
        for kernels, measured in data.get("per_kernels", {}).items()
    } or {f"TF {dtype}": data["per_size"][f"tf_{dtype}"] for dtype in ("float32", "bfloat16")}
    columns["numpy float32"] = data["per_size"]["numpy_float32"]

    def kernels(key: str) -> str:
        return f", {data[key]} kernels" if key in data else ""

    lines = [
        f"Measured by `{data['measured_by']}` on {data['date']} ({data['machine']}; TensorFlow "
        f"{versions['tensorflow']}, numpy {versions['numpy']}{load_note(data)}): {data['method']}.",
        "",
        f"- **fp32 peak: {peak} GFLOP/s** (TensorFlow float32 matmul{kernels('fp32_peak_kernels')}; "
        'every "of fp32 peak" of a record from this machine divides by it)',
        f"- bf16 peak: **{data['bf16_peak_gflops']} GFLOP/s** (TensorFlow bfloat16 matmul"
        + kernels("bf16_peak_kernels")
        + (
            "; the CPU lists avx512_bf16"
            if data["avx512_bf16"]
            else "; the CPU lists no avx512_bf16"
        )
        + ")",
        f"- cross-check: numpy float32 matmul {data['numpy_fp32_gflops']} GFLOP/s",
        "",
        "| size | " + " | ".join(f"{title} best / median" for title in columns) + " |",
        "| ---: |" + " ---: |" * len(columns),
    ]
    for index, row in enumerate(columns["numpy float32"]):
        lines.append(
            f"| {row['size']} | "
            + " | ".join(
                f"{rows[index]['best_gflops']} / {rows[index]['median_gflops']}"
                for rows in columns.values()
            )
            + " |"
        )
    lines += [
        "",
        f"For context, the nominal fp32 figure computed from /proc/cpuinfo (not measured, and not "
        f"the peak): {nominal} GFLOP/s = cores x FMA units x vector lanes x 2 x clock. The "
        f"measured rate is {peak / nominal:.2f} x it"
        + (
            ", so the computed figure is not this CPU's limit (most likely its clock: a KVM guest "
            "reports the base clock, and the cores run faster)"
            if peak > nominal
            else ""
        )
        + ":",
        "",
        *[f"- {factor}" for factor in data["nominal_factors"]],
    ]
    return lines


def precision_rows(cpu: dict) -> tuple[dict, dict, dict | None]:
    """A CPU's record of benchmarks/mixed_precision.py: its float32 and mixed_bfloat16 rows as
    modelzoo's commands train (oneDNN asked for), and the float32 row with TensorFlow's default
    kernels (None in records from before the kernels were measured: their two rows have the
    default kernels)."""
    measured = cpu["rows"]
    trained = [row for row in measured if row.get("onednn", "default") != "default"] or measured
    f32, bf16 = (
        next(row for row in trained if row["precision"] == precision)
        for precision in ("float32", "mixed_bfloat16")
    )
    default = next((row for row in measured if row.get("onednn") == "default"), None)
    return f32, bf16, default


def mixed_precision() -> list[str]:
    data = _load("mixed_precision.json")
    if not data:
        return ["Not measured yet: run `python benchmarks/mixed_precision.py`."]
    lines = []
    for cpu in data["cpus"]:
        measured = cpu["rows"]
        with_kernels = all("kernels" in row for row in measured)
        f32, bf16, default = precision_rows(cpu)
        faster = "float32" if f32["epoch_seconds"] < bf16["epoch_seconds"] else "mixed_bfloat16"
        lines += [
            f"Measured by `{cpu['measured_by']}` on {cpu['date']} ({cpu['machine']}; bfloat16 "
            f"flags: {', '.join(cpu['bfloat16_flags']) or 'none'}): `{cpu['recipe']}` built and "
            "compiled as its recipe trains it, on the first "
            f"{f32['examples']:,} examples of MNIST's training split; the median epoch after the "
            "first, in a fresh process per configuration"
            + (
                " (TF_ENABLE_ONEDNN_OPTS unset for TensorFlow's default kernels on this CPU, 1 for "
                "oneDNN's, as modelzoo's commands train; the kernels are TensorFlow's own report)."
                if with_kernels
                else " (TensorFlow's default kernels for this CPU; which ones was not recorded)."
            ),
            "",
            "| precision | kernels | epoch time | examples/s |"
            if with_kernels
            else "| precision | epoch time | examples/s |",
            "| --- | --- | ---: | ---: |" if with_kernels else "| --- | ---: | ---: |",
            *[
                f"| {row['precision']} | "
                + (
                    f"{row['kernels']}{' (TensorFlow default)' if row['onednn'] == 'default' else ''} | "
                    if with_kernels
                    else ""
                )
                + f"{row['epoch_seconds']:.2f} s | {row['examples_per_s']:,} |"
                for row in measured
            ],
            "",
        ]
        if default is not None and default["kernels"] == "oneDNN":
            lines += [
                "TensorFlow computes with oneDNN's kernels on this CPU by itself; asking for them "
                "changes nothing.",
                "",
            ]
        elif default is not None:
            lines += [
                f"In float32, oneDNN's kernels (which modelzoo's commands ask for) take **"
                f"{f32['epoch_seconds'] / default['epoch_seconds']:.2f} x** the epoch time of "
                f"TensorFlow's default ones on this CPU ({default['kernels']}).",
                "",
            ]
        lines += [
            f"On this CPU mixed bfloat16 takes **{bf16['epoch_seconds'] / f32['epoch_seconds']:.2f} x** "
            f'float32\'s epoch time; `train.precision = "auto"` picks **{cpu["auto"]}**'
            + (
                " (the faster)." if cpu["auto"] == faster else " (not the faster: see hardware.py)."
            ),
            "",
        ]
    return lines[:-1]


def side_by_side() -> list[str]:
    """The comparisons of each machine they were measured on (the ratios depend on the CPU)."""
    machines = (_load("side_by_side.json") or {}).get("machines", [])
    if not machines:
        return ["Not measured yet: run `python benchmarks/side_by_side.py`."]
    lines = []
    for entry in machines:
        lines += [f"### On {entry['machine']}", ""]
        for name, render in (
            ("training", _training_pairs),
            ("end_to_end", _end_to_end_pairs),
            ("main_job", _main_job_pairs),
        ):
            if name in entry["comparisons"]:
                lines += render(entry["comparisons"][name]) + [""]
            else:
                lines += [
                    f"{COMPARISON_TITLES[name]}: not measured on this machine yet (run "
                    f"`python benchmarks/side_by_side.py --only {name}` there).",
                    "",
                ]
    return lines[:-1]


COMPARISON_TITLES = {
    "training": "Training: keras-io `mnist_convnet` against the `mnist_cnn` recipe",
    "end_to_end": "End to end, as a user runs it",
    "main_job": "The main job: `mnist` at its defaults against its settings before",
}


def _precision_note(side: dict) -> str:
    """In which precision a side trained, and with which CPU kernels (each recorded since December
    2026; the keras-io script records no precision)."""
    note = f", in {side['precision']}" if "precision" in side else ""
    return note + (f", {side['kernels']} kernels" if "kernels" in side else "")


def _kernels_note(a: dict, b: dict) -> list[str]:
    """A line saying that the sides computed with different CPU kernels, where they did."""
    if "kernels" not in a or "kernels" not in b or a["kernels"] == b["kernels"]:
        return []
    return [
        f"(b) computed with {b['kernels']}'s CPU kernels, which modelzoo's commands ask TensorFlow "
        f"for (`modelzoo.hardware.prefer_onednn`); (a) with TensorFlow's default ones on this CPU, "
        f'{a["kernels"]}. What the kernels alone are worth: "Mixed bfloat16 and oneDNN by CPU" '
        "below.",
        "",
    ]


def _measured(data: dict, what: str) -> str:
    return (
        f"Measured by `{data['measured_by']}` on {data['date']} ({data['machine']}): {what}; "
        f"medians of {data['repeats']} alternating pairs, pair i with seed i - 1, each run in a "
        "fresh process."
    )


def _verdict(data: dict) -> str:
    return f"**{'met' if data['met'] else 'not met'}**"


def _seconds(value) -> str:
    return f"{value:.1f} s" if value is not None else "not reached"


def _accuracies(values: list[float]) -> str:
    return ", ".join(f"{v:.2%}" for v in values)


def _training_pairs(data: dict) -> list[str]:
    a, b, target = data["a"], data["b"], data["target"]
    setting = f"with {data['overrides']}" if data["overrides"] else "at its defaults"
    lines = [
        f"#### {COMPARISON_TITLES['training']}",
        "",
        _measured(
            data,
            "training wall time (the epochs with their validation; the test split "
            "evaluated after every epoch off the clock)",
        ),
        "",
        f"| run | training time | final test accuracy (median; each seed) | time to "
        f"{target['threshold']:.1%} test accuracy |",
        "| --- | ---: | --- | ---: |",
        f"| (a) keras-io `mnist_convnet`, as published{_precision_note(a)} | "
        f"{_seconds(a['training_seconds'])} | "
        f"{a['test_accuracy']:.2%} ({_accuracies(a['test_accuracies'])}) | "
        f"{_seconds(a['seconds_to_threshold'])} |",
        f"| (b) `mnist_cnn` recipe {setting}{_precision_note(b)} | {_seconds(b['training_seconds'])} | "
        f"{b['test_accuracy']:.2%} ({_accuracies(b['test_accuracies'])}) | "
        f"{_seconds(b['seconds_to_threshold'])} |",
        "",
        *_kernels_note(a, b),
        f"**Training time b / a: {data['time_ratio']:.2f}**, time to {target['threshold']:.1%} "
        f"b / a: **{_ratio(data.get('threshold_ratio'))}** (medians of the per-pair ratios). "
        f"Target: >= {target['accuracy']:.1%} test accuracy at <= {target['time_ratio']} x the "
        f"training time, and <= {target['threshold_ratio']} x the time to {target['threshold']:.1%}: "
        f"{_verdict(data)}.",
        "",
        "| pair (seed) | a: training, test accuracy, to 99% | b: training, test accuracy, to 99% "
        "| b / a training | b / a to 99% |",
        "| ---: | --- | --- | ---: | ---: |",
    ]
    for pair in data["pairs"]:
        pa, pb = pair["a"], pair["b"]
        lines.append(
            f"| {pair['seed']} | {_seconds(pa['training_seconds'])}, {pa['test_accuracy']:.2%}, "
            f"{_seconds(pa['seconds_to_threshold'])} | {_seconds(pb['training_seconds'])}, "
            f"{pb['test_accuracy']:.2%}, {_seconds(pb['seconds_to_threshold'])} | "
            f"{pair['time_ratio']:.2f} | {_ratio(pair.get('threshold_ratio'))} |"
        )
    lines += ["", "Test accuracy after each epoch, and the training time by then (first pair):", ""]
    first = data["pairs"][0]
    for side, label in (("a", "a"), ("b", "b")):
        epochs = first[side]["epochs"]
        lines.append(
            f"- {label}: "
            + "; ".join(
                f"{e['epoch']}: {e['test_accuracy']:.2%} at {e['training_seconds']:.1f} s"
                for e in epochs
            )
        )
    return lines


def _ratio(value) -> str:
    return f"{value:.2f}" if value is not None else "n/a"


def _end_to_end_pairs(data: dict) -> list[str]:
    a, b, target = data["a"], data["b"], data["target"]
    lines = [
        f"#### {COMPARISON_TITLES['end_to_end']}",
        "",
        _measured(
            data,
            "whole processes timed from start to exit: "
            "`python benchmarks/reference/keras_io_mnist_convnet.py` (import, data, training, test) "
            "against `python -m modelzoo.recipes mnist_cnn` (import, data, training, test, report, "
            "SavedModel export and its verification in a fresh process)",
        ),
        "",
        "| run | wall time | test accuracy (median; each seed) |",
        "| --- | ---: | --- |",
        f"| (a) keras-io `mnist_convnet` script{_precision_note(a)} | {_seconds(a['seconds'])} | "
        f"{a['test_accuracy']:.2%} ({_accuracies(a['test_accuracies'])}) |",
        f"| (b) `python -m modelzoo.recipes mnist_cnn`{_precision_note(b)} | {_seconds(b['seconds'])} | "
        f"{b['test_accuracy']:.2%} ({_accuracies(b['test_accuracies'])}) |",
        "",
        *_kernels_note(a, b),
        f"**Wall time b / a: {data['time_ratio']:.2f}** (median of the per-pair ratios: "
        + ", ".join(f"{p['time_ratio']:.2f}" for p in data["pairs"])
        + f"). Target: <= {target['time_ratio']} x: {_verdict(data)}.",
    ]
    return lines


def _main_job_pairs(data: dict) -> list[str]:
    a, b, target = data["a"], data["b"], data["target"]
    before = ", ".join(f"`{k}={v}`" for k, v in data["before"].items())
    lines = [
        f"#### {COMPARISON_TITLES['main_job']}",
        "",
        _measured(data, f"training wall time as above; (a) is the recipe with {before}"),
        "",
        "| run | training time | test accuracy (median; each seed) |",
        "| --- | ---: | --- |",
        f"| (a) `mnist`, settings before{_precision_note(a)} | {_seconds(a['training_seconds'])} | "
        f"{a['test_accuracy']:.2%} ({_accuracies(a['test_accuracies'])}) |",
        f"| (b) `mnist` at its defaults{_precision_note(b)} | {_seconds(b['training_seconds'])} | "
        f"{b['test_accuracy']:.2%} ({_accuracies(b['test_accuracies'])}) |",
        "",
        *_kernels_note(a, b),
        f"**Training time b / a: {data['time_ratio']:.2f}** (median of the per-pair ratios: "
        + ", ".join(f"{p['time_ratio']:.2f}" for p in data["pairs"])
        + f"). Target: >= {target['accuracy']:.1%} test accuracy at <= {target['time_ratio']} x: "
        f"{_verdict(data)}.",
    ]
    return lines


def cli_latency() -> list[str]:
    data = _load("cli_latency.json")
    if not data:
        return ["Not measured yet: run `python benchmarks/cli_latency.py`."]
    lines = [
        f"Measured by `{data['measured_by']}` on {data['date']} ({data['machine']}{load_note(data)}), "
        f"median of {data['commands'][0]['runs']} fresh processes; target < {data['target_s']} s.",
        "",
        "| command | median | slowest |",
        "| --- | ---: | ---: |",
    ]
    lines += [
        f"| `{c['command']}` | {c['median_s']:.3f} s | {c['max_s']:.3f} s |"
        for c in data["commands"]
    ]
    return lines + ["", *predict_latency(data)]


#: The runtimes that never import TensorFlow.
TF_FREE = ("onnx", "litert", "litert-int8")
#: Of those, the ones whose answers match the Keras model's (within 1e-5): not quantized.
FLOAT_TF_FREE = ("onnx", "litert")


def load_note(data: dict) -> str:
    """How busy the machine was while a benchmark ran (1-minute load average at start and end)."""
    if "load_average" not in data:
        return ""
    start, end = data["load_average"]
    return f"; load average {start:g} at the start, {end:g} at the end"


def _size(size: int) -> str:
    return f"{size / 2**20:.2f} MiB" if size >= 2**20 else f"{size / 2**10:.0f} KiB"


def predict_latency(data: dict) -> list[str]:
    """The cold one-image predict in each runtime, from cli_latency.json's "predict" record."""
    record = data.get("predict")
    if not record:
        return ["Cold predict not measured yet: run `python benchmarks/cli_latency.py`."]
    rows = record["commands"]
    lines = [
        f"A cold one-image `modelzoo predict` of a local export ({record['export']}; the image: "
        f"{record['image']}), median of {rows[0]['runs']} fresh processes; target < "
        f"{record['target_s']:g} s:",
        "",
        "| command | runtime | TensorFlow | median | slowest | file | answer |",
        "| --- | --- | --- | ---: | ---: | ---: | --- |",
    ]
    for row in rows:
        runtime = row["runtime"] + (" (the default)" if row["default"] else "")
        lines.append(
            f"| `{row['command']}` | {runtime} | {'no' if row['runtime'] in TF_FREE else 'yes'} | "
            f"{row['median_s']:.3f} s | {row['max_s']:.3f} s | "
            f"{_size(record['file_bytes'][row['runtime']])} | {row['answer'].split(': ', 1)[1]} |"
        )
    chosen = [r for r in rows if not r["default"]]
    median = {r["runtime"]: r["median_s"] for r in chosen}
    fastest = min(FLOAT_TF_FREE, key=median.__getitem__)
    default = next(r["runtime"] for r in rows if r["default"])
    met = all(median[r] < record["target_s"] for r in TF_FREE)
    lines += [
        "",
        f"Of the runtimes that answer as the Keras model does (onnx, litert), the faster here is "
        f"**{fastest}** ({median[fastest]:.3f} s; the SavedModel, which imports TensorFlow, "
        f"{median['savedmodel']:.2f} s); litert-int8, quantized, took {median['litert-int8']:.3f} s "
        f"and is never the default. With no `--runtime`, `modelzoo predict` ran **{default}**. "
        f"Every runtime without TensorFlow under {record['target_s']:g} s: "
        f"**{'met' if met else 'not met'}**.",
    ]
    return lines


#: The inference paths as RESULTS.md names them; all but Keras's run a published export.
INFERENCE_PATHS = {
    "serving": "SavedModel, serving signature",
    "onnx": "ONNX Runtime",
    "litert": "LiteRT float32",
    "litert-int8": "LiteRT int8",
    "keras_predict": "Keras `model.predict`",
}
#: The runtime of each export path, as `modelzoo predict --runtime` names it.
RUNTIME_NAMES = {
    "serving": "savedmodel",
    "onnx": "onnx",
    "litert": "litert",
    "litert-int8": "litert-int8",
}


def fastest_runtimes(data: dict) -> list[str]:
    """Which runtime answers the most examples per second at each headline batch size."""
    recipes = {n: r for n, r in data["recipes"].items() if "litert" in r["paths"]}
    if not recipes:
        return []
    lines = [
        "The fastest runtime for each batch size on this CPU (examples/s; of the float formats, "
        "whose answers match the Keras model's, and of all, int8 included), and how many times "
        "the SavedModel session's throughput it reaches:",
        "",
        "| recipe | batch | fastest float runtime | fastest of all |",
        "| --- | ---: | --- | --- |",
    ]
    for name, result in recipes.items():
        rates = {
            RUNTIME_NAMES[path]: {row["batch"]: row["examples_per_s"] for row in rows}
            for path, rows in result["paths"].items()
            if path in RUNTIME_NAMES
        }
        for batch in data["headline_batches"]:
            lines.append(
                f"| `{name}` | {batch} | {_fastest(rates, ('savedmodel', 'onnx', 'litert'), batch)} | "
                f"{_fastest(rates, tuple(rates), batch)} |"
            )
    return lines


def _fastest(rates: dict[str, dict[int, float]], runtimes: tuple[str, ...], batch: int) -> str:
    """The runtime of `runtimes` with the most examples/s at `batch`, against the SavedModel's."""
    winner = max(runtimes, key=lambda runtime: rates[runtime][batch])
    rate = rates[winner][batch]
    return f"**{winner}**, {rate:,.0f}/s ({rate / rates['savedmodel'][batch]:.2f} x)"


def runtime_files(data: dict) -> list[str]:
    """Each format's file size, and the int8 model's test accuracy against the float model's."""
    recipes = {n: r for n, r in data["recipes"].items() if "file_bytes" in r}
    if not recipes:
        return []
    lines = [
        "The files (the SavedModel: its graph and variables) and what int8 costs in test accuracy:",
        "",
        "| recipe | weights | savedmodel | onnx | litert | litert-int8 | test accuracy float / int8 |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, result in recipes.items():
        sizes = result["file_bytes"]
        accuracy = result["int8_test_accuracy"]
        lines.append(
            f"| `{name}` | `{result['weights']}` | "
            + " | ".join(_size(sizes[f]) for f in ("savedmodel", "onnx", "litert", "litert-int8"))
            + f" | {accuracy['float']:.2%} / {accuracy['int8']:.2%} ({accuracy['examples']:,} "
            "examples) |"
        )
    versions = next(iter(recipes.values()))["runtime_versions"]
    return [*lines, "", f"Runtimes: {', '.join(versions.values())}."]


def inference() -> list[str]:
    """Each machine's inference speed, its fractions of that machine's own measured peak."""
    return per_machine("inference.json", machine_inference)


def machine_inference(data: dict) -> list[str]:
    peak = fp32_peak(data["machine"])
    kernels = (
        f", its CPU kernels {data['kernels']}, as `modelzoo serve` and `predict` ask for"
        if "kernels" in data
        else ""
    )
    lines = [
        f"Measured by `{data['measured_by']}` on {data['date']} ({data['machine']}; TensorFlow "
        f"{data['versions']['tensorflow']}{kernels}{load_note(data)}); medians of {data['repeats']} sweeps. "
        "The serving path is the exported SavedModel loaded by tag `serve` into a session, as "
        "TF Serving's C++ loader does; ONNX Runtime and LiteRT run the same version's other "
        'formats as `modelzoo predict --runtime` does, at their default thread counts. "Of fp32 '
        'peak" divides by the fp32 peak measured on the same machine (above) as it stands now.',
        "",
        "| recipe | path | batch | examples/s | p50 latency | p99 latency | GFLOP/s | of fp32 peak |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, result in data["recipes"].items():
        for path, rows in result["paths"].items():
            for row in rows:
                if row["batch"] in data["headline_batches"]:
                    lines.append(
                        f"| `{name}` | {INFERENCE_PATHS[path]} | {row['batch']} | {row['examples_per_s']:,.0f} | "
                        f"{row['p50_ms']:.2f} ms | {row['p99_ms']:.2f} ms | {row['gflops']:.1f} | "
                        + (
                            "int8, not fp32 |"
                            if path == "litert-int8"
                            else f"{of_peak(row['gflops'], peak)} |"
                        )
                    )
    lines += ["", *fastest_runtimes(data), "", *runtime_files(data)]
    lines += ["", *inference_target(data, peak)]
    lines += [
        "",
        "How the cost grows with the batch (serving signature; milliseconds per call, p50, and per example):",
        "",
        "| batch | "
        + " | ".join(f"`{name}` ms/call | `{name}` us/example" for name in data["recipes"])
        + " |",
        "| ---: |" + " ---: | ---: |" * len(data["recipes"]),
    ]
    batches = [row["batch"] for row in next(iter(data["recipes"].values()))["paths"]["serving"]]
    for index, batch in enumerate(batches):
        cells = []
        for result in data["recipes"].values():
            row = result["paths"]["serving"][index]
            cells += [f"{row['p50_ms']:.2f}", f"{1e6 / row['examples_per_s']:.1f}"]
        lines.append(f"| {batch} | " + " | ".join(cells) + " |")
    return lines


def inference_target(data: dict, peak: float | None) -> list[str]:
    """The serving target, `target` of inference.json, met or not against the measured fp32 peak."""
    target = data["target"]
    recipe = data["recipes"].get(target["recipe"])
    if not recipe:
        return [f"Target: `{target['recipe']}` not measured."]
    row = next(r for r in recipe["paths"]["serving"] if r["batch"] == target["batch"])
    verdict = (
        f"{row['gflops'] / peak:.1%}, {'met' if row['gflops'] / peak >= target['fraction_of_peak'] else 'not met'}"
        if peak
        else "fp32 peak not measured"
    )
    return [
        f"Target: `{target['recipe']}` at batch {target['batch']} through the serving signature >= "
        f"{target['fraction_of_peak']:.0%} of fp32 peak ({row['gflops']:.1f}"
        + (f" of {peak}" if peak else "")
        + " GFLOP/s): "
        f"**{verdict}**."
    ]


def bf16_peak(machine: str) -> float | None:
    """The bf16 matmul rate (GFLOP/s) measured on `machine` (cpu_peak.json)."""
    data = machine_record("cpu_peak.json", machine)
    return data.get("bf16_peak_gflops") if data else None


def training_cost() -> list[str]:
    """Each machine's training cost, its fractions of that machine's own measured peaks."""
    return per_machine("training_cost.json", machine_training_cost)


def machine_training_cost(data: dict) -> list[str]:
    peak, bf16 = fp32_peak(data["machine"]), bf16_peak(data["machine"])
    pipeline = data["pipeline"]
    lines = [
        f"Measured by `{data['measured_by']}` on {data['date']} ({data['machine']}); medians of {data['repeats']} "
        "fresh processes each.",
        *(
            f"The epochs of `{name}` are kept from `{result['measured_by']}` on {result['date']} "
            f"(medians of {result['repeats']}); the input pipeline beside them is this run's."
            for name, result in data["recipes"].items()
            if "measured_by" in result
        ),
        "",
        (
            f"Input pipeline measured again by `{pipeline['measured_by']}` on {pipeline['date']} "
            f"({pipeline['machine']}; medians of {pipeline['repeats']}). "
            if "measured_by" in pipeline
            else ""
        )
        + f"Input pipeline alone (MNIST train split, batch {pipeline['batch_size']}): the tfds records "
        f"are decoded into memory before training at {pipeline['decode_examples_per_s']:,} "
        f"examples/s; then the first pass delivers {pipeline['first_pass_examples_per_s']:,} "
        f"examples/s, a cached pass (every epoch after the first) "
        f"**{pipeline['cached_examples_per_s']:,} examples/s**, and an augmented pass (the MNIST "
        f"recipes' [augment]) {pipeline['augmented_examples_per_s']:,} examples/s"
        + (
            f" ({pipeline['augmented_first_pass_examples_per_s']:,} on its first pass, which also "
            "compiles the augmentation's XLA program and fills its own cache)."
            if "augmented_first_pass_examples_per_s" in pipeline
            else "."
        ),
        "",
        "| recipe | precision | share of train split | examples | epoch time | examples/s | "
        "training GFLOP/s | of fp32 peak | of bf16 peak |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, result in data["recipes"].items():
        for row in result["epochs"]:
            kernels = f", {result['kernels']} kernels" if "kernels" in result else ""
            lines.append(
                f"| `{name}` | {result.get('precision', 'float32')}{kernels} | {row['fraction']:.0%} | "
                f"{row['examples']:,} | {row['epoch_seconds']:.2f} s | {row['examples_per_s']:,} | "
                f"{row['gflops']:.1f} | {of_peak(row['gflops'], peak)} | {of_peak(row['gflops'], bf16)} |"
            )
    lines.append("")
    for name, result in data["recipes"].items():
        consumed = result["epochs"][-1]["examples_per_s"]
        source = "augmented_examples_per_s" if result.get("augmented") else "cached_examples_per_s"
        delivered, first = (
            pipeline[source] / consumed,
            pipeline["first_pass_examples_per_s"] / consumed,
        )
        plain, augmented = (
            result["epochs"][-1]["epoch_seconds"],
            result.get("augmented_epoch_seconds"),
        )
        cost = (
            f" Augmented, an epoch of the whole split takes {augmented:.2f} s against {plain:.2f} s "
            f"plain: augmenting costs {augmented / plain - 1:+.0%} per epoch, its work sharing the "
            "CPU cores that train."
            if augmented
            else ""
        )
        lines.append(
            f"- `{name}`: {result['training_flops_per_example']:,} training FLOPs per example (3 x forward). "
            f"Epoch time per example at 100% over that at 25%: {result['linearity']:.2f} (1.00 = linear). "
            f"The input pipeline alone delivers {delivered:.1f}x what training consumes"
            f"{' (augmented)' if result.get('augmented') else ' from the cache'}"
            f"{'' if delivered > 1 else ' (INPUT-BOUND)'} and {first:.1f}x on the first pass"
            f"{': the first epoch is input-bound' if first < 1 else ''}.{cost}"
        )
    return lines


def layer_cost() -> list[str]:
    """Each machine's per-layer kernel times against its whole training step."""
    return per_machine("layer_cost.json", machine_layer_cost)


def machine_layer_cost(data: dict) -> list[str]:
    peak = fp32_peak(data["machine"])
    lines = [
        "The model built as its recipe trains it, at the recipe's batch size, in a fresh process "
        "per run and per set of TensorFlow's CPU kernels (TF_ENABLE_ONEDNN_OPTS=0: Eigen, 1: "
        "oneDNN). Each layer alone on random inputs: its forward pass (training mode); forward and "
        "its weights' gradients; forward and its input's gradient (not needed up to and "
        "including the first layer with weights); forward and every gradient a training step needs of it; each in a "
        "loop inside a `tf.function`, one after another, the best of several calls. The whole step as the recipe "
        "compiles it (loss, optimizer, moving average): the best epoch after the first, over "
        "random batches cached in memory, per step. Best times, as the peak is a best time: on a shared "
        "virtual machine the CPU runs in fast and slow phases (the training cost above takes the "
        "median epoch, which the slow phases lengthen).",
        "",
        "The layers' times added up are a step whose layers run one after another, each as fast as "
        "it runs alone, with nothing else (loss, optimizer, the executor) taking any time. A real "
        "step can beat it a little, where TensorFlow computes one layer's gradient while another's "
        "runs. GFLOP/s count the forward FLOPs (`modelzoo.flops`) once per pass a training step "
        "makes (forward, weights' gradient, input's gradient).",
    ]
    for recipe in data["recipes"]:
        lines += [
            "",
            f"`{recipe['recipe']}` measured by `{recipe['measured_by']}` on {recipe['date']} "
            f"({data['machine']}; load average {recipe['load_average'][0]} at the start, "
            f"{recipe['load_average'][1]} at the end): layers the best of {recipe['calls']} calls, "
            f"the step over {recipe['steps']} batches; each layer's times and the step the median "
            f"of {recipe['repeats']} processes.",
        ]
        for run in recipe["kernels"]:
            lines += ["", *_layer_cost_table(recipe["recipe"], run, peak)]
    return lines


def _layer_cost_table(recipe: str, run: dict, peak: float | None) -> list[str]:
    """One recipe's layers with one set of kernels, their sum and the step, and what they mean."""

    def of(rate: float) -> str:
        return f"{rate / peak:.1%} of fp32 peak" if peak else "fp32 peak not measured"

    # the forward FLOPs once per pass a training step makes: forward, weights', input's gradient
    work = {
        row["layer"]: row["forward_flops"]
        * (1 + (row["weights_gradient_s"] is not None) + row["input_gradient"])
        for row in run["layers"]
    }
    total = sum(work.values())
    layers_s = sum(row["forward_backward_s"] for row in run["layers"])
    lines = [
        f"#### `{recipe}`: {run['precision']}, {run['kernels']} kernels, batches of {run['batch_size']}",
        "",
        "| layer | forward | + weights' gradient | + input's gradient | + every gradient | "
        "share of the layers' time | GFLOP/s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in run["layers"]:
        rate = work[row["layer"]] / row["forward_backward_s"] / 1e9
        lines.append(
            f"| `{row['layer']}` ({row['kind']}) | {_ms(row['forward_s'])} | "
            f"{_ms(row['weights_gradient_s'])} | {_ms(row['input_gradient_s'])} | "
            f"{_ms(row['forward_backward_s'])} | {row['forward_backward_s'] / layers_s:.0%} | "
            f"{f'{rate:.1f}' if row['forward_flops'] else '-'} |"
        )
    for label, seconds in (
        ("the layers one after another (their medians added up)", layers_s),
        ("**the training step, as the recipe trains**", run["step_s"]),
    ):
        rate = total / seconds / 1e9
        lines.append(f"| {label} | | | | {_ms(seconds)} | | {rate:.1f} ({of(rate)}) |")
    largest = max(run["layers"], key=lambda row: work[row["layer"]])
    conventional = run["training_flops_per_step"] / run["step_s"] / 1e9
    return [
        *lines,
        "",
        f"The largest layer, `{largest['layer']}`, makes {work[largest['layer']] / total:.0%} of "
        f"the FLOPs in {largest['forward_backward_s'] / layers_s:.0%} of the layers' time. "
        f"Counted as 3 x forward, as the training cost above counts, the step runs at "
        f"{conventional:.1f} GFLOP/s ({of(conventional)}). Each process: step "
        + ", ".join(_ms(s) for s in run["each_step_s"])
        + "; layers added up "
        + ", ".join(_ms(s) for s in run["each_layers_s"])
        + ".",
    ]


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e3:.2f} ms"


def training_levers() -> list[str]:
    data = _load("training_levers.json")
    if not data:
        return ["Not measured yet: run `python benchmarks/training_levers.py`."]
    lines = [
        f"Measured by `{data['measured_by']}` on {data['date']} ({data['machine']}): `mnist_cnn` "
        f"with each lever, one run each (seed {data['seed']}) in a fresh process, scored on the "
        "dev splits the recipe's settings are chosen on (MNIST's and the held-out digits'), never "
        "on a test split. Epoch time is the median epoch after the first; fit time includes the "
        "first.",
        "",
        "| lever | kept | epochs | fit time | epoch time | examples/s | MNIST dev accuracy | "
        "held-out digits dev accuracy |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in data["rows"]:
        lines.append(
            f"| {row['lever']} | {'yes' if row['kept'] else 'no'} | {row['epochs']} | "
            f"{row['fit_seconds']:.1f} s | {row['median_epoch_seconds']:.2f} s | "
            f"{row['examples_per_s']:,} | {row['dev_accuracy']:.2%} | "
            f"{row['wild_digits_dev_accuracy']:.1%} |"
        )
    return lines


def weight_averaging() -> list[str]:
    data = _load("weight_averaging.json")
    if not data:
        return ["Not measured yet: run `python benchmarks/weight_averaging.py`."]
    return [
        _dev_study_intro(data)
        + " With the average, the dev split is scored with it"
        + (
            ". "
            if data.get("average") == "debiased"
            else " (Keras' `use_ema` average, measured before modelzoo debiased it: the first "
            "step's weights still counted momentum^(n-1) after n steps, about 12% after the "
            "first epoch and 1.5% after the second). "
        )
        + _DEV_STUDY_READING,
        "",
        *_dev_study_table(data),
    ]


def conv_width() -> list[str]:
    data = _load("conv_width.json")
    if not data:
        return ["Not measured yet: run `python benchmarks/conv_width.py`."]
    return [_dev_study_intro(data) + " " + _DEV_STUDY_READING, "", *_dev_study_table(data)]


_DEV_STUDY_READING = (
    "Accuracies are medians over the seeds (each seed in brackets); the first epoch whose MNIST dev "
    "accuracy reached 99.0% is given per seed."
)


def _dev_study_intro(data: dict) -> str:
    """The first sentence of a study of candidates over seeds on the dev splits (dev_runs.py)."""
    runs = [run for candidate in data["candidates"] for run in candidate["runs"]]
    precisions = sorted({run["precision"] for run in runs})
    kernels = sorted({run["kernels"] for run in runs if "kernels" in run})
    seeds = ", ".join(str(seed) for seed in data["seeds"])
    return (
        f"Measured by `{data['measured_by']}` on {data['date']} ({data['machine']}): `mnist_cnn` "
        f"with each candidate, one fresh process per seed ({seeds}), in {' and '.join(precisions)}"
        + (f" with {' and '.join(kernels)} kernels" if kernels else "")
        + ", scored on the dev splits the recipe's settings are chosen on (MNIST's and the "
        "held-out digits'), never on a test split."
    )


def _dev_study_table(data: dict) -> list[str]:
    """One row per candidate: dev accuracy by epoch, first epoch at 99%, final dev accuracies,
    the median epoch time (where recorded) and fit time."""
    timed = all("median_epoch_seconds" in r for c in data["candidates"] for r in c["runs"])
    lines = [
        "| candidate | MNIST dev accuracy after each epoch | first epoch at 99.0% | final MNIST dev "
        "accuracy | held-out digits dev accuracy | "
        + ("epoch time | " if timed else "")
        + "fit time |",
        "| --- | --- | --- | ---: | ---: | " + ("---: | " if timed else "") + "---: |",
    ]
    for candidate in data["candidates"]:
        runs = candidate["runs"]
        by_epoch = zip(*(run["dev_accuracy_by_epoch"] for run in runs))
        reached = [
            next((i + 1 for i, v in enumerate(run["dev_accuracy_by_epoch"]) if v >= 0.99), None)
            for run in runs
        ]
        epoch = statistics.median(run["median_epoch_seconds"] for run in runs) if timed else None
        lines.append(
            f"| {candidate['label']} | "
            + ", ".join(f"{statistics.median(v):.2%}" for v in by_epoch)
            + " | "
            + ", ".join("never" if r is None else str(r) for r in reached)
            + f" | {_median_and_each(runs, 'dev_accuracy', 2)} | "
            f"{_median_and_each(runs, 'wild_digits_dev_accuracy', 1)} | "
            + (f"{epoch:.1f} s | " if timed else "")
            + f"{statistics.median(run['fit_seconds'] for run in runs):.1f} s |"
        )
    return lines


def _median_and_each(runs: list[dict], key: str, digits: int) -> str:
    """The median of the runs' `key` as a percentage, each run's in brackets."""
    values = [run[key] for run in runs]
    each = ", ".join(f"{v:.{digits}%}" for v in values)
    return f"{statistics.median(values):.{digits}%} ({each})"


def sweep_mnist() -> list[str]:
    data = _load("sweep_mnist.json")
    if not data:
        return ["Not measured yet: run `python benchmarks/sweep_mnist.py`."]
    metric = data["objective"]["metric"]
    run_again = data["finished_trials_run_again"]
    again = (
        "trial(s) " + ", ".join(run_again) + " AGAIN"
        if run_again
        else "none of the finished trials again"
    )
    lines = [
        f"Measured by `{data['measured_by']}` on {data['date']} ({data['machine']}): `{data['command']}` on the full "
        "MNIST data, killed (SIGKILL) during the second trial with trial(s) "
        f"{', '.join(data['killed_with_finished_trials']) or 'none'} "
        f"finished, then run again: it {'resumed' if data['resumed'] else 'did NOT resume'} and ran "
        f"{again}.",
        "",
        f"| trial | values | {metric} | epochs |",
        "| --- | --- | ---: | ---: |",
    ]
    for trial in data["trials"]:
        values = ", ".join(f"`{k.split('.', 1)[1]}={v}`" for k, v in trial["values"].items())
        score = f"{trial['score']:.2%}" if trial["score"] is not None else trial["status"].lower()
        best = " (chosen)" if trial["trial_id"] == data["winner"]["trial_id"] else ""
        lines.append(f"| {trial['trial_id']}{best} | {values} | {score} | {trial['epochs']} |")
    lines += [
        "",
        f"The winner, trained again and evaluated once on the test split: test accuracy "
        f"**{data['winner_test']['accuracy']:.2%}** (dev {data['winner_dev']['accuracy']:.2%}), exported to "
        f"`{data['exported']}` under the sweep's export dir.",
    ]
    return lines


def diabetes() -> list[str]:
    selection, curve = _load("diabetes_selection.json"), _load("diabetes_learning_curve.json")
    lines = []
    if selection:
        ranked = sorted(selection["trials"], key=lambda t: t["mean_dev_accuracy"], reverse=True)
        spread = f"{ranked[-1]['mean_dev_accuracy']:.2%} to {ranked[0]['mean_dev_accuracy']:.2%}"
        lines += [
            f"`{selection['measured_by']}` on {selection['date']} ({selection['machine']}): "
            f"{len(ranked)} configurations, {selection['selection']}; their means span {spread}. "
            f"Chosen: {', '.join(f'{k} = {v}' for k, v in selection['chosen'].items())}.",
            "",
        ]
    else:
        lines += ["Not measured yet: run `python benchmarks/choose_diabetes.py`.", ""]
    if curve:
        lines += [
            f"Does the recipe gain from more training rows? `{curve['measured_by']}` on "
            f"{curve['date']} ({curve['machine']}), "
            f"dev split only, seeds {', '.join(map(str, curve['seeds']))}:",
            "",
            "| training rows | mean dev accuracy | mean dev loss | dev accuracy by seed |",
            "| ---: | ---: | ---: | --- |",
        ]
        lines += [
            f"| {p['train_rows']} | {p['mean_dev_accuracy']:.2%} | {p['mean_dev_loss']:.4f} | "
            f"{', '.join(f'{a:.2%}' for a in p['dev_accuracy'])} |"
            for p in curve["points"]
        ]
        lines += [
            "",
            "A final fit on train + dev (`train.refit = true` in `recipes/diabetes.toml`) uses this: the "
            "dev rows join the training data once early stopping has chosen the epoch count.",
        ]
    else:
        lines += [
            "Learning curve not measured yet: run `python benchmarks/diabetes_learning_curve.py`."
        ]
    seeds = _load("diabetes_seeds.json")
    if seeds:
        lines += [
            "",
            f"How much is the seed? `{seeds['measured_by']}` on {seeds['date']} ({seeds['machine']}), run after "
            f"the recipe was fixed and choosing nothing: the recipe with seeds {', '.join(map(str, seeds['seeds']))}, "
            f"with and without the refit ({seeds['test_rows']} test rows, one row = {1 / seeds['test_rows']:.2%}).",
            "",
            "| refit | test accuracy by seed | mean | standard deviation | dev accuracy by seed (first fit) |",
            "| --- | --- | ---: | ---: | --- |",
        ]
        lines += [
            f"| {'yes' if v['refit'] else 'no'} | {', '.join(f'{a:.2%}' for a in v['test_accuracy'])} | "
            f"{v['mean_test_accuracy']:.2%} | {v['stdev_test_accuracy']:.2%} | "
            f"{', '.join(f'{a:.2%}' for a in v['dev_accuracy'])} |"
            for v in seeds["variants"]
        ]
    else:
        lines += ["", "Seed spread not measured yet: run `python benchmarks/diabetes_seeds.py`."]
    return lines


def augmentation() -> list[str]:
    data = _load("augmentation_selection.json")
    if not data:
        return ["Not measured yet: run `python benchmarks/choose_augmentation.py`."]
    fields = list(next(iter(data["augmentations"].values())))
    lines = [
        f"Measured by `{data['measured_by']}` on {data['date']} ({data['machine']}): {data['selection']}.",
        "",
        "| augmentation | " + " | ".join(fields) + " |",
        "| --- |" + " ---: |" * len(fields),
    ]
    lines += [
        f"| {name} | " + " | ".join(f"{v:g}" for v in values.values()) + " |"
        for name, values in data["augmentations"].items()
    ]
    lines += [
        "",
        "| recipe | candidate | MNIST dev accuracy | held-out digits dev accuracy | printed / "
        "drawn | epochs | training |",
        "| --- | --- | ---: | ---: | --- | ---: | ---: |",
    ]
    for recipe, result in data["recipes"].items():
        for candidate, t in result["trials"].items():
            chosen = " **(chosen)**" if candidate == result["chosen"] else ""
            kinds = " / ".join(f"{v:.1%}" for v in t["wild_digits_dev_by_kind"].values())
            lines.append(
                f"| `{recipe}` (MNIST dev >= {result['mnist_dev_floor']:.1%}) | {candidate}{chosen} | "
                f"{t['mnist_dev_accuracy']:.2%} | {t['wild_digits_dev_accuracy']:.2%} | {kinds} | "
                f"{t['epochs_run']} | {t['train_seconds']:.0f} s |"
            )
    return lines


def weights_reproducibility() -> list[str]:
    data = _load("weights_reproducibility.json")
    if not data:
        return ["Not measured yet: run `python benchmarks/weights_reproducibility.py`."]
    same = [r for r in data["recipes"] if r["identical"]]
    lines = [
        f"Measured by `{data['measured_by']}` on {data['date']} ({data['machine']}; "
        f"{', '.join(f'{k} {v}' for k, v in data['versions'].items())}): every shipped recipe run again at its "
        f"defaults in a fresh process; **{len(same)} of {len(data['recipes'])}** weights files came out byte-identical "
        "to the shipped ones.",
        "",
        "| recipe | weights | shipped | rerun | identical |",
        "| --- | --- | --- | --- | :-: |",
    ]
    lines += [
        f"| `{r['recipe']}` | `{r['weights']}` | `{r['shipped_sha256'][:16]}` ({r['shipped_on']}) | "
        f"`{r['rerun_sha256'][:16]}` | {'yes' if r['identical'] else '**no**'} |"
        for r in data["recipes"]
    ]
    return lines


def render() -> str:
    parts = [
        "# Benchmarks",
        "",
        "Generated by `python benchmarks/write_results.py` from `benchmarks/results/*.json`; each script",
        "below rewrites its JSON file and then this page. Timings on shared machines drift, so comparisons",
        "are ratios measured within one run.",
        "",
        "## Side by side: the MNIST recipes against keras-io and against their settings before",
        "",
        *side_by_side(),
        "",
        "## Training levers: what mnist_cnn's settings were chosen from",
        "",
        *training_levers(),
        "",
        "## A moving average of the weights: chosen on dev splits over 3 seeds",
        "",
        *weight_averaging(),
        "",
        "## Narrower convolutions: chosen on dev splits over 3 seeds",
        "",
        *conv_width(),
        "",
        "## This CPU's limit",
        "",
        *cpu_peak(),
        "",
        '## Mixed bfloat16 and oneDNN by CPU: what `train.precision = "auto"` picks, and the kernels',
        "",
        *mixed_precision(),
        "",
        "## Inference: every runtime of an export, and Keras predict",
        "",
        *inference(),
        "",
        "## Training: input pipeline, growth with data, achieved GFLOP/s",
        "",
        *training_cost(),
        "",
        "## Where a training step's time goes: each layer alone, against the whole step",
        "",
        *layer_cost(),
        "",
        "## Choosing the hidden width on the dev split",
        "",
        *sweep_mnist(),
        "",
        "## Digits users bring: choosing the MNIST recipes' augmentation on dev splits",
        "",
        *augmentation(),
        "",
        "## Shipped weights: does a rerun reproduce them byte for byte?",
        "",
        *weights_reproducibility(),
        "",
        "## Diabetes: choosing on 154 dev rows, and the refit on train + dev",
        "",
        *diabetes(),
        "",
        "## Command-line latency",
        "",
        *cli_latency(),
        "",
    ]
    return "\n".join(parts)


def save(path: Path, record: dict) -> None:
    """Write a benchmark's record as JSON, then regenerate RESULTS.md from all of them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {path}")
    main()


def main() -> None:
    OUTPUT.write_text(render())
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
