"""benchmarks/RESULTS.md is exactly what the recorded JSON files render to."""

from pathlib import Path

from benchmarks import write_results

RESULTS_MD = Path(__file__).resolve().parent.parent / "benchmarks" / "RESULTS.md"


def test_results_page_is_current():
    assert write_results.render() == RESULTS_MD.read_text(), (
        "run: python benchmarks/write_results.py"
    )


def test_every_results_figure_names_its_command():
    text = RESULTS_MD.read_text()
    for section in (
        "side_by_side.py",
        "training_levers.py",
        "weight_averaging.py",
        "conv_width.py",
        "mixed_precision.py",
        "cpu_peak.py",
        "cli_latency.py",
        "inference.py",
        "training_cost.py",
        "layer_cost.py",
        "sweep_mnist.py",
        "choose_augmentation.py",
        "weights_reproducibility.py",
    ):
        assert f"python benchmarks/{section}" in text


def test_a_worked_examples_summary_shows_its_line_and_its_answers():
    from benchmarks.publish_weights import details

    metrics = {
        "weights": {"m/prediction/kernel": [[1.97]], "m/prediction/bias": [0.56]},
        "predictions": [{"input": [4.0], "prediction": [8.453]}],
    }
    assert (
        details(metrics, "loss 0.0005")
        == "loss 0.0005; w = 1.970, b = 0.560; prediction 8.453 at x = 4"
    )
    assert (
        details(metrics, "w = 1.970, b = 0.560, test MSE 0.1")
        == "w = 1.970, b = 0.560, test MSE 0.1; prediction 8.453 at x = 4"
    )
    assert (
        details({"weights": {"a/kernel": [[1.0, 2.0]], "a/bias": [0.0, 0.0]}}, "accuracy 90%")
        == "accuracy 90%"
    )


def _fake_results(tmp_path, monkeypatch, peak: float) -> None:
    """A cpu_peak.json measuring `peak`, and inference and training records with no peak of their own."""
    import json

    rate = {"best_gflops": peak, "median_gflops": peak, "size": 64}
    records = {
        "cpu_peak.json": {
            "measured_by": "python benchmarks/cpu_peak.py",
            "date": "d",
            "machine": "m",
            "versions": {"tensorflow": "t", "numpy": "n"},
            "method": "how",
            "fp32_peak_gflops": peak,
            "bf16_peak_gflops": 2 * peak,
            "numpy_fp32_gflops": peak,
            "per_size": {k: [rate] for k in ("tf_float32", "tf_bfloat16", "numpy_float32")},
            "nominal_fp32_gflops": 50.0,
            "nominal_factors": ["cores: 1"],
            "avx512_bf16": False,
        },
        "inference.json": {
            "measured_by": "python benchmarks/inference.py",
            "date": "d",
            "machine": "m",
            "versions": {"tensorflow": "t"},
            "repeats": 1,
            "fp32_peak_gflops": 1.0,  # a stale peak the page must not use
            "headline_batches": [256],
            "target": {"recipe": "mnist_cnn", "batch": 256, "fraction_of_peak": 0.4},
            "recipes": {
                "mnist_cnn": {
                    "paths": {
                        "serving": [
                            {
                                "batch": 256,
                                "examples_per_s": 1.0,
                                "p50_ms": 1.0,
                                "p99_ms": 1.0,
                                "gflops": 50.0,
                            }
                        ]
                    }
                }
            },
        },
    }
    for name, record in records.items():
        (tmp_path / name).write_text(json.dumps(record))
    monkeypatch.setattr(write_results, "RESULTS", tmp_path)


def test_fractions_of_peak_use_the_measured_peak_in_cpu_peak_json(tmp_path, monkeypatch):
    _fake_results(tmp_path, monkeypatch, peak=100.0)
    page = write_results.render()
    assert "fp32 peak: 100.0 GFLOP/s" in page
    assert (
        "nominal fp32 figure computed from /proc/cpuinfo (not measured, and not the peak): 50.0"
        in page
    )
    assert "| 50.0 | 50.0% |" in page
    assert "(50.0 of 100.0 GFLOP/s): **50.0%, met**" in page

    _fake_results(tmp_path, monkeypatch, peak=200.0)
    assert "(50.0 of 200.0 GFLOP/s): **25.0%, not met**" in write_results.render()


