"""checkpoint.Backup: the current state and the one before it, restorable by epoch."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from modelzoo.checkpoint import Backup
from modelzoo.distribute import agreed_epoch


def tiny_model():
    model = keras.Sequential([keras.Input((2,), name="x"), keras.layers.Dense(1, name="y")])
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_a_backup_keeps_the_state_before_the_current_one_and_restores_either(tmp_path):
    model, backup = tiny_model(), Backup(tmp_path)
    kernels = {}
    for epoch in (1, 2, 3):
        model.layers[0].kernel.assign(np.full((2, 1), float(epoch), np.float32))
        kernels[epoch] = model.get_weights()[0].copy()
        backup.save(model, epoch)
    assert backup.epochs() == [3, 2]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "epoch-2.weights.h5",
        "epoch-3.weights.h5",
        "state.json",
    ]

    fresh = tiny_model()
    assert backup.restore(fresh, 2).epoch == 2
    np.testing.assert_array_equal(fresh.get_weights()[0], kernels[2])
    assert backup.restore(fresh).epoch == 3
    np.testing.assert_array_equal(fresh.get_weights()[0], kernels[3])
    assert backup.restore(fresh, 0) is None
    with pytest.raises(ValueError, match="holds no backup after epoch 1"):
        backup.restore(fresh, 1)


def test_the_final_save_keeps_the_last_epochs_state_before_it(tmp_path):
    model, backup = tiny_model(), Backup(tmp_path)
    backup.save(model, 4)
    backup.save(model, 4, complete=True)
    backup.save(model, 4, complete=True)  # saved again: the state before stays epoch-4
    state = json.loads((tmp_path / "state.json").read_text())
    assert (state["weights"], state["previous"]["weights"]) == (
        "final-4.weights.h5",
        "epoch-4.weights.h5",
    )
    assert backup.restore(tiny_model(), 4).complete


def test_a_state_whose_files_are_gone_is_not_offered(tmp_path):
    model, backup = tiny_model(), Backup(tmp_path)
    backup.save(model, 1)
    backup.save(model, 2)
    (tmp_path / "epoch-1.weights.h5").unlink()
    assert backup.epochs() == [2]
    (tmp_path / "state.json").write_text("{not json")
    assert backup.epochs() == [] and not backup.exists()


@pytest.mark.parametrize(
    "held, most, agreed", [([3, 2], 8, 3), ([], 8, 0), ([9], 8, 0), ([2, 1], 2, 2)]
)
def test_agreed_epoch_on_one_replica_is_the_latest_held(held, most, agreed):
    assert agreed_epoch(tf.distribute.get_strategy(), held, most) == agreed
