"""Regenerate the README's generated sections from the registry and benchmarks/results/.

    python benchmarks/update_readme.py          # rewrite the sections in README.md
    python benchmarks/update_readme.py --check  # exit 1 if README.md is out of date

A section lies between `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`; nothing in it
is typed by hand, so the README's figures are always the ones the scripts measured.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT))

import modelzoo  # noqa: E402
from benchmarks import write_results  # noqa: E402
from modelzoo import recipe_file as recipes  # noqa: E402
from modelzoo import weights as shipped  # noqa: E402


def _spec(spec: modelzoo.TensorSpec) -> str:
    return f"`{spec.name}` {spec.dtype}[{','.join(str(d) for d in spec.shape[1:])}]"


def render_held_out_digits() -> str:
    """What the held-out digits hold, from the generator's manifest."""
    from modelzoo.datasets import wild_digits

    m = wild_digits.manifest()
    fonts = {split: [f for f in m["fonts"] if f["split"] == split] for split in m["splits"]}
    families = {split: sorted({f["family"] for f in fonts[split]}) for split in m["splits"]}
    strokes = sorted(
        {k for split in m["splits"].values() for k in split["per_kind"] if k.startswith("stroke:")}
    )
    height = " to ".join(f"{v:.0%}" for v in m["image"]["ink_height_fraction"])
    counts = ", ".join(f"{split} {v['count']}" for split, v in m["splits"].items())
    return (
        f"{sum(v['count'] for v in m['splits'].values())} images ({counts}), "
        f"{m['image']['size'][0]} x {m['image']['size'][1]} {m['image']['dtype']}, {m['image']['ink']}, "
        f"{m['per_digit_per_kind']} per digit printed and as many drawn in each split. Printed: "
        f"{len(m['fonts'])} font files of {sum(len(f) for f in families.values())} families, each family in one "
        "split only "
        f"({', '.join(f'{split}: {len(fonts[split])} files of {len(families[split])} families' for split in fonts)}), "
        f"so `test` measures type designs `dev` never saw. Drawn: {len(strokes)} pen-stroke styles with jittered "
        f"control points, slant, rotation and pen width, other random draws in each split. Both: ink "
        f"{height} of the height anywhere on the canvas, paper grey {m['image']['paper_level'][0]}-"
        f"{m['image']['paper_level'][1]}, ink {m['image']['ink_level'][0]}-{m['image']['ink_level'][1]}, "
        "some blurred or noisy. `dev` chooses the MNIST recipes' augmentation; `test` is only reported, "
        "beside the MNIST test accuracy, in the weights table above. Nothing of it is ever trained on."
    )


def render_models() -> str:
    """The model table: one row per registered model, straight from its card and shipped weights."""
    rows = [
        "| model | task | input -> output | parameters | default loss | shipped weights: test result |",
        "| --- | --- | --- | ---: | --- | --- |",
    ]
    for name in modelzoo.list_models():
        card = modelzoo.model_card(name)
        weights = ", ".join(f"`{w.tag}` {w.summary}" for w in card.weights) or "none yet"
        rows.append(
            f"| `{name}` | {card.task} | {_spec(card.input)} -> {_spec(card.output)} | "
            f"{card.parameters:,} | {card.default_loss} | {weights} |"
        )
    return "\n".join(rows)


def render_weights() -> str:
    """The shipped weights: one row per manifest entry, with the held-out digits beside MNIST's test split."""
    entries = shipped.STORE.entries()
    if not entries:
        return "No weights shipped yet: run `python benchmarks/publish_weights.py`."
    rows = [
        "| `create_model(...)` | input -> output | parameters | recipe | test result | held-out "
        "digits (test) | epochs | file |",
        "| --- | --- | ---: | --- | --- | --- | ---: | ---: |",
    ]
    for w in entries:
        wild = w.metrics.get("wild_digits_test")
        held_out = f"{wild['accuracy']:.2%}" if wild else "-"
        rows.append(
            f'| `{w.model}`, `weights="{w.tag}"` | {w.contract} | {w.parameters:,} | `{w.recipe}` | {w.summary} | '
            f"{held_out} | {w.epochs} | {w.bytes / 1024:.0f} KiB |"
        )
    total = sum(w.bytes for w in entries) + sum(
        (shipped.STORE.folder / w.samples).stat().st_size for w in entries
    )
    dates = sorted({w.trained["date"] for w in entries})
    machines = sorted({w.trained["machine"] for w in entries})
    rows += [
        "",
        f"{len(entries)} weights files, {total / 2**20:.2f} MiB in all with their recorded dev inputs, in "
        f"`modelzoo/weights/` (manifest: `modelzoo/weights/manifest.json`). Trained by `python "
        f"benchmarks/publish_weights.py` ({', '.join(dates)}; {'; '.join(machines)}): each recipe at its "
        "defaults in a fresh process. Held-out digits: the test split of printed and drawn digits, dark on "
        "light, of any size and position, never trained on or chosen by (see Data below).",
    ]
    return "\n".join(rows)