def test_a_matmul_rate_is_timed_with_a_warm_up_and_repeats():
    import numpy as np

    from benchmarks.cpu_peak import time_matmul

    a = np.ones((16, 16), dtype=np.float32)
    row = time_matmul(lambda: a @ a, 16, seconds=0.01, repeats=2)
    assert len(row["repeats_gflops"]) == 2 and row["calls_per_repeat"] >= 1
    assert row["best_gflops"] == max(row["repeats_gflops"]) >= row["median_gflops"] > 0


#: A training_cost record's input pipeline: 1,000 examples/s cached, 400 augmented.
PIPELINE = {
    "batch_size": 256,
    "decode_examples_per_s": 1,
    "first_pass_examples_per_s": 1000,
    "cached_examples_per_s": 1000,
    "augmented_first_pass_examples_per_s": 100,
    "augmented_examples_per_s": 400,
}


def test_training_cost_states_what_augmenting_costs_an_epoch(tmp_path, monkeypatch):
    import json

    _fake_results(tmp_path, monkeypatch, peak=100.0)
    row = {"fraction": 1.0, "examples": 100, "epoch_seconds": 0.5, "examples_per_s": 200}
    record = {
        "measured_by": "python benchmarks/training_cost.py",
        "date": "d",
        "machine": "m",
        "repeats": 1,
        "pipeline": {
            **PIPELINE,
            "measured_by": "python benchmarks/training_cost.py --pipeline-only",
            "date": "later",
            "machine": "m",
            "repeats": 3,
        },
        "recipes": {
            name: {
                "training_flops_per_example": 10,
                "augmented": augmented is not None,
                "epochs": [{**row, "gflops": 1.0}],
                "augmented_epoch_seconds": augmented,
                "linearity": 1.0,
            }
            for name, augmented in (("a", 0.6), ("b", None))
        },
    }
    (tmp_path / "training_cost.json").write_text(json.dumps(record))
    lines = write_results.training_cost()
    a, b = (next(line for line in lines if line.startswith(f"- `{name}`")) for name in "ab")
    assert "delivers 2.0x what training consumes (augmented)" in a
    assert "takes 0.60 s against 0.50 s plain: augmenting costs +20% per epoch" in a
    assert "delivers 5.0x what training consumes from the cache" in b and "augmenting" not in b
    pipeline = next(line for line in lines if line.startswith("Input pipeline measured again"))
    assert "`python benchmarks/training_cost.py --pipeline-only` on later" in pipeline
    assert "400 examples/s (100 on its first pass, which also compiles" in pipeline


def test_a_machine_record_replaces_only_that_machines_and_keeps_a_single_old_record(
    tmp_path, monkeypatch
):
    import json

    monkeypatch.setattr(write_results, "main", lambda: None)  # no page regenerated
    path = tmp_path / "cpu_peak.json"
    path.write_text(json.dumps({"machine": "cpu A", "fp32_peak_gflops": 200.0}))  # one, as before
    write_results.save_machine_record(path, {"machine": "cpu B", "fp32_peak_gflops": 100.0})
    write_results.save_machine_record(path, {"machine": "cpu A", "fp32_peak_gflops": 210.0})
    assert json.loads(path.read_text()) == {
        "machines": [
            {"machine": "cpu A", "fp32_peak_gflops": 210.0},
            {"machine": "cpu B", "fp32_peak_gflops": 100.0},
        ]
    }


