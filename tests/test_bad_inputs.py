"""Every bad input of issue 15 (item 9), through the real command lines: one line, the right exit
code, no traceback, nothing written, and (where the mistake can be seen without it) no TensorFlow.

Each row would otherwise have printed a traceback, failed inside TensorFlow after the run
folder was written, trained to nonsense and exited 0, or trained and then failed to export.
"""

import dataclasses
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from test_inputs import zeros_png  # the same 21 KB, 169-megapixel PNG

from modelzoo import recipe_file as recipes
from modelzoo.augment import Augmentation
from modelzoo.losses import fitting_losses, loss_problem, model_output
from modelzoo.registry import factory_parameters

RECIPES_CLI = "python -m modelzoo.recipes"
HUGE = str(2**70)
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def recipe_file(text: str, name: str = "bad.toml") -> Callable[[Path], None]:
    return lambda folder: (folder / name).write_text(text)


def read_only_folder(folder: Path) -> None:
    (folder / "ro").mkdir()
    (folder / "ro").chmod(0o500)


def unreadable_recipe(folder: Path) -> None:
    (folder / "secret.toml").write_text(recipes.find("xor").read_text())
    (folder / "secret.toml").chmod(0)


MNIST_DATA_NAME_LIST = (
    recipes.find("mnist")
    .read_text()
    .replace('name = "mnist"\n\n[train]', 'name = ["mnist"]\n\n[train]')
)
assert 'name = ["mnist"]' in MNIST_DATA_NAME_LIST
QUICK = ["--max-examples", "64", "--epochs", "1"]  # keeps the old code's runs of these rows short


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    command: str  # "recipes" or "modelzoo"
    args: list[str]  # "{in}" is the folder with the row's input files, outside the working folder
    code: int
    message: str  # a fragment of the one error line, after "{in}" is filled in
    setup: Callable[[Path], None] | None = None
    root_skips: bool = False  # root may write anywhere and read anything: the row tests nothing


