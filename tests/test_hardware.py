"""train.precision = "auto": bfloat16 only where the hardware computes it (modelzoo.hardware)."""

import json
import os
import platform
import subprocess
import sys

import keras
import pytest
from click.testing import CliRunner

from modelzoo import hardware, recipe_model
from modelzoo import recipe_file as recipes
from modelzoo.cli import cli
from modelzoo.cli import main as cli_main
from modelzoo.recipe_model import build_model

#: /proc/cpuinfo flags of the two 2-core AMD EPYC machines this project has been measured on.
AVX2 = frozenset("fpu sse sse2 ssse3 sse4_1 sse4_2 fma avx avx2 f16c bmi2".split())
AVX512_BF16 = AVX2 | {"avx512f", "avx512bw", "avx512_vnni", "avx512_bf16"}
ARM_BF16 = frozenset("fp asimd aes crc32 atomics sve bf16 i8mm".split())


@pytest.mark.parametrize(
    "text, flags",
    [
        ("processor\t: 0\nflags\t\t: fpu avx2 fma\nbugs\t\t: none\n", {"fpu", "avx2", "fma"}),
        ("processor\t: 0\nFeatures\t: fp asimd bf16\n", {"fp", "asimd", "bf16"}),
        ("processor\t: 0\nmodel name\t: something\n", set()),
    ],
)
def test_cpu_flags_are_read_from_cpuinfo(tmp_path, text, flags):
    (tmp_path / "cpuinfo").write_text(text)
    assert hardware.cpu_flags(tmp_path / "cpuinfo") == flags


def test_no_cpuinfo_means_no_flags(tmp_path):
    assert hardware.cpu_flags(tmp_path / "missing") == frozenset()


@pytest.mark.parametrize(
    "flags, gpus, expected",
    [
        (AVX2, [], "float32"),
        (AVX512_BF16, [], "mixed_bfloat16"),
        (AVX2 | {"amx_bf16"}, [], "mixed_bfloat16"),
        (ARM_BF16, [], "mixed_bfloat16"),
        (frozenset(), [], "float32"),
        # a GPU trains when TensorFlow sees one: its tensor cores decide, not the CPU
        (AVX512_BF16, [(7, 5)], "float32"),
        (AVX2, [(8, 0)], "mixed_bfloat16"),
        (AVX2, [(9, 0), (8, 6)], "mixed_bfloat16"),
        (AVX2, [(9, 0), (7, 0)], "float32"),
    ],
)
def test_auto_is_bfloat16_only_on_hardware_with_bfloat16_arithmetic(flags, gpus, expected):
    assert hardware.auto_precision(flags, gpus) == expected


@pytest.mark.parametrize(
    "flags, expected",
    [(AVX2, "AVX2, no BF16"), (AVX512_BF16, "AVX-512, BF16"), (ARM_BF16, "SVE, BF16")],
)
def test_the_vector_unit_is_described_for_benchmark_records(flags, expected):
    assert hardware.describe_vector_unit(flags) == expected


@pytest.fixture
def machine(monkeypatch):
    """Pretend to be a CPU-only machine with the given flags (recipe_model's cache cleared)."""

    def pretend(flags):
        monkeypatch.setattr(hardware, "cpu_flags", lambda *_: flags)
        monkeypatch.setattr(hardware, "gpu_capabilities", lambda: [])
        recipe_model._auto_precision.cache_clear()

    yield pretend
    recipe_model._auto_precision.cache_clear()


def _compute_dtypes(model):
    return {layer.dtype_policy.compute_dtype for layer in model.layers}


def test_mnist_cnn_trains_in_float32_on_a_cpu_without_bfloat16(machine):
    """Emulated bfloat16 trained mnist_cnn several times slower than float32 on an AVX2 CPU
    (benchmarks/RESULTS.md, "Mixed bfloat16 and oneDNN by CPU"); its recipe asked for it
    everywhere."""
    machine(AVX2)
    recipe = recipes.load("mnist_cnn")
    assert recipe_model.training_precision(recipe) == "float32"
    assert _compute_dtypes(build_model(recipe)) == {"float32"}


def test_mnist_cnn_trains_in_mixed_bfloat16_on_a_cpu_with_bfloat16(machine):
    machine(AVX512_BF16)
    recipe = recipes.load("mnist_cnn")
    assert recipe_model.training_precision(recipe) == "mixed_bfloat16"
    *hidden, output = build_model(recipe).layers
    assert {layer.dtype_policy.compute_dtype for layer in hidden} == {"bfloat16"}
    assert output.dtype_policy.compute_dtype == "float32"
    assert keras.config.dtype_policy().name == "float32"


@pytest.mark.parametrize("precision", ["float32", "mixed_bfloat16"])
def test_an_explicit_precision_is_kept_whatever_the_hardware(machine, precision):
    machine(AVX2)
    recipe = recipes.load("mnist_cnn", {"train.precision": precision})
    assert recipe_model.training_precision(recipe) == precision


@pytest.mark.slow
def test_a_run_says_and_records_what_auto_chose(machine, tmp_path):
    from modelzoo import training

    machine(AVX2)
    said = []
    result = training.run(
        recipes.load("xor", {"train.precision": "auto", "train.epochs": 1}),
        runs_root=tmp_path,
        export_dir=None,
        echo=said.append,
    )
    assert ", in float32 (auto)); run folder" in said[0]
    assert result.metrics["precision"] == "float32"


