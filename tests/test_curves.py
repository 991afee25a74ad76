"""The loss and metric curves of a run: what each line is, and the epoch early stopping restored."""

from modelzoo.curves import curves_figure


def rows(dev_losses):
    return [
        {
            "epoch": float(i),
            "accuracy": 0.5 + i / 100,
            "loss": 1.0 - i / 10,
            "val_accuracy": 0.5,
            "val_loss": v,
        }
        for i, v in enumerate(dev_losses)
    ]


def legends(figure):
    return [[text.get_text() for text in axis.get_legend().get_texts()] for axis in figure.axes]


def test_early_stopping_marks_the_restored_epoch_in_every_panel():
    figure = curves_figure(rows([0.9, 0.6, 0.5, 0.55, 0.7]), "t", early_stopping=True)
    assert legends(figure) == [["train", "dev", "restored (epoch 3)"]] * 2
    (marker,) = [
        line for line in figure.axes[0].get_lines() if line.get_label().startswith("restored")
    ]
    assert list(marker.get_xdata()) == [3, 3]


def test_without_early_stopping_nothing_is_marked():
    assert legends(curves_figure(rows([0.9, 0.6, 0.5]), "t")) == [["train", "dev"]] * 2


def test_the_refit_curve_is_named_train_plus_dev():
    refit = [{k: v for k, v in row.items() if not k.startswith("val_")} for row in rows([0.9, 0.6])]
    assert (
        legends(curves_figure(refit, "t", train_label="train + dev", early_stopping=False))
        == [["train + dev"]] * 2
    )