CASES = [
    # the recipe file itself
    Case(
        "non-utf8-recipe",
        "recipes",
        ["{in}/bad.toml"],
        2,
        "{in}/bad.toml:2: not UTF-8 text (byte 0xff at offset 17)",
        lambda f: (f / "bad.toml").write_bytes(b'description = ""\n\xff\xfe[model]\n'),
    ),
    Case(
        "recipe-is-a-folder",
        "recipes",
        ["{in}/folder.toml"],
        2,
        "recipe file {in}/folder.toml is a folder",
        lambda f: (f / "folder.toml").mkdir(),
    ),
    Case(
        "unreadable-recipe",
        "recipes",
        ["{in}/secret.toml"],
        2,
        "recipe file {in}/secret.toml cannot be read: Permission denied",
        unreadable_recipe,
        root_skips=True,
    ),
    Case(
        "invalid-toml",
        "recipes",
        ["{in}/bad.toml"],
        2,
        "bad.toml: not valid TOML",
        recipe_file("[model\n"),
    ),
    # fields of the wrong type
    Case(
        "data-name-list-in-file",
        "recipes",
        ["{in}/bad.toml"],
        2,
        "{in}/bad.toml:9: data.name: must be a string, got ['mnist']",
        recipe_file(MNIST_DATA_NAME_LIST),
    ),
    Case(
        "data-name-list-by-set",
        "recipes",
        ["mnist", "--set", 'data.name=["mnist"]'],
        2,
        "mnist.toml, --set: data.name: must be a string, got ['mnist']",
    ),
    Case(
        "model-name-list",
        "recipes",
        ["xor", "--set", "model.name=[1]"],
        2,
        "model.name: must be a string, got [1]",
    ),
    Case(
        "export-name-table",
        "recipes",
        ["xor", "--set", "export.name={a=1}"],
        2,
        "export.name: must be a string",
    ),
    # numbers beyond what numpy and TensorFlow take
    Case(
        "seed-2**70",
        "recipes",
        ["linear", "--seed", HUGE],
        2,
        f"error: --seed: must be at most 4294967295 (2**32 - 1), got {HUGE}",
    ),
    Case(
        "seed-2**32-by-set",
        "recipes",
        ["linear", "--set", f"train.seed={2**32}"],
        2,
        "train.seed: must be at most 4294967295",
    ),
    Case(
        "model-seed-2**70",
        "recipes",
        ["linear", "--set", f"model.seed={HUGE}"],
        2,
        "model.seed: seed must be at most 4294967295",
    ),
    Case(
        "batch-size-2**70",
        "recipes",
        ["linear", "--batch-size", HUGE],
        2,
        f"error: --batch-size: must be at most 2147483647, got {HUGE}",
    ),
    Case(
        "patience-2**70",
        "recipes",
        ["linear", "--set", f"train.early_stopping_patience={HUGE}"],
        2,
        "train.early_stopping_patience: must be at most 2147483647",
    ),
    Case(
        "l2-too-big-for-a-float",
        "recipes",
        ["linear", "--set", f"model.l2={10**400}"],
        2,
        "model.l2: l2 must be a finite number >= 0",
    ),
    Case(
        "learning-rate-inf",
        "recipes",
        ["linear", "--learning-rate", "inf"],
        2,
        "error: --learning-rate: must be a finite number > 0, got inf",
    ),
    Case(
        "export-name-dotdot",
        "recipes",
        ["linear", "--set", "export.name=.."],
        2,
        "export.name: must be a folder name",
    ),
    # [predict] query points
    Case(
        "predict-on-images",
        "recipes",
        ["mnist", "--set", "predict.inputs=[[1.0]]"],
        2,
        "mnist.toml, --set: predict.inputs: takes feature rows; mnist has uint8 images of shape [28, 28, 1]",
    ),
    Case(
        "predict-row-too-wide",
        "recipes",
        ["notes_linear", "--set", "predict.inputs=[[4.0, 5.0]]"],
        2,
        "predict.inputs: each row must be 1 finite number (the features of notes_linear), e.g. "
        "inputs = [[1.0]]; got [4.0, 5.0]",
    ),
    Case(
        "predict-not-rows",
        "recipes",
        ["notes_linear", "--set", "predict.inputs=4.0"],
        2,
        "predict.inputs: must be a list of feature rows, e.g. inputs = [[1.0]]; got 4.0",
    ),
    Case(
        "predict-nan",
        "recipes",
        ["notes_linear", "--set", "predict.inputs=[[nan]]"],
        2,
        "predict.inputs: each row must be 1 finite number",
    ),
    # a model choice the factories do not offer
    Case(
        "hidden-activation-softmax",
        "recipes",
        ["diabetes", "--set", "model.activation=softmax"],
        2,
        "diabetes.toml, --set: model.activation: activation must be one of relu, sigmoid, tanh, got 'softmax'",
    ),
    Case(
        "initializer-typo",
        "recipes",
        ["linear", "--set", "model.initializer=small-normal"],
        2,
        "linear.toml, --set: model.initializer: initializer must be one of glorot_uniform, "
        "small_normal, got 'small-normal'",
    ),
    # a loss that does not fit the task
    Case(
        "mse-on-mnist",
        "recipes",
        ["mnist", "--set", "train.loss=mean_squared_error", *QUICK],
        2,
        "mnist.toml, --set: train.loss: mean_squared_error does not fit: softmax_mnist_classifier gives 10 softmax "
        "probabilities and mnist has 10 classes (integer labels); losses that fit: sparse_categorical_crossentropy, "
        "categorical_crossentropy, categorical_hinge",
    ),
    Case(
        "bce-on-mnist",
        "recipes",
        ["mnist", "--set", "train.loss=binary_crossentropy", *QUICK],
        2,
        "train.loss: binary_crossentropy does not fit",
    ),
    Case(
        "sparse-cce-on-diabetes",
        "recipes",
        ["diabetes", "--set", "train.loss=sparse_categorical_crossentropy", "--epochs", "1"],
        2,
        "train.loss: sparse_categorical_crossentropy does not fit: deep_relu_mlp gives 1 sigmoid probability and "
        "pima_diabetes has 0/1 labels; losses that fit: binary_crossentropy, mean_squared_error",
    ),
    Case(
        "categorical-hinge-on-linear",
        "recipes",
        ["linear", "--set", "train.loss=categorical_hinge"],
        2,
        "train.loss: categorical_hinge does not fit: linear_regression gives 1 linear score and toy_linear has "
        "real-valued targets; losses that fit: mean_squared_error, mean_absolute_error",
    ),
    Case(
        "multiclass-hinge-on-softmax",
        "recipes",
        ["mnist", "--set", "train.loss=multiclass_hinge", *QUICK],
        2,
        "mnist.toml, --set: train.loss: multiclass_hinge does not fit: softmax_mnist_classifier gives 10 softmax "
        "probabilities and mnist has 10 classes (integer labels); multiclass_hinge needs linear scores, not "
        "probabilities; losses that fit: sparse_categorical_crossentropy, categorical_crossentropy, categorical_hinge",
    ),
    Case(
        "multiclass-hinge-on-linear",
        "recipes",
        ["linear", "--set", "train.loss=multiclass_hinge"],
        2,
        "train.loss: multiclass_hinge does not fit: linear_regression gives 1 linear score and toy_linear has "
        "real-valued targets; losses that fit: mean_squared_error, mean_absolute_error",
    ),
    Case(
        "multiclass-hinge-on-diabetes",
        "recipes",
        ["diabetes", "--set", "train.loss=multiclass_hinge"],
        2,
        "train.loss: multiclass_hinge does not fit: deep_relu_mlp gives 1 sigmoid probability and pima_diabetes "
        "has 0/1 labels; multiclass_hinge needs linear scores, not probabilities; losses that fit: binary_crossentropy",
    ),
    Case(
        "mae-on-mnist-hinge",
        "recipes",
        ["mnist_hinge", "--set", "train.loss=mean_absolute_error", *QUICK],
        2,
        "train.loss: mean_absolute_error does not fit: deep_relu_mlp gives 10 linear scores and mnist has 10 classes "
        "(integer labels); losses that fit: multiclass_hinge, categorical_hinge",
    ),
    Case(
        "cce-on-xor",
        "recipes",
        ["xor", "--set", "train.loss=categorical_crossentropy"],
        2,
        "train.loss: categorical_crossentropy does not fit: two_layer_perceptron gives 1 sigmoid probability",
    ),
    Case(
        "output-units-not-the-classes",
        "recipes",
        ["mnist_mlp", "--set", "model.output_units=5", *QUICK],
        2,
        "model.output_units: no loss fits: deep_relu_mlp gives 5 softmax probabilities and mnist has 10 classes",
    ),
    # an export dir that cannot take the export, found before training
    Case(
        "export-dir-under-a-file",
        "recipes",
        ["linear", "--export-dir", "{in}/file/sub"],
        2,
        "export dir {in}/file/sub: {in}/file is a file, not a folder; choose another --export-dir",
        lambda f: (f / "file").write_text(""),
    ),
    Case(
        "export-dir-broken-link",
        "recipes",
        ["linear", "--export-dir", "{in}/link"],
        2,
        "{in}/link is a broken link",
        lambda f: (f / "link").symlink_to(f / "nowhere"),
    ),
    Case(
        "export-dir-read-only",
        "recipes",
        ["linear", "--export-dir", "{in}/ro"],
        2,
        "cannot create linear in {in}/ro: it is not writable",
        read_only_folder,
        root_skips=True,
    ),
    Case(
        "sweep-export-dir-under-a-file",
        "recipes",
        ["sweep", "linear", "--grid", "learning_rate=0.1,0.2", "--export-dir", "{in}/file/sub"],
        2,
        "{in}/file is a file, not a folder",
        lambda f: (f / "file").write_text(""),
    ),
    Case(
        "modelzoo-export-under-a-file",
        "modelzoo",
        ["export", "linear_regression", "--weights", "toy_linear", "--export-dir", "{in}/file/sub"],
        2,
        "{in}/file is a file, not a folder",
        lambda f: (f / "file").write_text(""),
    ),
    # the modelzoo command (fixed before: rows kept here so that they stay fixed)
    Case(
        "verify-without-saved-model-pb",
        "modelzoo",
        ["verify", "{in}/model"],
        1,
        "{in}/model/1 holds no saved_model.pb: not a SavedModel",
        lambda f: (f / "model" / "1").mkdir(parents=True),
    ),
    Case(
        "predict-decompression-bomb",
        "modelzoo",
        ["predict", "small_cnn:mnist", "{in}/bomb.png"],
        2,
        "{in}/bomb.png: 13000x13000 pixels (169 megapixels), over the 70-megapixel limit",
        lambda f: zeros_png(f / "bomb.png", 13000, 13000),
    ),
]

