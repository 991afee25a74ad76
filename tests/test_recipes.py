"""Recipe files and the recipes command line: resolution, listing, and refusing bad input early."""

import importlib
import json
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

import modelzoo
from modelzoo import recipe_file as recipes
from modelzoo.data import DATASETS
from modelzoo.errors import RecipeError, Source, UsageError
from modelzoo.registry import check_arguments

HUGE = str(2**70)

#: Every recipe a name finds: the built-in ones, then those on $MODELZOO_RECIPES_PATH.
RECIPES = recipes.recipe_names()


def test_every_toml_file_in_the_recipes_folder_is_a_built_in_recipe():
    folder = recipes.find("xor").parent
    assert recipes.builtin_names() == sorted(path.stem for path in folder.glob("*.toml"))
    assert RECIPES[: len(recipes.builtin_names())] == recipes.builtin_names()
    assert len(RECIPES) >= 11


@pytest.mark.parametrize("name", RECIPES)
def test_recipe_resolves_and_its_model_card_names_it(name):
    resolved = recipes.load(name)
    assert resolved.model in modelzoo.list_models() and resolved.data in DATASETS
    assert name in modelzoo.model_card(resolved.model).recipes
    assert resolved.description


@pytest.mark.parametrize("name", RECIPES)
def test_a_saved_recipe_reads_back_equal(name):
    """A run folder's recipe.json must match the recipe again, or a run of it could never resume."""
    resolved = recipes.load(name)
    assert json.loads(json.dumps(resolved.to_dict())) == resolved.to_dict()


@pytest.mark.parametrize("model", modelzoo.list_models())
def test_a_card_names_exactly_the_recipes_that_train_it(model):
    naming = [name for name in recipes.recipe_names() if recipes.load(name).model == model]
    assert list(modelzoo.model_card(model).recipes) == naming


def test_overrides_and_user_files(tmp_path):
    resolved = recipes.load("mnist", {"train.epochs": 2, "model.hidden_units": 64})
    assert resolved.train.epochs == 2 and resolved.model_args["hidden_units"] == 64
    mine = tmp_path / "mine.toml"
    mine.write_text(recipes.find("xor").read_text())
    assert recipes.load(str(mine)).name == "mine"
    assert recipes.parse_value("[32, 64]") == [32, 64] and recipes.parse_value("adam") == "adam"


def test_model_choices_by_set():
    choices = {"model.activation": "sigmoid", "model.initializer": "small_normal"}
    resolved = recipes.load(
        "diabetes", {field: recipes.parse_value(value) for field, value in choices.items()}
    )
    assert (
        resolved.model_args["activation"] == "sigmoid"
        and resolved.model_args["initializer"] == "small_normal"
    )
    model = modelzoo.create_model(resolved.model, **resolved.model_args)
    weighted = [layer for layer in model.layers if hasattr(layer, "kernel")]
    assert [layer.activation.__name__ for layer in weighted] == ["sigmoid"] * 3
    assert {type(layer.kernel_initializer).__name__ for layer in weighted} == {"RandomNormal"}


