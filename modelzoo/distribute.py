"""Where training runs: one device, all local devices, or several machines (tf.distribute).

    strategy = distribute.Placement.parse("mirrored", cpu_replicas=2)   # checked, no TensorFlow
    with strategy.create().scope(): ...

- `default`: TensorFlow's default strategy, one device.
- `mirrored`: `MirroredStrategy` over every local GPU; on a machine without GPUs the CPU can be
  split into `cpu_replicas` logical devices (which must happen before TensorFlow starts).
- `multi-worker`: `MultiWorkerMirroredStrategy`, configured by the `TF_CONFIG` environment
  variable of each worker process. The chief (task `chief`, else `worker` 0) writes the run
  folder and exports; every other worker keeps its own run folder (checkpoints included) under
  `<runs>/<task>-<index>/` and exports nothing.

The recipe's `batch_size` is the global batch: each step splits it across the replicas.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from modelzoo.errors import UsageError

STRATEGIES = ("default", "mirrored", "multi-worker")
TF_CONFIG = "TF_CONFIG"
#: Seconds a collective operation may wait for the other workers before the run fails (a worker
#: that died is usually found sooner, by the strategy's health check).
COLLECTIVE_TIMEOUT_S = 300


@dataclass(frozen=True)
class Placement:
    """A checked choice of distribution strategy, and this process's role in it."""

    strategy: str = "default"
    cpu_replicas: int | None = None
    task_type: str = "chief"
    task_index: int = 0
    workers: int = 1
    cluster_has_chief: bool = False

    @classmethod
    def parse(
        cls,
        strategy: str = "default",
        cpu_replicas: int | None = None,
        environ: dict[str, str] | None = None,
    ) -> Placement:
        """Check the options (and TF_CONFIG for multi-worker) before TensorFlow is imported."""
        if strategy not in STRATEGIES:
            raise UsageError(f"--strategy {strategy!r} is not one of {', '.join(STRATEGIES)}")
        if cpu_replicas is not None:
            if strategy != "mirrored":
                raise UsageError(
                    "--cpu-replicas goes with --strategy mirrored (N logical CPU devices on one machine)"
                )
            if (
                isinstance(cpu_replicas, bool)
                or not isinstance(cpu_replicas, int)
                or cpu_replicas < 1
            ):
                raise UsageError(f"--cpu-replicas must be a positive integer, got {cpu_replicas!r}")
        if strategy != "multi-worker":
            return cls(strategy, cpu_replicas)
        task_type, task_index, workers, has_chief = _read_tf_config(
            (environ if environ is not None else os.environ).get(TF_CONFIG)
        )
        return cls(strategy, None, task_type, task_index, workers, has_chief)

    @property
    def is_chief(self) -> bool:
        """Whether this process writes the run's results and exports the model."""
        return self.task_type == "chief" or (self.task_index == 0 and not self.cluster_has_chief)

    @property
    def worker_name(self) -> str:
        """'worker-1' for a non-chief process ('' for the chief): its subfolder for run files."""
        return "" if self.is_chief else f"{self.task_type}-{self.task_index}"

    def create(self) -> Any:
        """Build the tf.distribute strategy (imports TensorFlow)."""
        import tensorflow as tf

        if self.strategy == "default":
            return tf.distribute.get_strategy()
        if self.strategy == "mirrored":
            if self.cpu_replicas:
                return tf.distribute.MirroredStrategy(split_cpu(self.cpu_replicas))
            gpus = tf.config.list_logical_devices("GPU")
            return tf.distribute.MirroredStrategy([d.name for d in gpus] or ["/cpu:0"])
        options = tf.distribute.experimental.CommunicationOptions(
            timeout_seconds=COLLECTIVE_TIMEOUT_S
        )
        return _keras_multi_worker_strategy()(communication_options=options)

    def note(self) -> str | None:
        """One line when the choice silently amounts to less than it says.

        That is `mirrored` with no GPU and no --cpu-replicas.
        """
        if self.strategy != "mirrored" or self.cpu_replicas:
            return None
        import tensorflow as tf

        if tf.config.list_physical_devices("GPU"):
            return None
        cores = os.cpu_count() or 1
        return (
            f"--strategy mirrored: no GPU found, so this runs 1 replica on the CPU, as --strategy default would; "
            f"--cpu-replicas N splits the CPU ({cores} core{'s' if cores != 1 else ''}) into N replicas"
        )

    def describe(self, strategy) -> str:
        """e.g. 'mirrored (2 replicas)' or 'multi-worker (2 workers, 2 replicas in sync)'."""
        replicas = strategy.num_replicas_in_sync
        if self.strategy == "multi-worker":
            return f"multi-worker ({self.workers} workers, {replicas} replicas in sync)"
        return f"{self.strategy} ({replicas} replica{'s' if replicas != 1 else ''})"