def test_each_machines_training_is_a_fraction_of_its_own_peak(tmp_path, monkeypatch):
    """Two machines' peaks, a training record from each and one from a machine with no peak: every
    "of fp32 peak" divides by the peak measured where the training was; both kernels are shown."""
    import json

    def rates(gflops):
        return [{"size": 64, "best_gflops": gflops, "median_gflops": gflops}]

    def peak_record(machine, eigen, onednn, bf16=10.0):
        return {
            "measured_by": "python benchmarks/cpu_peak.py",
            "date": "d",
            "machine": machine,
            "versions": {"tensorflow": "t", "numpy": "n"},
            "method": "how",
            "fp32_peak_gflops": max(eigen, onednn),
            "fp32_peak_kernels": "oneDNN" if onednn > eigen else "Eigen",
            "bf16_peak_gflops": bf16,
            "bf16_peak_kernels": "oneDNN",
            "numpy_fp32_gflops": 1.0,
            "per_kernels": {
                "Eigen": {"tf_float32": rates(eigen), "tf_bfloat16": rates(5.0)},
                "oneDNN": {"tf_float32": rates(onednn), "tf_bfloat16": rates(bf16)},
            },
            "per_size": {"numpy_float32": rates(1.0)},
            "nominal_fp32_gflops": 50.0,
            "nominal_factors": [],
            "avx512_bf16": False,
        }

    def training_record(machine):
        row = {"fraction": 1.0, "examples": 100, "epoch_seconds": 1.0, "examples_per_s": 100}
        recipe = {
            "training_flops_per_example": 10,
            "precision": "float32",
            "kernels": "oneDNN",
            "augmented": False,
            "epochs": [{**row, "gflops": 40.0}],
            "augmented_epoch_seconds": None,
            "linearity": 1.0,
        }
        return {
            "measured_by": "python benchmarks/training_cost.py",
            "date": "d",
            "machine": machine,
            "repeats": 1,
            "pipeline": PIPELINE,
            "recipes": {"mnist_cnn": recipe},
        }

    peaks = {
        "machines": [peak_record("cpu A", 80.0, 50.0), peak_record("cpu B", 60.0, 160.0, bf16=20.0)]
    }
    costs = {"machines": [training_record(m) for m in ("cpu A", "cpu B", "cpu C")]}
    (tmp_path / "cpu_peak.json").write_text(json.dumps(peaks))
    (tmp_path / "training_cost.json").write_text(json.dumps(costs))
    monkeypatch.setattr(write_results, "RESULTS", tmp_path)

    peak_page = "\n".join(write_results.cpu_peak())
    assert peak_page.count("### On ") == 2
    assert "**fp32 peak: 80.0 GFLOP/s** (TensorFlow float32 matmul, Eigen kernels" in peak_page
    assert "**fp32 peak: 160.0 GFLOP/s** (TensorFlow float32 matmul, oneDNN kernels" in peak_page
    assert "| TF float32 (Eigen) best / median | TF float32 (oneDNN) best / median |" in peak_page
    assert "| 64 | 60.0 / 60.0 | 160.0 / 160.0 | 5.0 / 5.0 | 20.0 / 20.0 | 1.0 / 1.0 |" in peak_page

    sections = "\n".join(write_results.training_cost()).split("### On ")[1:]
    assert [section.split("\n")[0] for section in sections] == ["cpu A", "cpu B", "cpu C"]
    row = "| `mnist_cnn` | float32, oneDNN kernels | 100% | 100 | 1.00 s | 100 | 40.0 |"
    assert f"{row} 50.0% | 400.0% |" in sections[0]
    assert f"{row} 25.0% | 200.0% |" in sections[1]
    assert f"{row} peak not measured | peak not measured |" in sections[2]


def test_side_by_side_keeps_the_comparisons_of_other_machines():
    from benchmarks import side_by_side

    record = {"machines": [{"machine": "cpu A", "comparisons": {"training": {"time_ratio": 0.2}}}]}
    here = side_by_side.machine_record(record, "cpu B")
    here["comparisons"]["training"] = {"time_ratio": 0.4}
    assert side_by_side.machine_record(record, "cpu A") is record["machines"][0]
    assert [m["machine"] for m in record["machines"]] == ["cpu A", "cpu B"]
    assert record["machines"][0]["comparisons"] == {"training": {"time_ratio": 0.2}}