def render_recipes() -> str:
    """The recipe table: each built-in recipe and its last recorded full run (recipes/results.json)."""
    measured = recipes.measured_results()
    rows = [
        "| recipe | model | data | loss | test result | target | met | epochs | training |",
        "| --- | --- | --- | --- | --- | --- | :-: | ---: | ---: |",
    ]
    for name in recipes.builtin_names():
        r = recipes.load(name)
        m = measured.get(name)
        result = ("not measured yet", "", "", "", "")
        if m:
            epochs = str(m["epochs_run"]) + (
                f" + {m['refit']['epochs']} refit" if "refit" in m else ""
            )
            result = (
                m["summary"],
                m["target"],
                "yes" if m["met"] else "**no**",
                epochs,
                f"{m['train_seconds']:.0f} s",
            )
        rows.append(
            f"| `{name}` | `{r.model}` | {r.data} | {r.train.loss} | " + " | ".join(result) + " |"
        )
    dates = sorted({m["date"] for m in measured.values()})
    machines = sorted({m["machine"] for m in measured.values()})
    if measured:
        rows += [
            "",
            f"Measured by `python benchmarks/publish_weights.py` ({', '.join(dates)}; {'; '.join(machines)}): "
            "each recipe at its defaults in a fresh process; training is the wall time of `model.fit` "
            "(of both fits where a recipe refits on train + dev) in that one run, the run whose weights are "
            "shipped. The `mnist_cnn` time under Performance is a separate, repeated measurement.",
        ]
    return "\n".join(rows)


def render_cli_latency() -> str:
    """Median start-to-exit times of the instant commands, from cli_latency.json."""
    path = RESULTS / "cli_latency.json"
    if not path.exists():
        return "Not measured yet: run `python benchmarks/cli_latency.py`."
    data = json.loads(path.read_text())
    lines = [
        f"Measured by `{data['measured_by']}` on {data['date']} "
        f"({data['machine']}{write_results.load_note(data)}), "
        f"median of {data['commands'][0]['runs']} fresh processes; target < {data['target_s']} s:",
        "",
        "| command | median | slowest |",
        "| --- | ---: | ---: |",
    ]
    lines += [
        f"| `{c['command']}` | {c['median_s']:.3f} s | {c['max_s']:.3f} s |"
        for c in data["commands"]
    ]
    return "\n".join([*lines, "", *write_results.predict_latency(data)])


def render_export_formats() -> str:
    """Each shipped model's formats: sizes, parity with Keras, int8 accuracy, from export_formats.json."""
    path = RESULTS / "export_formats.json"
    if not path.exists():
        return "Not measured yet: run `python benchmarks/export_formats.py`."
    data = json.loads(path.read_text())

    def size(record: dict) -> str:
        return f"{record['bytes'] / 1e3:,.0f} kB" if "bytes" in record else ""

    def checked(record: dict | None) -> str:
        if not record:
            return "not exported"
        if "refused" in record:
            return f"refused: {record['refused'].removeprefix('modelzoo: error: ')}"
        if "accuracy" in record:
            return (
                f"{size(record)}; test {record['accuracy']:.2%} (float {record['float_accuracy']:.2%}, "
                f"{record['examples']:,} examples)"
            )
        return f"{size(record)}; max diff {record['max_abs_diff']:.0e}"

    lines = [
        f"Measured by `{data['measured_by']}` on {data['date']} ({data['machine']}); sizes of the "
        "model files (the SavedModel: saved_model.pb and variables), the largest difference from "
        "the Keras outputs, int8 accuracy against the float model's on the same test examples:",
        "",
        "| model:weights | SavedModel | ONNX | LiteRT float32 | LiteRT int8 |",
        "| --- | ---: | --- | --- | --- |",
    ]
    for row in data["exports"]:
        formats = row["formats"]
        if "failed" in row:
            lines.append(f"| `{row['model']}:{row['weights']}` | failed: {row['failed']} | | | |")
            continue
        lines.append(
            f"| `{row['model']}:{row['weights']}` | {size(formats['savedmodel'])} | "
            f"{checked(formats.get('onnx'))} | {checked(formats.get('litert'))} | "
            f"{checked(formats.get('litert-int8')) if 'litert-int8' in formats else 'regression: not exported'} |"
        )
    return "\n".join(lines)