WRAPPER = """
import os, runpy, sys
sys.argv = [{prog!r}] + {args!r}
try:
    if {prog!r} == "modelzoo":
        from modelzoo.cli import main
        main()
    else:
        runpy.run_module("modelzoo.recipes", run_name="__main__")
finally:
    with open({flag!r}, "w") as flag:
        flag.write(str("tensorflow" in sys.modules))
"""


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_one_line_and_its_exit_code_and_nothing_is_written(case, tmp_path):
    if case.root_skips and IS_ROOT:
        pytest.skip("running as root, which may read and write any file")
    inputs, work = tmp_path / "in", tmp_path / "work"
    inputs.mkdir(), work.mkdir()
    if case.setup:
        case.setup(inputs)
    before = files_under(inputs)
    args = [arg.replace("{in}", str(inputs)) for arg in case.args]
    prog = "modelzoo" if case.command == "modelzoo" else RECIPES_CLI
    flag = tmp_path / "tensorflow-loaded"
    code = WRAPPER.format(prog=prog, args=args, flag=str(flag))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=work, env=env, timeout=300
    )
    try:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert "Traceback" not in result.stderr, result.stderr[-3000:]
        assert result.returncode == case.code, result.stderr[-3000:]
        assert len(lines) == 1, result.stderr[-3000:]
        assert lines[0].startswith(f"{prog}: error: "), lines[0]
        assert case.message.replace("{in}", str(inputs)) in lines[0], lines[0]
        assert result.stdout == ""
        assert files_under(work) == set(), (
            "nothing is written in the working folder (no runs/, no saved_models/)"
        )
        assert files_under(inputs) == before, "nothing is written beside the inputs"
        assert flag.read_text() == "False", "refused before TensorFlow is imported"
    finally:
        (inputs / "ro").chmod(0o700) if (inputs / "ro").exists() else None