def test_side_by_side_renders_each_machine_and_what_it_has_not_measured(tmp_path, monkeypatch):
    import json

    from benchmarks import update_readme

    recorded = json.loads((RESULTS_MD.parent / "results" / "side_by_side.json").read_text())
    training = recorded["machines"][0]["comparisons"]["training"]
    other = json.loads(json.dumps(training)) | {"machine": "cpu B", "time_ratio": 0.37}
    other["b"] = {k: v for k, v in other["b"].items() if k != "precision"}  # an older record
    record = {
        "machines": [
            recorded["machines"][0],
            {"machine": "cpu B", "comparisons": {"training": other}},
        ]
    }
    (tmp_path / "side_by_side.json").write_text(json.dumps(record))
    monkeypatch.setattr(write_results, "RESULTS", tmp_path)
    monkeypatch.setattr(update_readme, "RESULTS", tmp_path)

    page = "\n".join(write_results.side_by_side())
    assert page.count("### On ") == 2 and "### On cpu B" in page
    assert page.count("#### Training: keras-io") == 2
    assert "End to end, as a user runs it: not measured on this machine yet" in page
    assert "`mnist_cnn` recipe at its defaults, in mixed_bfloat16 |" in page
    headline = update_readme.render_performance()
    assert "On cpu B, side by side with the keras-io" in headline
    assert "**0.37 x** the example's time" in headline
    assert headline.count("end to end as a user runs it") == 1


def test_weight_averaging_shows_medians_each_seed_and_the_epoch_dev_reached_99(
    tmp_path, monkeypatch
):
    import json

    def run(seed, by_epoch, wild):
        return {
            "seed": seed,
            "precision": "float32",
            "fit_seconds": 100.0 + seed,
            "dev_accuracy_by_epoch": by_epoch,
            "dev_accuracy": by_epoch[-1],
            "wild_digits_dev_accuracy": wild,
        }

    record = {
        "measured_by": "python benchmarks/weight_averaging.py",
        "date": "2026-12-05",
        "machine": "a CPU",
        "seeds": [0, 1, 2],
        "candidates": [
            {
                "label": "no average",
                "overrides": {"train.ema_momentum": 0.0},
                "runs": [
                    run(0, [0.98, 0.988, 0.991], 0.98),
                    run(1, [0.97, 0.989, 0.989], 0.99),
                    run(2, [0.98, 0.990, 0.993], 0.985),
                ],
            }
        ],
    }
    (tmp_path / "weight_averaging.json").write_text(json.dumps(record))
    monkeypatch.setattr(write_results, "RESULTS", tmp_path)
    lines = write_results.weight_averaging()
    assert "one fresh process per seed (0, 1, 2), in float32," in lines[0]
    assert "measured before modelzoo debiased it" in lines[0]  # a record from before
    record["average"] = "debiased"
    (tmp_path / "weight_averaging.json").write_text(json.dumps(record))
    assert "debiased it" not in write_results.weight_averaging()[0]
    assert lines[-1] == (
        "| no average | 98.00%, 98.90%, 99.10% | 3, never, 2 | 99.10% (99.10%, 98.90%, 99.30%) "
        "| 98.5% (98.0%, 99.0%, 98.5%) | 101.0 s |"
    )


def test_a_dev_study_with_epoch_times_and_kernels_shows_them(tmp_path, monkeypatch):
    import json

    def run(seed, by_epoch, epoch_seconds):
        return {
            "seed": seed,
            "precision": "float32",
            "kernels": "oneDNN",
            "fit_seconds": 5 * epoch_seconds + 3,
            "median_epoch_seconds": epoch_seconds,
            "dev_accuracy_by_epoch": by_epoch,
            "dev_accuracy": by_epoch[-1],
            "wild_digits_dev_accuracy": 0.98,
        }

    record = {
        "measured_by": "python benchmarks/conv_width.py",
        "date": "2026-12-05",
        "machine": "a CPU",
        "seeds": [0, 1],
        "candidates": [
            {
                "label": "filters 32, 48",
                "overrides": {"model.filters": [32, 48]},
                "runs": [run(0, [0.985, 0.991], 20.0), run(1, [0.987, 0.989], 22.0)],
            }
        ],
    }
    (tmp_path / "conv_width.json").write_text(json.dumps(record))
    monkeypatch.setattr(write_results, "RESULTS", tmp_path)
    lines = write_results.conv_width()
    assert "one fresh process per seed (0, 1), in float32 with oneDNN kernels," in lines[0]
    assert "| epoch time | fit time |" in lines[2]
    assert lines[-1] == (
        "| filters 32, 48 | 98.60%, 99.00% | 2, never | 99.00% (99.10%, 98.90%) "
        "| 98.0% (98.0%, 98.0%) | 21.0 s | 108.0 s |"
    )


