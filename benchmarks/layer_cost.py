"""Where a training step's time goes: each layer's kernels alone, against the whole step.

    python benchmarks/layer_cost.py [--recipes mnist_cnn] [--repeats 3]

For each recipe, in a fresh process per repeat and per set of TensorFlow's CPU kernels (Eigen,
TF_ENABLE_ONEDNN_OPTS=0; oneDNN, 1), the model built as its recipe trains it (its precision), at
the recipe's batch size:

- each layer alone, on random inputs of its input's shape: its forward pass (in training mode);
  the forward pass and the gradients of its weights; the forward pass and the gradient of its
  input (not for the layers up to and including the first with weights: a training step never
  needs it there); and the forward pass with every gradient a training step needs of it. Each
  runs `REPEATS` times, one after another, in a loop inside a `tf.function`, and the figure is
  the best of `CALLS` calls;
- the whole training step as the recipe compiles it (loss, optimizer, its moving average, its
  steps per call): the best of `TIMED_EPOCHS` epochs after the first, over `STEPS` batches of
  random inputs cached in memory (a `tf.data` pipeline with no decoding or augmentation).

Best times, as cpu_peak.py takes its peak: on a shared virtual machine the CPU runs in fast and
slow phases (on the 2-core AVX2 machine, epochs of the same step alternate between about 35 ms
and 53 ms a step), and the best is the CPU's own speed, which the peak is too.

The layers' times added up are what a step would take if the layers ran one after another at the
speed each reaches alone and everything else (loss, optimizer, input, the executor) took no time;
a real step can beat it a little by overlapping layers' work. GFLOP/s count `modelzoo.flops`'s
forward FLOPs once per pass made; RESULTS.md also gives the step's at 3 x the forward FLOPs (as
training_cost.py), and sets them beside the fp32 peak measured on the same machine
(cpu_peak.json). Each figure is the median over `--repeats` processes. Writes
benchmarks/results/layer_cost.json, keeping other machines' records and this machine's other
recipes, and regenerates benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import write_results  # noqa: E402
from benchmarks.epoch_clock import epoch_clock  # noqa: E402
from benchmarks.machine import answer_child, describe, load_average, run_child  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "layer_cost.json"
#: TF_ENABLE_ONEDNN_OPTS of each set of kernels timed.
KERNELS = ("0", "1")
CALLS = 7
REPEATS = 10
STEPS = 48
TIMED_EPOCHS = 5


def time_call(compute, *args) -> float:
    """Seconds of one `compute(*args)` (which returns a list of tensors): a `tf.function` runs it
    `REPEATS` times in a loop, one iteration after another, so that a call's overhead is shared
    out; after a warm-up call (tracing), the best of `CALLS` calls, divided by `REPEATS`."""
    import tensorflow as tf

    @tf.function
    def repeated(*args):
        def body(i, total):
            # one element of each result feeds the loop, so nothing computed is pruned
            picks = [tf.cast(tf.reshape(t, [-1])[0], tf.float32) for t in compute(*args)]
            return i + 1, total + tf.add_n(picks)

        return tf.while_loop(
            lambda i, _: i < REPEATS,
            body,
            (tf.constant(0), tf.constant(0.0)),
            parallel_iterations=1,  # iterations would otherwise overlap and hide each one's cost
        )

    repeated(*args)
    seconds = []
    for _ in range(CALLS):
        start = time.perf_counter()
        repeated(*args)
        seconds.append(time.perf_counter() - start)
    return min(seconds) / REPEATS


def random_batch(shape, dtype: str, rng):
    """Random inputs of `shape` and `dtype`: pixel-like values for integers, normal otherwise."""
    import numpy as np

    if np.dtype(dtype).kind in "iu":
        return rng.integers(0, 256, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def pass_of(layer, weights=(), *, input_gradient: bool = False, gradients: bool = True):
    """`compute(x, dy)` for `time_call`: `layer`'s forward pass in training mode, and unless not
    `gradients`, the gradients (for the output gradient `dy`) of `weights` and, with
    `input_gradient`, of `x`."""
    import tensorflow as tf

    def compute(x, dy):
        if not gradients:
            return [layer(x, training=True)]
        with tf.GradientTape() as tape:
            if input_gradient:
                tape.watch(x)
            y = layer(x, training=True)
        sources = [*weights, x] if input_gradient else list(weights)
        # y too: a layer with no activation needs no forward pass for its gradients otherwise
        return [y, *tape.gradient(y, sources, output_gradients=tf.cast(dy, y.dtype))]

    return compute


def layer_times(model, batch: int) -> list[dict]:
    """Each layer of `model` alone at `batch`: forward and forward-and-backward seconds."""
    import numpy as np
    import tensorflow as tf

    from modelzoo import flops

    rng = np.random.default_rng(0)
    rows, weighted_before = [], False
    for layer in model.layers:
        x = tf.constant(random_batch((batch, *layer.input.shape[1:]), layer.input.dtype, rng))
        dy = tf.constant(random_batch((batch, *layer.output.shape[1:]), "float32", rng))
        input_gradient = weighted_before and x.dtype.is_floating
        weights = layer.trainable_weights

        forward_s = time_call(pass_of(layer, gradients=False), x, dy)
        weights_s = time_call(pass_of(layer, weights), x, dy) if weights else None
        input_s = (
            time_call(pass_of(layer, [], input_gradient=True), x, dy) if input_gradient else None
        )
        if weights and input_gradient:
            both_s = time_call(pass_of(layer, weights, input_gradient=True), x, dy)
        else:
            both_s = weights_s or input_s or forward_s
        rows.append(
            {
                "layer": layer.name,
                "kind": type(layer).__name__,
                "forward_flops": flops.layer_flops(layer) * batch,
                "input_gradient": input_gradient,
                "forward_s": forward_s,
                # forward and the weights' gradients; forward and the input's; forward and both
                "weights_gradient_s": weights_s,
                "input_gradient_s": input_s,
                "forward_backward_s": both_s,
            }
        )
        weighted_before = weighted_before or bool(weights)
    return rows


def step_seconds(model, resolved, batch: int) -> float:
    """Seconds of a training step as the recipe compiles it, on random batches in memory: the best
    epoch after the first (which traces), divided by its steps."""
    import keras
    import numpy as np
    import tensorflow as tf

    from modelzoo import recipe_model

    rng = np.random.default_rng(1)
    examples = STEPS * batch
    x = random_batch((examples, *model.inputs[0].shape[1:]), model.inputs[0].dtype, rng)
    classes = model.outputs[0].shape[-1]
    labels = rng.integers(0, classes, size=examples)
    y = keras.utils.to_categorical(labels, classes) if resolved.one_hot else labels
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch).cache()
    recipe_model.compile_model(model, resolved, examples)
    clock = epoch_clock()
    model.fit(dataset, epochs=1 + TIMED_EPOCHS, callbacks=[clock], verbose=0)
    return min(clock.seconds[1:]) / STEPS


def one_run(job: dict) -> dict:
    """One process's measurements of `job["recipe"]`."""
    import keras

    from modelzoo import flops, hardware, recipe_file, recipe_model

    resolved = recipe_file.load(job["recipe"])
    keras.utils.set_random_seed(resolved.train.seed)
    model = recipe_model.build_model(resolved, pretrained=False)
    batch = resolved.train.batch_size
    layers = layer_times(model, batch)
    return {
        "batch_size": batch,
        "precision": recipe_model.training_precision(resolved),
        "kernels": hardware.cpu_kernels(),
        "training_flops_per_step": flops.training_flops(model) * batch,
        "layers": layers,
        "step_s": step_seconds(model, resolved, batch),
    }