def render_tests() -> str:
    """How many tests each marker selects and how long the unit tests take, from unit_test_time.json."""
    path = RESULTS / "unit_test_time.json"
    if not path.exists():
        return "Not measured yet: run `python benchmarks/unit_test_time.py`."
    data = json.loads(path.read_text())
    return "\n".join(
        [
            "```bash",
            # records from before the tests ran in parallel name neither
            data.get("unit_command", f'python -m pytest -m "{data["unit_marker"]}"')
            + f"   # the {data['unit_tests']} unit tests: {data['unit_seconds']:.0f} s"
            + (f" on {data['workers']} workers" if "workers" in data else ""),
            "```",
            "",
            f"Of the {data['all_tests']} tests, {data['slow_tests']} more are marked `slow` (each "
            "trains or exports a model, "
            f"seconds to minutes) and {data['integration_tests']} `integration` (real data from "
            "the mirror); `python -m pytest -n auto --dist worksteal` "
            f"runs them all, which takes minutes. Measured by `{data['measured_by']}` on "
            f"{data['date']} ({data['machine']}): "
            "the wall time of one run in a fresh process, without a mirror.",
        ]
    )


def render_performance() -> str:
    """The headline of benchmarks/RESULTS.md's side-by-side comparisons (benchmarks/side_by_side.py)."""
    path = RESULTS / "side_by_side.json"
    machines = json.loads(path.read_text()).get("machines", []) if path.exists() else []
    if not machines:
        return "Not measured yet: run `python benchmarks/side_by_side.py`."
    sentences = []
    for entry in machines:
        sentences += _side_by_side_sentences(entry["machine"], entry["comparisons"])
    sentences += _mixed_precision_sentences()
    published = recipes.measured_results().get("mnist_cnn")
    if published:
        sentences.append(
            f"The recipe table's {published['train_seconds']:.0f} s for `mnist_cnn` is a different "
            f"measurement: `model.fit`'s wall time in the single run that published its weights "
            f"({published['date']}, {published['machine']})."
        )
    sentences.append(
        "All figures and how they were measured: [benchmarks/RESULTS.md](benchmarks/RESULTS.md)."
    )
    return " ".join(sentences)


def _how(side: dict) -> str:
    """How a side trained, where recorded: "in float32, oneDNN kernels" (or "")."""
    parts = [f"in {side['precision']}"] if "precision" in side else []
    parts += [f"{side['kernels']} kernels"] if "kernels" in side else []
    return ", ".join(parts)


def _in_precision(side: dict) -> str:
    return f" ({_how(side)})" if _how(side) else ""


def _and(side: dict) -> str:
    """`_how(side)` as the first item of a parenthesis that goes on ("in float32; ")."""
    return f"{_how(side)}; " if _how(side) else ""


def _side_by_side_sentences(machine: str, comparisons: dict) -> list[str]:
    """The headline of one machine's side-by-side comparisons, each sentence naming the machine."""
    sentences = []
    training = comparisons.get("training")
    if training:
        a, b = training["a"], training["b"]
        sentence = (
            f"On {machine}, side by side with the keras-io `mnist_convnet` example "
            f"({_and(a)}{training['date']}, medians of {training['repeats']} alternating pairs and seeds), "
            f"the `mnist_cnn` recipe{_in_precision(b)} trains in "
            f"**{training['time_ratio']:.2f} x** the example's time ({b['training_seconds']:.0f} s "
            f"against {a['training_seconds']:.0f} s) to {b['test_accuracy']:.2%} test accuracy "
            f"against {a['test_accuracy']:.2%}"
        )
        if training.get("threshold_ratio") is not None:
            sentence += (
                f", and reaches 99.0% in **{training['threshold_ratio']:.2f} x** the example's time"
            )
        sentences.append(sentence + f" (targets: {'met' if training['met'] else 'not all met'}).")
    where = "There" if training else f"On {machine}"
    end_to_end = comparisons.get("end_to_end")
    if end_to_end:
        sentences.append(
            f"{where}, end to end as a user runs it (whole processes, export and its verification "
            f"included; {end_to_end['date']}), `python -m modelzoo.recipes mnist_cnn` takes "
            f"**{end_to_end['time_ratio']:.2f} x** the example's time "
            f"({end_to_end['b']['seconds']:.0f} s against {end_to_end['a']['seconds']:.0f} s; target "
            f"<= {end_to_end['target']['time_ratio']} x: {'met' if end_to_end['met'] else 'not met'})."
        )
    main_job = comparisons.get("main_job")
    if main_job:
        sentences.append(
            f"{where}, the main job `mnist`{_in_precision(main_job['b'])} trains in "
            f"**{main_job['time_ratio']:.2f} x** the time of its settings before "
            f"({_and(main_job['a'])}{main_job['b']['training_seconds']:.0f} s against "
            f"{main_job['a']['training_seconds']:.0f} s; {main_job['date']}) to "
            f"{main_job['b']['test_accuracy']:.2%} test accuracy (target: >= "
            f"{main_job['target']['accuracy']:.1%} at <= {main_job['target']['time_ratio']} x: "
            f"{'met' if main_job['met'] else 'not met'})."
        )
    return sentences