def test_the_kernels_modelzoo_asks_for_are_compared_with_tensorflows_default(tmp_path, monkeypatch):
    import json

    from benchmarks import update_readme

    def row(precision, onednn, kernels, seconds):
        return {
            "precision": precision,
            "onednn": onednn,
            "kernels": kernels,
            "examples": 10800,
            "epoch_seconds": seconds,
            "examples_per_s": round(10800 / seconds),
        }

    cpu = {
        "machine": "cpu A",
        "vector_unit": "AVX2, no BF16",
        "bfloat16_flags": [],
        "auto": "float32",
        "measured_by": "python benchmarks/mixed_precision.py",
        "date": "2026-12-05",
        "recipe": "mnist_cnn",
        "rows": [
            row("float32", "default", "Eigen", 6.0),
            row("float32", "1", "oneDNN", 4.5),
            row("mixed_bfloat16", "1", "oneDNN", 36.0),
        ],
    }
    before = {  # a record from before the kernels were measured: two rows, TensorFlow's default
        **cpu,
        "machine": "cpu B",
        "rows": [
            {"precision": p, "examples": 2700, "epoch_seconds": s, "examples_per_s": 1}
            for p, s in (("float32", 2.0), ("mixed_bfloat16", 1.0))
        ],
        "auto": "mixed_bfloat16",
    }
    (tmp_path / "mixed_precision.json").write_text(json.dumps({"cpus": [cpu, before]}))
    monkeypatch.setattr(write_results, "RESULTS", tmp_path)
    monkeypatch.setattr(update_readme, "RESULTS", tmp_path)
    page = "\n".join(write_results.mixed_precision())
    assert "| float32 | Eigen (TensorFlow default) | 6.00 s |" in page
    assert "take **0.75 x** the epoch time of TensorFlow's default ones on this CPU (Eigen)" in page
    assert "takes **8.00 x** float32's epoch time" in page  # against oneDNN's float32
    assert "takes **0.50 x** float32's epoch time" in page  # the old record, as it was
    assert "which ones was not recorded" in page
    sentences = update_readme._mixed_precision_sentences()
    assert (
        "took **0.75 x** the float32 epoch time of TensorFlow's default ones there (Eigen)"
        in (sentences[0])
    )
    assert "oneDNN" not in sentences[1]


def test_the_readme_headline_names_each_sides_precision_and_kernels():
    from benchmarks import update_readme

    def side(seconds, accuracy, **how):
        return {"training_seconds": seconds, "test_accuracy": accuracy, **how}

    comparisons = {
        "training": {
            "a": side(500.0, 0.9914, kernels="Eigen"),
            "b": side(90.0, 0.9938, precision="float32", kernels="oneDNN"),
            "date": "2026-12-06",
            "repeats": 3,
            "time_ratio": 0.18,
            "threshold_ratio": 0.12,
            "met": True,
        },
        "main_job": {
            "a": side(80.0, 0.9869, precision="float32", kernels="oneDNN"),
            "b": side(30.0, 0.9834, precision="float32", kernels="oneDNN"),
            "date": "2026-12-06",
            "time_ratio": 0.38,
            "target": {"accuracy": 0.98, "time_ratio": 0.5},
            "met": True,
        },
    }
    training, main_job = update_readme._side_by_side_sentences("cpu A", comparisons)
    assert "`mnist_convnet` example (Eigen kernels; 2026-12-06, medians" in training
    assert "the `mnist_cnn` recipe (in float32, oneDNN kernels) trains in **0.18 x**" in training
    assert "`mnist` (in float32, oneDNN kernels) trains in **0.38 x**" in main_job
    assert "its settings before (in float32, oneDNN kernels; 30 s against 80 s;" in main_job