# -- every field of every section, every wrong type: a RecipeError naming the field, nothing else --

WRONG_VALUES = [
    ["mnist"],
    {"a": 1},
    "x",
    -1,
    0,
    2**70,
    10**400,
    1.5,
    True,
    float("inf"),
    float("nan"),
    [],
    [[1]],
    [1, "a"],
]


def recipe_fields(name: str) -> list[str]:
    resolved = recipes.load(name)
    return [
        "model.name",
        "model.weights",
        *[f"model.{k}" for k in factory_parameters(resolved.model)],
        "data.name",
        "data.max_examples",
        *[f"train.{f.name}" for f in dataclasses.fields(recipes.TrainSettings)],
        *[f"augment.{f.name}" for f in dataclasses.fields(Augmentation)],
        "export.name",
        "export.weights_tag",
    ]


@pytest.mark.parametrize("name", recipes.builtin_names())
def test_any_value_of_any_field_resolves_or_is_one_line_naming_the_field(name):
    for field in recipe_fields(name):
        for value in WRONG_VALUES:
            try:
                recipes.load(name, {field: value})
            except recipes.RecipeError as error:
                # A metric the recipe no longer measures is named where it is used: publish.metric.
                named = (
                    "publish.metric: "
                    if field == "train.metrics" and "publish.metric: " in str(error)
                    else f"--set: {field}: "
                )
                assert "\n" not in str(error) and named in str(error), (field, value, str(error))


# -- the loss rules --


@pytest.mark.parametrize("name", recipes.builtin_names())
def test_every_built_in_recipe_has_a_loss_that_fits(name):
    resolved = recipes.load(name)
    assert (
        loss_problem(resolved.train.loss, resolved.model, resolved.model_args, resolved.data)
        is None
    )