def test_with_onednn_off_the_cpu_has_no_native_bfloat16(monkeypatch):
    """TF_ENABLE_ONEDNN_OPTS=0: TensorFlow's own kernels emulate bfloat16 whatever the CPU has."""
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    assert hardware.auto_precision(AVX512_BF16, gpus=[]) == "float32"
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "1")
    assert hardware.auto_precision(AVX512_BF16, gpus=[]) == "mixed_bfloat16"


def test_a_gpu_that_reports_no_compute_capability_counts_as_without_bfloat16(monkeypatch):
    import tensorflow as tf

    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind: ["GPU:0", "GPU:1"])
    details = {"GPU:0": {"compute_capability": (9, 0)}, "GPU:1": {}}
    monkeypatch.setattr(tf.config.experimental, "get_device_details", details.__getitem__)
    assert hardware.gpu_capabilities() == [(9, 0), (0, 0)]
    assert hardware.auto_precision(AVX2) == "float32"


@pytest.mark.slow
def test_auto_on_bfloat16_hardware_trains_mixed_and_exports_float32(machine, tmp_path):
    """Where "auto" picks mixed_bfloat16, the run tests and exports its float32 copy."""
    from modelzoo import training

    machine(AVX512_BF16)
    result = training.run(
        recipes.load("xor", {"train.precision": "auto", "train.epochs": 1}),
        runs_root=tmp_path / "runs",
        export_dir=tmp_path / "saved_models",
        echo=lambda *_: None,
        publish_anyway=True,
    )
    assert result.metrics["precision"] == "mixed_bfloat16"
    assert (result.export_path / "saved_model.pb").is_file()
    exported = keras.layers.TFSMLayer(str(result.export_path), call_endpoint="serving_default")
    (output,) = exported(keras.ops.zeros((1, 2), "float32")).values()
    assert output.dtype == "float32"


def test_onednn_is_asked_for_unless_the_user_chose():
    """On Linux TensorFlow turns its oneDNN kernels on by itself only where the CPU has neural
    network instructions (AVX-512 VNNI or BF16, AVX-VNNI, AMX); modelzoo's commands ask for them
    everywhere, and a TF_ENABLE_ONEDNN_OPTS the user set wins."""
    for machine in ("x86_64", "AMD64"):
        unset: dict[str, str] = {}
        hardware.prefer_onednn(unset, machine)
        assert unset == {"TF_ENABLE_ONEDNN_OPTS": "1"}
        for chosen in ("0", "1"):
            environ = {"TF_ENABLE_ONEDNN_OPTS": chosen}
            hardware.prefer_onednn(environ, machine)
            assert environ == {"TF_ENABLE_ONEDNN_OPTS": chosen}
    arm: dict[str, str] = {}  # unmeasured there: TensorFlow's own choice
    hardware.prefer_onednn(arm, "aarch64")
    assert arm == {}


@pytest.mark.parametrize("chosen", [None, "0"])
def test_the_command_asks_for_onednn_before_tensorflow_loads(monkeypatch, chosen):
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "so that the test's end restores it")
    if chosen is None:
        monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS")
    else:
        monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", chosen)
    monkeypatch.setattr(sys, "argv", ["modelzoo", "list"])
    with pytest.raises(SystemExit) as exit:
        cli_main()
    assert exit.value.code == 0
    x86 = platform.machine().lower() in hardware.X86_64
    assert os.environ.get("TF_ENABLE_ONEDNN_OPTS") == (chosen or ("1" if x86 else None))


def test_importing_modelzoo_or_invoking_its_commands_in_process_leaves_the_choice_alone(
    monkeypatch,
):
    """A library user (or a test's CliRunner) keeps TensorFlow's own choice of kernels."""
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "so that the test's end restores it")
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS")
    assert CliRunner().invoke(cli, ["list"]).exit_code == 0
    assert "TF_ENABLE_ONEDNN_OPTS" not in os.environ


@pytest.mark.slow
@pytest.mark.skipif(
    platform.machine().lower() not in hardware.X86_64, reason="oneDNN is asked for on x86-64"
)
@pytest.mark.parametrize("chosen, kernels", [(None, "oneDNN"), ("0", "Eigen")])
def test_a_run_trains_with_onednn_and_records_the_kernels(tmp_path, chosen, kernels):
    """A whole `python -m modelzoo.recipes` process: oneDNN's kernels, whatever TensorFlow's
    default on this CPU, unless the user turned them off."""
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    if chosen is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = chosen
    command = [sys.executable, "-m", "modelzoo.recipes", "xor", "--epochs", "1", "--no-export"]
    subprocess.run([*command, "--run-dir", str(tmp_path / "run")], env=env, check=True)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["cpu_kernels"] == kernels


def test_the_kernels_are_unknown_where_tensorflow_no_longer_says(monkeypatch):
    """cpu_kernels reads a private TensorFlow module: a release without it must not fail a run."""
    from tensorflow.python.util import _pywrap_util_port

    assert hardware.cpu_kernels() in ("oneDNN", "Eigen")
    monkeypatch.delattr(_pywrap_util_port, "IsMklEnabled")
    assert hardware.cpu_kernels() == "unknown"