def test_a_benchmark_child_gets_the_kernels_it_asks_for(monkeypatch):
    import platform

    import pytest

    from benchmarks.machine import child_env
    from modelzoo import hardware

    monkeypatch.setenv(hardware.ONEDNN_ENV, "0")  # what a user set
    assert child_env("inherited")[hardware.ONEDNN_ENV] == "0"
    assert child_env("modelzoo")[hardware.ONEDNN_ENV] == "0"  # the user's value wins
    assert hardware.ONEDNN_ENV not in child_env("tensorflow")
    assert child_env("1")[hardware.ONEDNN_ENV] == "1"
    assert child_env("inherited")["TF_CPP_MIN_LOG_LEVEL"] == "2"
    monkeypatch.delenv(hardware.ONEDNN_ENV)
    expected = "1" if platform.machine().lower() in hardware.X86_64 else None
    assert child_env("modelzoo").get(hardware.ONEDNN_ENV) == expected
    with pytest.raises(ValueError, match="one of modelzoo"):
        child_env("oneDNN")


def test_the_peak_is_the_faster_kernels_best_size():
    from benchmarks.cpu_peak import fastest

    def rates(*gflops):
        return [{"size": 2**i, "best_gflops": g} for i, g in enumerate(gflops)]

    measured = {
        "Eigen": {"tf_float32": rates(90.0, 120.0)},
        "oneDNN": {"tf_float32": rates(150.0, 100.0)},
    }
    assert fastest(measured, "tf_float32") == (150.0, "oneDNN")


def test_each_machines_inference_is_judged_against_its_own_peak(tmp_path, monkeypatch):
    import json

    _fake_results(tmp_path, monkeypatch, peak=100.0)  # a peak for machine "m" only
    here = json.loads((tmp_path / "inference.json").read_text())
    elsewhere = {**here, "machine": "n", "kernels": "oneDNN"}
    (tmp_path / "inference.json").write_text(json.dumps({"machines": [here, elsewhere]}))
    sections = "\n".join(write_results.inference()).split("### On ")[1:]
    assert [section.split("\n")[0] for section in sections] == ["m", "n"]
    assert "(50.0 of 100.0 GFLOP/s): **50.0%, met**" in sections[0]
    assert "its CPU kernels oneDNN" in sections[1]
    assert "(50.0 GFLOP/s): **fp32 peak not measured**" in sections[1]


def test_layer_costs_add_up_and_are_set_against_their_own_machines_peak(tmp_path, monkeypatch):
    """Each layer's share of the layers' time and its GFLOP/s (its forward FLOPs once per pass:
    no input's gradient for the first weighted layer); the layers added up and the whole step as
    fractions of the peak measured on the same machine, or a note where it has none."""
    import json

    def layer(name, kind, flops, input_gradient, forward, weights, input_, every):
        return {
            "layer": name,
            "kind": kind,
            "forward_flops": flops,
            "input_gradient": input_gradient,
            "forward_s": forward,
            "weights_gradient_s": weights,
            "input_gradient_s": input_,
            "forward_backward_s": every,
        }

    run = {
        "batch_size": 8,
        "precision": "float32",
        "kernels": "oneDNN",
        "training_flops_per_step": 900_000_000,
        "layers": [
            layer("conv_1", "Conv2D", 200_000_000, False, 0.001, 0.002, None, 0.002),
            layer("pool_1", "MaxPooling2D", 0, True, 0.0005, None, 0.001, 0.001),
            layer("hidden_1", "Dense", 100_000_000, True, 0.0005, 0.001, 0.001, 0.002),
        ],
        "step_s": 0.01,
        "each_step_s": [0.01, 0.012],
        "each_layers_s": [0.005, 0.006],
    }

    def record(machine):
        recipe = {
            "recipe": "mnist_cnn",
            "measured_by": "python benchmarks/layer_cost.py",
            "date": "d",
            "repeats": 2,
            "calls": 7,
            "steps": 48,
            "load_average": [0.5, 1.0],
            "kernels": [run],
        }
        return {"machine": machine, "recipes": [recipe]}

    peaks = {"machines": [{"machine": "cpu A", "fp32_peak_gflops": 400.0}]}
    (tmp_path / "cpu_peak.json").write_text(json.dumps(peaks))
    costs = {"machines": [record("cpu A"), record("cpu C")]}
    (tmp_path / "layer_cost.json").write_text(json.dumps(costs))
    monkeypatch.setattr(write_results, "RESULTS", tmp_path)

    sections = "\n".join(write_results.layer_cost()).split("### On ")[1:]
    assert [section.split("\n")[0] for section in sections] == ["cpu A", "cpu C"]
    a, c = sections
    assert "#### `mnist_cnn`: float32, oneDNN kernels, batches of 8" in a
    assert "| `conv_1` (Conv2D) | 1.00 ms | 2.00 ms | - | 2.00 ms | 40% | 200.0 |" in a
    assert "| `pool_1` (MaxPooling2D) | 0.50 ms | - | 1.00 ms | 1.00 ms | 20% | - |" in a
    assert "| `hidden_1` (Dense) | 0.50 ms | 1.00 ms | 1.00 ms | 2.00 ms | 40% | 150.0 |" in a
    # the FLOPs of the passes made: conv_1 2 x 200 M (no input's gradient), hidden_1 3 x 100 M
    layers = "| the layers one after another (their medians added up) | | | | 5.00 ms |"
    assert f"{layers} | 140.0 (35.0% of fp32 peak) |" in a
    assert "| **the training step, as the recipe trains** | | | | 10.00 ms | | 70.0 (17.5% of" in a
    assert (
        "The largest layer, `conv_1`, makes 57% of the FLOPs in 40% of the layers' time. "
        "Counted as 3 x forward, as the training cost above counts, the step runs at 90.0 GFLOP/s "
        "(22.5% of fp32 peak). Each process: step 10.00 ms, 12.00 ms; layers added up 5.00 ms, "
        "6.00 ms."
    ) in a
    assert "140.0 (fp32 peak not measured) |" in c