def run_recipes_cli(args, cwd):
    """Run the recipes command in a fresh process; report output, exit code and whether TF loaded."""
    code = (
        "import sys, runpy\n"
        f"sys.argv = ['python -m modelzoo.recipes'] + {args!r}\n"
        "try:\n"
        "    runpy.run_module('modelzoo.recipes', run_name='__main__')\n"
        "except SystemExit as exit:\n"
        "    print('TF', 'tensorflow' in sys.modules, file=sys.stderr)\n"
        "    raise\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, timeout=120
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["mnits"], "unknown recipe 'mnits' (did you mean 'mnist'"),
        (
            ["mnist", "--learning-rate", "-1"],
            "error: --learning-rate: must be a finite number > 0, got -1.0",
        ),
        (
            ["mnist", "--set", "train.learning_rate=-0.1"],
            "train.learning_rate: must be a finite number > 0",
        ),
        (
            ["mnist", "--learning-rate", "inf"],
            "error: --learning-rate: must be a finite number > 0, got inf",
        ),
        # each shorthand option's value is reported as the option, a --set value as --set
        (["mnist", "--epochs", HUGE], f"error: --epochs: must be at most 2147483647, got {HUGE}"),
        (
            ["mnist", "--batch-size", HUGE],
            f"error: --batch-size: must be at most 2147483647, got {HUGE}",
        ),
        (
            ["mnist", "--seed", HUGE],
            f"error: --seed: must be at most 4294967295 (2**32 - 1), got {HUGE}",
        ),
        (["mnist", "--l2", "inf"], "error: --l2: l2 must be a finite number >= 0, got inf"),
        (
            ["mnist", "--max-examples", HUGE],
            f"error: --max-examples: must be at most 2147483647, got {HUGE}",
        ),
        (
            ["mnist", "--set", "train.learning_rate=0.1", "--learning-rate", "-1"],
            "error: --learning-rate: must be a finite number > 0, got -1.0",
        ),
        (
            ["sweep", "mnist", "--grid", "hidden_units=32,64", "--learning-rate", "-1"],
            "error: --learning-rate: must be a finite number > 0, got -1.0",
        ),
        (
            ["sweep", "mnist", "--grid", "learning_rate=1e-3,-1", "--learning-rate", "0.1"],
            "--grid learning_rate=-1.0: train.learning_rate: must be a finite number > 0",
        ),
        (
            ["mnist", "--set", "train.learning_rate=nan"],
            "train.learning_rate: must be a finite number > 0, got nan",
        ),
        (["mnist", "--set", "train.epochs=0"], "train.epochs: must be a positive integer, got 0"),
        (
            ["mnist", "--set", "train.epochs='ten'"],
            "train.epochs: must be a positive integer, got 'ten'",
        ),
        (["mnist", "--set", "train.refit=1"], "train.refit: must be true or false, got 1"),
        (
            ["mnist", "--set", "train.optimiser=sgd"],
            "train.optimiser: unknown field (did you mean 'optimizer'?)",
        ),
        (
            ["mnist", "--set", "model.hidden_units=0"],
            "model.hidden_units: hidden_units must be a positive integer",
        ),
        (["mnist", "--set", "epochs=3"], "--set epochs: name a field as section.field"),
        (["mnist", "--epochs", "0"], "Invalid value for '--epochs'"),
        (["mnist", "--set", "nonsense"], "Invalid value for --set"),
        (["mnist", "--strategy", "tpu"], "Invalid value for '--strategy'"),
        (["mnist", "--cpu-replicas", "2"], "--cpu-replicas goes with --strategy mirrored"),
        (
            ["mnist", "--strategy", "mirrored", "--cpu-replicas", "0"],
            "--cpu-replicas must be a positive integer",
        ),
        (["mnist", "--strategy", "multi-worker"], "needs the TF_CONFIG environment variable"),
        (
            ["mnist", "--set", "augment.rotation=500"],
            "augment.rotation: augmentation rotation must be >= 0 and <= 180, got 500",
        ),
        (["mnist", "--set", "augment.spin=3"], "augment.spin: unknown field"),
        (
            ["diabetes", "--set", "augment.shift=0.1"],
            "augment.shift: augmentation changes images; pima_diabetes has feature rows",
        ),
        (["mnist", "--set", "export.name=.."], "export.name: must be a folder name"),
        (
            ["mnist", "--set", "export.weights_tag=a/b"],
            "export.weights_tag: must be a tag of letters",
        ),
        (["mnist", "--set", "model.weights=mnsit"], "model.weights: weights 'mnsit' do not ship"),
        (["sweep", "mnist"], "give at least one --grid"),
        (["sweep", "mnist", "--grid", "hidden_units"], "write FIELD=V1,V2,..."),
        (
            ["sweep", "mnist", "--grid", "hidden_units=32,0"],
            "--grid hidden_units=0: model.hidden_units: hidden_units must be a positive integer",
        ),
        (
            ["sweep", "mnist", "--grid", "hiden_units=32"],
            "takes no 'hiden_units' (did you mean 'hidden_units'?)",
        ),
        (
            ["sweep", "mnist", "--grid", "learning_rate=1e-3,-1"],
            "--grid learning_rate=-1.0: train.learning_rate: must be a finite number > 0",
        ),
        (["sweep", "mnist", "--grid", "batch_size=32,32"], "a value appears twice"),
        (
            ["sweep", "mnist", "--grid", "hidden_units=32,64", "--random", "0"],
            "--random must be a positive number",
        ),
    ],
)
def test_bad_input_is_one_line_exit_2_before_tensorflow_nothing_written(args, message, tmp_path):
    result = run_recipes_cli(args, tmp_path)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    if message.startswith(("train.", "model.")) and args[0] != "sweep":
        assert "mnist.toml, --set: " + message.split(":")[0] in result.stderr, (
            "names where the value came from"
        )
    assert "Traceback" not in result.stderr
    assert "TF False" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "content, message",
    [
        ("[model\nname = 1", r"bad.toml: not valid TOML: .*line 1"),
        (
            '[model]\nname = "small_cnn"\nfilters = [8, 8, 8, 8]\n[data]\nname = '
            '"mnist"\n[train]\nloss = "binary_crossentropy"\n[export]\nname = "x"\n',
            r"bad.toml:3: model.filters: filters: block 4 of 4",
        ),
        (
            '[model]\nname = "small_cnn"\n[data]\nname = "mnist"\n[train]\nloss = "hinge_loss"\n[export]\nname = "x"\n',
            r"bad.toml:6: train.loss: unknown loss 'hinge_loss'",
        ),
        (
            '[model]\nname = "small_cnn"\n[data]\nname = "cifar"\n[train]\nloss = '
            '"mean_squared_error"\n[export]\nname = "x"\n',
            r"bad.toml:4: data.name: unknown data set 'cifar'",
        ),
        ('colour = "red"\n', r"bad.toml:1: colour: unknown field"),
    ],
)
def test_malformed_recipe_files_name_file_line_and_field(content, message, tmp_path):
    (tmp_path / "bad.toml").write_text(content)
    result = run_recipes_cli(["bad.toml"], tmp_path)
    assert result.returncode == 2
    errors = [
        line for line in result.stderr.splitlines() if line.startswith("python -m modelzoo.recipes")
    ]
    assert len(errors) == 1
    assert re.search(message, errors[0]), errors[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_list_and_show():
    main = importlib.import_module("modelzoo.recipes.__main__").main

    result = CliRunner().invoke(main, ["list"])
    assert result.exit_code == 0
    for name in RECIPES:
        assert any(line.startswith(name + " ") for line in result.output.splitlines())
    result = CliRunner().invoke(main, ["show", "mnist_cnn", "--set", "train.epochs=2"])
    shown = json.loads(result.output)
    assert shown["model"]["name"] == "small_cnn" and shown["train"]["epochs"] == 2


def test_help_lists_the_options_without_tensorflow(tmp_path):
    result = run_recipes_cli(["run", "--help"], tmp_path)
    assert result.returncode == 0 and "TF False" in result.stderr
    for option in (
        "--epochs",
        "--batch-size",
        "--learning-rate",
        "--seed",
        "--l2",
        "--set",
        "--run-dir",
        "--export-dir",
        "--no-export",
        "--fresh",
        "--data-mirror",
    ):
        assert option in result.stdout


def test_recipes_carry_the_augmentation_chosen_on_dev():
    """benchmarks/choose_augmentation.py records the winner per recipe; the recipe file must carry
    its augmentation and schedule. (Its batch size, rate and epochs were chosen later, for speed,
    by benchmarks/side_by_side.py and the dev splits.)"""
    from pathlib import Path

    path = (
        Path(__file__).resolve().parent.parent
        / "benchmarks"
        / "results"
        / "augmentation_selection.json"
    )
    selection = json.loads(path.read_text())
    for name, result in selection["recipes"].items():
        chosen = {
            key: value
            for key, value in result["trials"][result["chosen"]]["overrides"].items()
            if key.startswith("augment.")
            or key in ("train.schedule", "train.early_stopping_patience")
        }
        assert chosen, name
        assert recipes.load(name).to_dict() == recipes.load(name, chosen).to_dict(), name


def test_each_recipe_trains_its_own_weights_tag():
    """The shipped weights are keyed by (model, tag): two recipes must never write the same entry."""
    keys = [(recipes.load(name).model, recipes.load(name).tag) for name in RECIPES]
    assert len(set(keys)) == len(keys), keys


def test_a_recipes_predict_inputs_are_answered_printed_and_recorded(tmp_path):
    """notes_linear asks for y at x = 4: the run prints it and records it, as w * 4 + b of its learned line."""
    from modelzoo.recipes.__main__ import main

    run_dir = tmp_path / "run"
    result = CliRunner().invoke(
        main, ["notes_linear", "--epochs", "3", "--run-dir", str(run_dir), "--no-export"]
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((run_dir / "metrics.json").read_text())
    (w,), b = (
        next(v for k, v in metrics["weights"].items() if k.endswith(end))
        for end in ("kernel", "bias")
    )
    [prediction] = metrics["predictions"]
    assert prediction["input"] == [4.0] and prediction["prediction"][0] == pytest.approx(
        w[0] * 4 + b[0], rel=1e-5
    )
    assert (
        f"notes_linear: at features [4.0] the model gives prediction [{round(prediction['prediction'][0], 4)}]"
        in result.output
    )
    assert recipes.load("notes_logistic").predict_inputs == ((3.0,),)
    shown = json.loads(CliRunner().invoke(main, ["show", "notes_logistic"]).output)
    assert shown["predict"] == {"inputs": [[3.0]]}


@pytest.mark.parametrize(
    "name, overrides, loss",
    [
        ("mnist_hinge", [], "multiclass_hinge"),
        (
            "mnist_mlp",
            ["model.output_activation=linear", "train.loss=multiclass_hinge"],
            "multiclass_hinge",
        ),
        ("mnist_hinge", ["train.loss=categorical_hinge"], "categorical_hinge"),
        ("linear", ["train.loss=mean_absolute_error"], "mean_absolute_error"),
    ],
)
def test_losses_that_fit_linear_outputs_resolve_by_name(name, overrides, loss):
    main = importlib.import_module("modelzoo.recipes.__main__").main
    result = CliRunner().invoke(
        main, ["show", name, *[arg for o in overrides for arg in ("--set", o)]]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["train"]["loss"] == loss


def test_errors_carry_their_field_and_source_and_render_from_them(tmp_path):
    """What a message says is read from the error's attributes; the text is made in one place."""
    lr = "train.learning_rate"
    with pytest.raises(RecipeError) as option:
        recipes.load("mnist", {lr: -1.0}, {lr: "--learning-rate"})
    assert (option.value.field, option.value.source) == (lr, Source(option="--learning-rate"))
    assert option.value.problem == "must be a finite number > 0, got -1.0"
    assert str(option.value) == "--learning-rate: must be a finite number > 0, got -1.0"

    with pytest.raises(RecipeError) as by_set:
        recipes.load("mnist", {lr: -1.0})
    assert by_set.value.source == Source(recipes.find("mnist"), option="--set")
    assert str(by_set.value) == f"mnist.toml, --set: {lr}: must be a finite number > 0, got -1.0"
    assert by_set.value.detail == f"{lr}: must be a finite number > 0, got -1.0"

    text = recipes.find("mnist").read_text().replace("hidden_units = 256", "hidden_units = 0")
    (tmp_path / "bad.toml").write_text(text)
    with pytest.raises(RecipeError) as in_file:
        recipes.load(str(tmp_path / "bad.toml"))
    line = text.splitlines().index("hidden_units = 0") + 1
    assert in_file.value.source == Source(tmp_path / "bad.toml", line)
    assert in_file.value.field == "model.hidden_units"
    assert str(in_file.value) == (
        f"{tmp_path / 'bad.toml'}:{line}: model.hidden_units: "
        "hidden_units must be a positive integer, got 0"
    )

    with pytest.raises(RecipeError) as named:
        recipes.load("mnist", {"epochs": 3})
    assert (named.value.field, named.value.source) == ("epochs", Source(option="--set"))
    assert str(named.value).startswith("--set epochs: name a field as section.field")


@pytest.mark.parametrize(
    "model, arguments, field",
    [
        ("softmax_mnist_classifier", {"hidden_units": 0}, "hidden_units"),
        ("small_cnn", {"filters": (8, 8, 8, 8)}, "filters"),
        ("small_cnn", {"input_shape": (28, 28)}, "input_shape"),
        ("small_cnn", {"weights": "mnsit"}, "weights"),
    ],
)
def test_model_argument_errors_name_the_argument(model, arguments, field):
    with pytest.raises(UsageError) as caught:
        check_arguments(model, **arguments)
    assert caught.value.field == field
    assert str(caught.value) == f"{model}: {caught.value.problem}"


@pytest.mark.parametrize(
    "overrides, field, problem",
    [
        (
            {"train.precision": "float16"},
            "train.precision",
            "must be one of auto, float32, mixed_bfloat16, got 'float16'",
        ),
        (
            {"train.warmup_epochs": -1.0},
            "train.warmup_epochs",
            "must be a finite number >= 0, got -1.0",
        ),
        (
            {"train.warmup_epochs": float("nan")},
            "train.warmup_epochs",
            "must be a finite number >= 0, got nan",
        ),
        (
            {"train.warmup_epochs": True},
            "train.warmup_epochs",
            "must be a finite number >= 0, got True",
        ),
        (
            {"train.epochs": 3, "train.warmup_epochs": 3},
            "train.warmup_epochs",
            "must be less than train.epochs (3), got 3",
        ),
        (
            {"train.epochs": 3, "train.warmup_epochs": 4.5},
            "train.warmup_epochs",
            "must be less than train.epochs (3), got 4.5",
        ),
        (
            {"train.steps_per_execution": 0},
            "train.steps_per_execution",
            "must be a positive integer, got 0",
        ),
        (
            {"train.steps_per_execution": 2.5},
            "train.steps_per_execution",
            "must be a positive integer, got 2.5",
        ),
        (
            {"train.steps_per_execution": "4"},
            "train.steps_per_execution",
            "must be a positive integer, got '4'",
        ),
        *[
            (
                {"train.ema_momentum": value},
                "train.ema_momentum",
                f"must be a number in [0, 1) (0: no moving average), got {value!r}",
            )
            for value in (1.0, 1, -0.1, float("nan"), True, "0.99")
        ],
    ],
)
def test_bad_training_levers_are_one_error_naming_the_field(overrides, field, problem):
    with pytest.raises(RecipeError) as caught:
        recipes.load("xor", overrides)
    assert caught.value.field == field
    assert caught.value.problem == problem


def test_training_levers_within_range_are_taken():
    resolved = recipes.load(
        "xor",
        {
            "train.epochs": 3,
            "train.warmup_epochs": 2.5,
            "train.precision": "mixed_bfloat16",
            "train.steps_per_execution": 8,
            "train.ema_momentum": 0.99,
        },
    )
    assert resolved.train.warmup_epochs == 2.5 and resolved.train.steps_per_execution == 8
    assert resolved.train.precision == "mixed_bfloat16" and resolved.train.ema_momentum == 0.99


def test_later_train_fields_are_left_out_of_the_record_at_their_defaults():
    """recipe.json of runs and shipped weights from before the levers must still compare equal."""
    plain = recipes.load("xor").to_dict()["train"]
    assert not set(plain) & {"warmup_epochs", "precision", "steps_per_execution", "ema_momentum"}
    spelled_out = recipes.load(
        "xor",
        {
            "train.warmup_epochs": 0.0,
            "train.precision": "float32",
            "train.steps_per_execution": 1,
            "train.ema_momentum": 0.0,
        },
    )
    assert spelled_out.to_dict() == recipes.load("xor").to_dict()
    levers = {
        "warmup_epochs": 1.5,
        "precision": "mixed_bfloat16",
        "steps_per_execution": 4,
        "ema_momentum": 0.9,
    }
    resolved = recipes.load("xor", {f"train.{key}": value for key, value in levers.items()})
    recorded = resolved.to_dict()["train"]
    assert {key: recorded[key] for key in levers} == levers
    assert {key: value for key, value in recorded.items() if key not in levers} == plain
    assert json.loads(json.dumps(resolved.to_dict())) == resolved.to_dict()
