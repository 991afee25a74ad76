"""Counted nouns in command output: '1 epoch', never '1 epochs'."""

from types import SimpleNamespace

from modelzoo.words import plural


def test_plural_agrees_with_the_count():
    assert [plural(n, "epoch") for n in (0, 1, 2)] == ["0 epochs", "1 epoch", "2 epochs"]
    assert plural(1, "replica") == "1 replica" and plural(3, "child", "children") == "3 children"


def test_a_one_epoch_run_reports_1_epoch(monkeypatch):
    import click
    from modelzoo.recipes.__main__ import _echo_result

    result = SimpleNamespace(
        run_dir="runs/xor/1",
        export_path=None,
        metrics={
            "recipe": "xor",
            "test": {"accuracy": 1.0},
            "epochs_run": 1,
            "train_seconds_this_process": 0.4,
            "refit": {"epochs": 1},
        },
    )
    lines = []
    monkeypatch.setattr(click, "echo", lambda text="", **_: lines.append(text))
    _echo_result(result)
    assert (
        lines[0] == "xor: test accuracy 100.00% (1 epoch, then 1 on train + dev, 0.4 s of training)"
    )
