"""Learning curves: loss and metrics against the epoch, one panel each (a run's `curves.png`)."""

from __future__ import annotations

from pathlib import Path


def plot_curves(
    rows: list[dict[str, float]],
    path: Path,
    title: str,
    *,
    train_label: str = "train",
    early_stopping: bool = False,
) -> None:
    """One panel per quantity (loss, then each metric): the training split (`train_label`) and dev
    against the epoch; with `early_stopping`, a vertical line at the epoch whose weights were restored."""
    if not rows:
        return
    import matplotlib.pyplot as plt

    figure = curves_figure(rows, title, train_label=train_label, early_stopping=early_stopping)
    figure.savefig(path, dpi=100)
    plt.close(figure)


def curves_figure(
    rows: list[dict[str, float]],
    title: str,
    *,
    train_label: str = "train",
    early_stopping: bool = False,
):
    """The matplotlib figure `plot_curves` saves."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [
        k for k in rows[0] if k != "epoch" and not k.startswith("val_") and k != "learning_rate"
    ]
    figure, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 3.6), squeeze=False)
    epochs = [int(row["epoch"]) + 1 for row in rows]
    # EarlyStopping(restore_best_weights=True) ends a fit with the weights of its lowest dev loss.
    restored = None
    if early_stopping and "val_loss" in rows[0]:
        losses = [row["val_loss"] for row in rows]
        restored = epochs[losses.index(min(losses))]
    for axis, name in zip(axes[0], names):
        axis.plot(epochs, [row[name] for row in rows], marker="o", label=train_label)
        if f"val_{name}" in rows[0]:
            axis.plot(epochs, [row[f"val_{name}"] for row in rows], marker="o", label="dev")
        if restored is not None:
            axis.axvline(
                restored, color="grey", linestyle="--", label=f"restored (epoch {restored})"
            )
        axis.set_xlabel("epoch")
        axis.set_ylabel(name)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.suptitle(title)
    figure.tight_layout()
    return figure