def _median_or_none(values: list[float | None]) -> float | None:
    return None if values[0] is None else statistics.median(values)


def median_runs(runs: list[dict]) -> dict:
    """One record from `runs` of the same recipe and kernels: every time the median over runs."""
    first = runs[0]
    layers = [
        {
            **row,
            "forward_s": statistics.median(run["layers"][i]["forward_s"] for run in runs),
            **{
                key: _median_or_none([run["layers"][i][key] for run in runs])
                for key in ("weights_gradient_s", "input_gradient_s", "forward_backward_s")
            },
        }
        for i, row in enumerate(first["layers"])
    ]
    return {
        **first,
        "layers": layers,
        "step_s": statistics.median(run["step_s"] for run in runs),
        # each run's step, and its layers' times added up, for the spread between processes
        "each_step_s": [run["step_s"] for run in runs],
        "each_layers_s": [sum(row["forward_backward_s"] for row in run["layers"]) for run in runs],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="+", default=["mnist_cnn"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if answer_child(args.one, one_run):
        return

    machine = describe()
    measured = []
    for recipe in args.recipes:
        load_before = load_average()
        per_kernels = []
        for kernels in KERNELS:
            runs = [run_child(__file__, {"recipe": recipe}, kernels) for _ in range(args.repeats)]
            per_kernels.append(median_runs(runs))
            print(recipe, kernels, f"step {per_kernels[-1]['step_s'] * 1e3:.1f} ms", flush=True)
        measured.append(
            {
                "recipe": recipe,
                "measured_by": "python benchmarks/layer_cost.py"
                + (f" --recipes {recipe}" if args.recipes != ["mnist_cnn"] else "")
                + (f" --repeats {args.repeats}" if args.repeats != 3 else ""),
                "date": time.strftime("%Y-%m-%d"),
                "repeats": args.repeats,
                "calls": CALLS,
                "steps": STEPS,
                "load_average": [load_before, load_average()],
                "kernels": per_kernels,
            }
        )
    recorded = write_results.machine_record(RESULTS.name, machine)
    write_results.save_machine_record(
        RESULTS, {"machine": machine, "recipes": merge_recipes(recorded, measured)}
    )


def merge_recipes(recorded: dict | None, measured: list[dict]) -> list[dict]:
    """This machine's recipes: those `recorded` before, each one measured again replaced in its
    place by its new entry, then the recipes measured for the first time."""
    new = {entry["recipe"]: entry for entry in measured}
    kept = [new.pop(entry["recipe"], entry) for entry in (recorded or {}).get("recipes", [])]
    return kept + list(new.values())


if __name__ == "__main__":
    main()