def _keras_multi_worker_strategy():
    """MultiWorkerMirroredStrategy with the two `reduce` calls Keras 3's `fit` makes fixed (keras-team/keras#20585).

    Keras 3.15 (TF backend) asks the strategy to reduce (a) the whole first (inputs, targets)
    batch, only to learn its shapes before building, which the multi-worker strategy accepts for
    one value, not a structure, and for no uint8; and (b) every scalar metric with `axis=0`, which
    a scalar does not have. Here (a) takes this worker's own batch (the shapes are the same on
    every worker) and (b) averages the scalars across the replicas, as one device would report.
    """
    import tensorflow as tf

    class KerasMultiWorkerMirroredStrategy(tf.distribute.MultiWorkerMirroredStrategy):
        def reduce(self, reduce_op, value, axis=None):
            if not (isinstance(value, tf.distribute.DistributedValues) or tf.is_tensor(value)):
                return tf.nest.map_structure(lambda v: self.experimental_local_results(v)[0], value)
            if axis is not None and self.experimental_local_results(value)[0].shape.rank == 0:
                axis = None
            return super().reduce(reduce_op, value, axis)

    return KerasMultiWorkerMirroredStrategy


def split_cpu(replicas: int) -> list[str]:
    """Split the first CPU into `replicas` logical devices and name them; TensorFlow must not have started."""
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    wanted = [tf.config.LogicalDeviceConfiguration() for _ in range(replicas)]
    try:
        tf.config.set_logical_device_configuration(cpu, wanted)
    except RuntimeError:
        present = tf.config.list_logical_devices("CPU")
        if len(present) != replicas:
            raise UsageError(
                f"--cpu-replicas {replicas}: TensorFlow already started in this process with {len(present)} "
                f"CPU device(s); create the strategy before any other TensorFlow work (a fresh process)"
            ) from None
    return [device.name for device in tf.config.list_logical_devices("CPU")]


def _read_tf_config(text: str | None) -> tuple[str, int, int, bool]:
    """(task type, task index, number of workers, whether there is a chief task) from TF_CONFIG."""
    example = (
        'e.g. TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
        '"task": {"type": "worker", "index": 0}}\''
    )
    if not text:
        raise UsageError(
            f"--strategy multi-worker needs the {TF_CONFIG} environment variable on every worker; {example}"
        )
    try:
        config = json.loads(text)
        cluster, task = config["cluster"], config["task"]
        task_type, task_index = task["type"], task["index"]
        members = cluster[task_type]
    except (ValueError, KeyError, TypeError) as error:
        raise UsageError(
            f"{TF_CONFIG} is not a usable cluster description ({error.__class__.__name__}: {error}); {example}"
        ) from None
    if task_type not in ("chief", "worker"):
        raise UsageError(f"{TF_CONFIG}: task type {task_type!r} cannot train; use chief or worker")
    if not isinstance(task_index, int) or not 0 <= task_index < len(members):
        raise UsageError(
            f"{TF_CONFIG}: task index {task_index!r} is not in the cluster's {task_type} list of {len(members)}"
        )
    workers = len(cluster.get("chief", [])) + len(cluster.get("worker", []))
    return task_type, task_index, workers, bool(cluster.get("chief"))


def agreed_epoch(strategy, held: list[int], most: int) -> int:
    """The latest epoch count (at most `most`) that every replica of `strategy` holds a backup of; 0 if none.

    Each worker passes the epochs its own backup holds; a collective sum counts, per epoch, the
    replicas holding it. Every worker must call this at the same point, as with any collective.
    """
    import numpy as np
    import tensorflow as tf

    mine = np.zeros(most + 1, np.float32)
    mine[0] = 1.0  # "no backup" (start from scratch) is always possible
    mine[[epoch for epoch in held if 0 < epoch <= most]] = 1.0
    counts = strategy.reduce(
        tf.distribute.ReduceOp.SUM, strategy.run(lambda: tf.constant(mine)), axis=None
    )
    return int(np.flatnonzero(counts.numpy() >= strategy.num_replicas_in_sync).max())