def _mixed_precision_sentences() -> list[str]:
    """What mixed bfloat16 costs on each CPU measured (benchmarks/mixed_precision.py)."""
    path = RESULTS / "mixed_precision.json"
    sentences = []
    for cpu in json.loads(path.read_text())["cpus"] if path.exists() else []:
        f32, bf16, default = write_results.precision_rows(cpu)
        times = bf16["epoch_seconds"] / f32["epoch_seconds"]
        sentence = (
            f"On {cpu['machine']} ({cpu['date']}), mixed bfloat16 took **{times:.2f} x** "
            f'float32\'s epoch time for `mnist_cnn`, whose `precision = "auto"` trains in '
            f"**{cpu['auto']}** there"
        )
        if default is not None and default["kernels"] != f32["kernels"]:
            sentence += (
                f"; oneDNN's CPU kernels, which modelzoo's commands ask TensorFlow for, took "
                f"**{f32['epoch_seconds'] / default['epoch_seconds']:.2f} x** the float32 epoch "
                f"time of TensorFlow's default ones there ({default['kernels']})"
            )
        sentences.append(sentence + ".")
    return sentences


#: The exports whose REST requests the README shows: one image model, one feature model.
REST_EXAMPLES = ("mnist", "diabetes")


def _json(value) -> str:
    return json.dumps(value, separators=(", ", ": "))


def render_rest_examples() -> str:
    """curl requests for TF Serving's REST API, built from the signatures of the recorded exports."""
    measured = recipes.measured_results()
    blocks = []
    for name in REST_EXAMPLES:
        example = measured.get(name, {}).get("serving")
        if not example:
            blocks.append(
                f"(`{name}`: not measured yet; run `python benchmarks/publish_weights.py {name}`)"
            )
            continue
        model = example["model"]
        ((key, spec),) = example["inputs"].items()
        url = f"http://localhost:8501/v1/models/{model}"
        outputs = ", ".join(f"`{k}` {v.split(' ', 1)[1]}" for k, v in example["outputs"].items())
        lines = [
            f"`{model}` takes `{spec}` and answers {outputs} per instance:",
            "",
            "```bash",
            f"curl -s {url}              # version status",
            f"curl -s {url}/metadata     # the serving_default signature",
        ]
        dims = spec[spec.index("[") + 1 : -1].split(",")
        if (
            len(dims) == 3
        ):  # an image: the body from `modelzoo predict --print-request`, the model's own preparation
            lines += [
                f"modelzoo predict saved_models/{model} --print-request digit.png | curl -s -X "
                f"POST {url}:predict -d @-",
                "```",
                "",
                f'`--print-request` prints the body and predicts nothing: `{{"signature_name": "serving_default", '
                f'"instances": [...]}}`, one {spec.split(" ", 1)[1]} per file, made from photos, scans or drawings of '
                "any size exactly as `modelzoo predict` makes its input (a raw photo resized to 28x28 is dark ink on "
                "light paper, which an MNIST model misreads). It reads the signature from the export, from shipped "
                "weights (`small_cnn:mnist`) or from a server (`--url URL --model NAME`).",
            ]
        else:
            prediction = {
                k: [round(x, 4) for x in v] for k, v in example["example_prediction"].items()
            }
            answer = list(prediction.values())[0:1] if len(prediction) == 1 else [prediction]
            lines += [
                f"curl -s -X POST {url}:predict -d '{_json({'instances': [example['example_instance']]})}'",
                "```",
                "",
                f"The answer for this recorded dev-set row, as the export's Keras model gave it: "
                f"`{_json({'predictions': answer})}`.",
            ]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def render_diabetes_seeds() -> str:
    """The diabetes test accuracy over seeds, with and without the refit, from diabetes_seeds.json."""
    path = RESULTS / "diabetes_seeds.json"
    if not path.exists():
        return (
            "The spread over seeds is not measured yet: run `python benchmarks/diabetes_seeds.py`."
        )
    data = json.loads(path.read_text())
    by_refit = {v["refit"]: v for v in data["variants"]}
    recorded = recipes.measured_results().get("diabetes", {}).get("test", {}).get("accuracy")

    def spread(v):
        return (
            f"{v['mean_test_accuracy']:.2%} (standard deviation {v['stdev_test_accuracy']:.2%}, "
            f"{min(v['test_accuracy']):.2%} to {max(v['test_accuracy']):.2%})"
        )

    text = (
        f"Over seeds {', '.join(map(str, data['seeds']))} (`{data['measured_by']}`, {data['date']}), the diabetes "
        f"test accuracy averages {spread(by_refit[True])} with the refit and {spread(by_refit[False])} without. "
    )
    if recorded is not None:
        text += f"The recorded seed-0 run's {recorded:.2%} is one draw from that spread, not a property of the recipe."
    return text