@pytest.mark.parametrize(
    "model, args, data, fits",
    [
        (
            "softmax_mnist_classifier",
            {},
            "mnist",
            ("sparse_categorical_crossentropy", "categorical_crossentropy", "categorical_hinge"),
        ),
        (
            "deep_relu_mlp",
            {"output_units": 10, "output_activation": "linear"},
            "mnist",
            ("multiclass_hinge", "categorical_hinge"),
        ),
        (
            "deep_relu_mlp",
            {"weights": "mnist"},
            "mnist",
            ("sparse_categorical_crossentropy", "categorical_crossentropy", "categorical_hinge"),
        ),
        ("small_cnn", {"classes": 3}, "mnist", ()),
        ("deep_relu_mlp", {}, "pima_diabetes", ("binary_crossentropy", "mean_squared_error")),
        ("two_layer_perceptron", {"output_activation": "softmax"}, "xor", ()),
        ("linear_regression", {}, "toy_linear", ("mean_squared_error", "mean_absolute_error")),
        ("linear_regression", {"units": 2}, "toy_linear", ()),
        ("sigmoid_binary_classifier", {}, "toy_linear", ()),
    ],
)
def test_losses_that_fit_follow_the_output_and_the_targets(model, args, data, fits):
    from modelzoo.data import DATASETS

    spec = DATASETS[data]
    assert fitting_losses(model_output(model, args), spec.target, spec.classes) == fits


@pytest.mark.slow
@pytest.mark.parametrize(
    "model, args",
    [
        ("softmax_mnist_classifier", {}),
        ("small_cnn", {"classes": 3}),
        ("deep_relu_mlp", {}),
        ("deep_relu_mlp", {"output_units": 10, "output_activation": "linear"}),
        ("deep_relu_mlp", {"weights": "mnist"}),
        ("two_layer_perceptron", {"output_units": 2, "output_activation": "softmax"}),
        ("sigmoid_binary_classifier", {}),
        ("linear_regression", {"units": 3}),
    ],
)
def test_the_output_read_without_tensorflow_is_the_built_models(model, args):
    """model_output reads the card and the factory arguments; the built model's last layer must agree."""
    from modelzoo.registry import create_model

    built = create_model(model, **args).layers[-1]
    output = model_output(model, args)
    assert (output.units, output.activation) == (built.units, built.activation.__name__)


# -- the rows root cannot show (root reads and writes anything), with the permission answer faked --


def test_a_read_only_export_dir_is_refused_and_a_writable_one_is_not(tmp_path, monkeypatch):
    from modelzoo.errors import UsageError
    from modelzoo.export import check_export_dir

    check_export_dir(
        tmp_path / "new" / "deeper", "linear"
    )  # made later by publish: fine now, nothing created
    (tmp_path / "models" / "linear").mkdir(parents=True)
    check_export_dir(tmp_path / "models", "linear")
    assert sorted(files_under(tmp_path)) == ["models", "models/linear"]
    real_access = os.access
    monkeypatch.setattr(
        os,
        "access",
        lambda path, mode, **kw: (
            Path(path) != tmp_path / "models" and real_access(path, mode, **kw)
        ),
    )
    with pytest.raises(
        UsageError,
        match=rf"^export dir {tmp_path}/models: cannot create linear2 in {tmp_path}/models: it is not writable; ",
    ):
        check_export_dir(tmp_path / "models", "linear2")
    check_export_dir(tmp_path / "models", "linear")  # the model folder itself is still writable
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: False)
    with pytest.raises(
        UsageError, match=rf"{tmp_path}/models/linear is not writable; choose another --export-dir$"
    ):
        check_export_dir(tmp_path / "models", "linear")


def test_an_unreadable_recipe_file_is_one_line(tmp_path, monkeypatch):
    (tmp_path / "secret.toml").write_text(recipes.find("xor").read_text())

    def refuse(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(
        recipes.RecipeError,
        match=rf"^recipe file {tmp_path}/secret.toml cannot be read: Permission denied$",
    ):
        recipes.load(str(tmp_path / "secret.toml"))