def test_measuring_some_recipes_again_keeps_the_machines_others():
    """`layer_cost.py --recipes mnist` replaces mnist's entry in place and keeps mnist_cnn's."""
    from benchmarks.layer_cost import merge_recipes

    recorded = {"machine": "cpu A", "recipes": [{"recipe": "mnist", "date": "old"}]}
    recorded["recipes"].append({"recipe": "mnist_cnn", "date": "old"})
    measured = [{"recipe": "mnist", "date": "new"}, {"recipe": "xor", "date": "new"}]
    assert merge_recipes(recorded, measured) == [
        {"recipe": "mnist", "date": "new"},
        {"recipe": "mnist_cnn", "date": "old"},
        {"recipe": "xor", "date": "new"},
    ]
    assert merge_recipes(None, measured) == measured


def test_a_child_run_answers_its_last_line_or_exits_naming_the_job(tmp_path):
    import pytest

    from benchmarks.machine import run_child
    from modelzoo import hardware

    script = tmp_path / "child.py"
    script.write_text(
        "import json, os, sys\n"
        "job = json.loads(sys.argv[2])\n"
        "print('noise first')\n"
        f"print(json.dumps({{**job, 'kernels': os.environ.get('{hardware.ONEDNN_ENV}')}}))\n"
        "sys.stderr.write(job.get('why', '') + '\\n')\n"
        "sys.exit(job.get('fail', 0))\n"
    )
    assert run_child(str(script), {"n": 1}, "0") == {"n": 1, "kernels": "0"}
    with pytest.raises(
        SystemExit, match=r"child.py \{'fail': 3, .*\} \(kernels: 1\) failed"
    ) as failed:
        run_child(str(script), {"fail": 3, "why": "out of memory"}, "1")
    assert str(failed.value).endswith("out of memory\n")  # the end of the child's stderr