def render_diabetes_steps() -> str:
    """The notes' diabetes network to the tuned recipe, one change at a time, from diabetes_from_the_notes.json."""
    path = RESULTS / "diabetes_from_the_notes.json"
    if not path.exists():
        return "Not measured yet: run `python benchmarks/diabetes_from_the_notes.py`."
    data = json.loads(path.read_text())
    rows = [
        "| step | test accuracy, mean (sd) | min - max | dev accuracy, mean |",
        "| --- | ---: | ---: | ---: |",
    ]
    for step in data["steps"]:
        rows.append(
            f"| {step['step']} | {step['mean_test_accuracy']:.2%} ({step['stdev_test_accuracy']:.2%}) | "
            f"{min(step['test_accuracy']):.2%} - {max(step['test_accuracy']):.2%} | {step['mean_dev_accuracy']:.2%} |"
        )
    from modelzoo.datasets.pima_diabetes.rows import read_rows, stratified_split

    _, labels = read_rows()
    negative = 1 - labels[stratified_split(labels)["test"]].mean()
    rows += [
        "",
        f"Seeds {', '.join(map(str, data['seeds']))}, {data['test_rows']} test rows, measured by "
        f'`{data["measured_by"]}` ({data["date"]}; {data["machine"]}). Answering "tested negative" for '
        f"every row scores {negative:.2%} on test.",
    ]
    return "\n".join(rows)


def render_evaluation() -> str:
    """mnist_cnn's evaluation pictures and the command that made them (benchmarks/evaluation_figures.py)."""
    result = json.loads((RESULTS / "evaluation.json").read_text())
    recorded = result["recorded_accuracy"]
    same = (
        f"the {recorded:.2%} its run recorded"
        if recorded is not None and round(recorded, 4) == round(result["accuracy"], 4)
        else "not the accuracy its run recorded"
    )
    pictures = result["pictures"]
    return (
        "```\n"
        f"{result['command']}\n"
        "```\n\n"
        f"`{result['target']}` on {result['data']}'s {result['split']} split: accuracy "
        f"{result['accuracy']:.2%} ({same}), {result['mistakes']} mistakes in "
        f"{result['examples']} examples, expected calibration error "
        f"{result['expected_calibration_error']:.4f}.\n\n"
        f"![mnist_cnn confusion matrix]({pictures['confusion_matrix']})\n\n"
        f"![mnist_cnn's most confidently wrong test digits]({pictures['mistakes']})"
    )


SECTIONS: dict[str, Callable[[], str]] = {
    "evaluation": render_evaluation,
    "weights": render_weights,
    "held-out-digits": render_held_out_digits,
    "models": render_models,
    "recipes": render_recipes,
    "diabetes-seeds": render_diabetes_seeds,
    "diabetes-steps": render_diabetes_steps,
    "cli-latency": render_cli_latency,
    "rest-examples": render_rest_examples,
    "performance": render_performance,
    "tests": render_tests,
    "export-formats": render_export_formats,
}


def render(text: str) -> str:
    """`text` with every generated section replaced by a fresh rendering."""
    for name, renderer in SECTIONS.items():
        pattern = re.compile(rf"(<!-- generated:{name} -->\n).*?(<!-- /generated:{name} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"README.md has no '<!-- generated:{name} -->' section")
        rendered = renderer()
        text = pattern.sub(lambda m, body=rendered: m.group(1) + body + "\n" + m.group(2), text)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="only report whether README.md is current"
    )
    args = parser.parse_args()
    current = README.read_text()
    fresh = render(current)
    if args.check:
        if fresh != current:
            sys.exit("README.md is out of date: run python benchmarks/update_readme.py")
        print("README.md is up to date")
    elif fresh != current:
        README.write_text(fresh)
        print("README.md updated")


if __name__ == "__main__":
    main()
