"""Data loading on the real files of the mirror (MODELZOO_DATA_MIRROR, e.g. ../shared/data)."""

import hashlib
import os
import socket
import subprocess
import sys
import time
import urllib.parse

import numpy as np
import pytest
import tensorflow_datasets as tfds

from modelzoo import data
from modelzoo.errors import DataError

pytestmark = pytest.mark.integration

# Label histograms of the original MNIST files (the mirror's README lists the same).
MNIST_TRAIN_HISTOGRAM = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_HISTOGRAM = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def labels_and_hashes(dataset):
    labels, hashes = [], []
    for images, batch_labels in dataset.as_numpy_iterator():
        labels.append(batch_labels)
        hashes += [hashlib.blake2b(image.tobytes(), digest_size=16).digest() for image in images]
    return np.concatenate(labels), hashes


@pytest.mark.longest
def test_mnist_from_the_mirror(mirror):
    splits = data.load("mnist", batch_size=5000, mirror=mirror)
    assert splits.info.sizes == {"train": 54000, "dev": 6000, "test": 10000}
    images, labels = next(iter(splits.train))
    assert images.dtype == "uint8" and tuple(images.shape[1:]) == (28, 28, 1)
    assert labels.dtype == "int64" and int(images.numpy().max()) == 255

    train_labels, train_hashes = labels_and_hashes(splits.train)
    dev_labels, dev_hashes = labels_and_hashes(splits.dev)
    test_labels, _ = labels_and_hashes(splits.test)
    histogram = np.bincount(np.concatenate([train_labels, dev_labels]), minlength=10)
    assert histogram.tolist() == MNIST_TRAIN_HISTOGRAM
    assert np.bincount(test_labels, minlength=10).tolist() == MNIST_TEST_HISTOGRAM
    # Every MNIST training image is distinct, so disjoint images mean disjoint examples.
    assert len(set(train_hashes)) == 54000 and len(set(dev_hashes)) == 6000
    assert not set(dev_hashes) & set(train_hashes), "dev images also appear in train"


def test_corrupt_mirror_file_is_named_and_never_used(mirror, tmp_path):
    bad = tmp_path / "mirror" / "mnist"
    bad.mkdir(parents=True)
    for source in (mirror / "mnist").iterdir():
        (bad / source.name).symlink_to(source)
    victim = bad / "train-labels-idx1-ubyte.gz"
    content = bytearray(victim.read_bytes())
    content[-10] ^= 0xFF  # same size, different bytes
    victim.unlink()
    victim.write_bytes(bytes(content))
    with pytest.raises(
        DataError,
        match=r"mirror file \S+train-labels-idx1-ubyte.gz has sha256 \w+\.\.\., the registered",
    ):
        data.load("mnist", mirror=tmp_path / "mirror", data_dir=tmp_path / "tfds")
    assert not (tmp_path / "tfds" / "mnist").exists()


def _reachable(url: str) -> bool:
    try:
        socket.create_connection((urllib.parse.urlsplit(url).hostname, 443), timeout=3).close()
        return True
    except OSError:
        return False


def test_no_mirror_and_no_network_fails_fast_in_one_line(tmp_path):
    url = next(iter(tfds.builder("mnist").url_infos))
    if _reachable(url):
        pytest.skip("the MNIST download host is reachable: this test checks the offline failure")
    env = {k: v for k, v in os.environ.items() if k != data.MIRROR_ENV}
    env["TFDS_DATA_DIR"] = str(tmp_path / "tfds")
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "modelzoo", "data", "mnist"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    elapsed = time.monotonic() - start
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("modelzoo:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr
    assert "mnist is not prepared in" in errors[0] and "cannot be reached" in errors[0]
    assert "train-images-idx3-ubyte.gz" in errors[0] and data.MIRROR_ENV in errors[0]
    assert elapsed < 10, f"took {elapsed:.1f} s"


def test_pima_diabetes_through_tfds_keeps_raw_rows(tmp_path):
    splits = data.load("pima_diabetes", batch_size=1000, data_dir=tmp_path)
    assert splits.info.sizes == {"train": 461, "dev": 154, "test": 153}
    rows = {split: next(iter(getattr(splits, split))) for split in ("train", "dev", "test")}
    features = np.concatenate([r[0].numpy() for r in rows.values()])
    labels = np.concatenate([r[1].numpy() for r in rows.values()])
    assert features.shape == (768, 8) and labels.shape == (768, 1) and labels.sum() == 268
    assert (features[:, 4] == 0).sum() == 374  # insulin 0 = not measured, kept as in the file
    assert features[:, 1].max() == 199  # raw glucose, not scaled


def test_half_prepared_data_folder_is_prepared_again(tmp_path):
    leftover = tmp_path / "pima_diabetes" / "1.0.0"
    leftover.mkdir(parents=True)
    (leftover / "pima_diabetes-train.tfrecord-00000-of-00001").write_bytes(b"cut short")
    assert data.load("pima_diabetes", data_dir=tmp_path).info.sizes["train"] == 461

    shard = next(leftover.glob("*-test.tfrecord*"))
    shard.unlink()  # info present, a shard gone
    assert data.load("pima_diabetes", data_dir=tmp_path).info.sizes["test"] == 153
    assert shard.exists()


PREPARE_AFTER_GO = """
import sys, time
from pathlib import Path
from modelzoo import data
import tensorflow_datasets  # imported before the start line, so the loads begin together
Path(sys.argv[3]).touch()
go = Path(sys.argv[1])
while not go.exists():
    time.sleep(0.01)
print(data.load("pima_diabetes", data_dir=sys.argv[2]).info.sizes["train"])
"""


def test_processes_preparing_one_data_dir_at_once_all_get_the_data(tmp_path):
    """Runs started together on a fresh data dir (a sweep's workers, parallel CI): one prepares
    while the others wait for it, instead of all writing and all but one crashing on the first's
    rename."""
    go, data_dir = tmp_path / "go", tmp_path / "tfds"
    ready = [tmp_path / f"ready-{i}" for i in range(3)]
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", PREPARE_AFTER_GO, str(go), str(data_dir), str(flag)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for flag in ready
    ]
    deadline = time.monotonic() + 120
    while not all(flag.exists() for flag in ready) and time.monotonic() < deadline:
        time.sleep(0.05)
    go.touch()  # every process past its imports: the loads start within milliseconds
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0 and out.split()[-1:] == ["461"], err[-2000:]