def test_training_cost_of_some_recipes_keeps_the_others_with_their_own_provenance(
    tmp_path, monkeypatch
):
    """`training_cost.py --recipes mnist` replaces mnist's epochs and keeps mnist_cnn's, which
    RESULTS.md then shows with the command and date that measured them."""
    import json

    from benchmarks.training_cost import keep_other_recipes

    def result(gflops):
        row = {"fraction": 1.0, "examples": 100, "epoch_seconds": 0.5, "examples_per_s": 200}
        return {
            "training_flops_per_example": 10,
            "augmented": False,
            "epochs": [{**row, "gflops": gflops}],
            "augmented_epoch_seconds": None,
            "linearity": 1.0,
        }

    def record(command, date, recipes):
        return {
            "measured_by": command,
            "date": date,
            "machine": "m",
            "repeats": 3,
            "pipeline": PIPELINE,
            "recipes": recipes,
        }

    before = record(
        "python benchmarks/training_cost.py",
        "old",
        {"mnist": result(1.0), "mnist_cnn": result(2.0)},
    )
    command = "python benchmarks/training_cost.py --recipes mnist"
    merged = keep_other_recipes(before, record(command, "new", {"mnist": result(3.0)}))
    assert list(merged["recipes"]) == ["mnist", "mnist_cnn"]
    assert merged["recipes"]["mnist"] == result(3.0)
    assert merged["recipes"]["mnist_cnn"]["epochs"] == result(2.0)["epochs"]
    assert keep_other_recipes(None, before) == before

    _fake_results(tmp_path, monkeypatch, peak=100.0)
    (tmp_path / "training_cost.json").write_text(json.dumps(merged))
    lines = write_results.training_cost()
    header = lines.index(next(line for line in lines if line.startswith("Measured by")))
    assert lines[header].startswith(f"Measured by `{command}` on new")
    assert lines[header + 1] == (
        "The epochs of `mnist_cnn` are kept from `python benchmarks/training_cost.py` on old "
        "(medians of 3); the input pipeline beside them is this run's."
    )
    assert lines[header + 2] == ""  # mnist, measured by this run, gets no such line
    twice = keep_other_recipes(merged, record(command, "newer", {"mnist": result(4.0)}))
    assert twice["recipes"]["mnist_cnn"]["date"] == "old"  # a stamp it already has is kept


def test_each_layer_is_timed_with_the_gradients_a_training_step_needs_of_it(monkeypatch):
    """No input's gradient up to and including the first layer with weights; a layer with weights
    gets its weights' gradients; a timed pass returns the forward output with its gradients."""
    import keras
    import numpy as np
    import tensorflow as tf

    from benchmarks import layer_cost

    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Rescaling(0.5, name="scale"),
            keras.layers.Dense(4, name="first"),
            keras.layers.Dropout(0.5, name="drop"),
            keras.layers.Dense(2, name="last"),
        ]
    )
    calls = []

    def fake_time_call(compute, x, dy):
        calls.append(len(compute(x, dy)))  # what the timed pass returns
        return float(len(calls))

    monkeypatch.setattr(layer_cost, "time_call", fake_time_call)
    rows = {row["layer"]: row for row in layer_cost.layer_times(model, batch=5)}
    timings = ("forward_s", "weights_gradient_s", "input_gradient_s", "forward_backward_s")
    assert [rows["scale"][key] for key in timings] == [1.0, None, None, 1.0]
    assert [rows["first"][key] for key in timings] == [2.0, 3.0, None, 3.0]
    assert [rows["drop"][key] for key in timings] == [4.0, None, 5.0, 5.0]
    assert [rows["last"][key] for key in timings] == [6.0, 7.0, 8.0, 9.0]
    assert [rows[name]["input_gradient"] for name in rows] == [False, False, True, True]
    assert rows["first"]["forward_flops"] == 5 * 2 * 3 * 4
    # y, then kernel and bias of `first`; y and x of `drop`; y, kernel, bias and x of `last`
    assert calls == [1, 1, 3, 1, 2, 1, 3, 2, 4]

    x, dy = tf.ones((5, 4)), tf.ones((5, 2))
    layer = model.get_layer("last")
    y, kernel, bias, dx = layer_cost.pass_of(layer, layer.trainable_weights, input_gradient=True)(
        x, dy
    )
    np.testing.assert_allclose(kernel, np.full((4, 2), 5.0))  # sum over the batch of x * dy
    np.testing.assert_allclose(dx, np.ones((5, 2)) @ layer.kernel.numpy().T, rtol=1e-6)
    assert tuple(y.shape) == (5, 2) and tuple(bias.shape) == (2,)


def test_a_child_answers_its_job_as_one_json_line_and_a_parent_run_is_left_alone(capsys):
    from benchmarks.machine import answer_child

    assert answer_child(None, lambda job: {"ran": True}) is False
    assert capsys.readouterr().out == ""
    assert answer_child('{"n": 2}', lambda job: {"twice": job["n"] * 2}) is True
    assert capsys.readouterr().out == '{"twice": 4}\n'
