"""Data loading, offline and fast: toy sets, the Pima split, pipelines on mocked tfds, mirror checks."""

import numpy as np
import pytest
import tensorflow_datasets as tfds

from modelzoo import data
from modelzoo.data import tfds_source
from modelzoo.datasets import toy
from modelzoo.datasets.pima_diabetes.rows import read_rows, stratified_split
from modelzoo.errors import DataError


def test_unknown_data_set_names_close_matches():
    with pytest.raises(ValueError, match=r"unknown data set 'mnst' \(did you mean 'mnist'\?\)"):
        data.load("mnst")


def test_toy_sets_are_deterministic():
    for generate in (toy.xor, toy.linear, toy.logistic):
        first, again = generate(), generate()
        for split in ("train", "dev", "test"):
            np.testing.assert_array_equal(first[split][0], again[split][0])
            np.testing.assert_array_equal(first[split][1], again[split][1])


def test_xor_is_the_four_corners():
    x, y = toy.xor()["test"]
    np.testing.assert_array_equal(y[:, 0], np.logical_xor(x[:, 0], x[:, 1]))
    # No line separates XOR: least squares on [x, 1] cannot reproduce the labels.
    features = np.hstack([x, np.ones((4, 1))])
    weights, *_ = np.linalg.lstsq(features, y, rcond=None)
    assert not np.array_equal((features @ weights > 0.5), y > 0.5)


def test_toy_linear_follows_its_line():
    x, y = toy.linear()["train"]
    slope, intercept = np.polyfit(x[:, 0], y[:, 0], 1)
    assert slope == pytest.approx(2.0, abs=0.03) and intercept == pytest.approx(0.5, abs=0.02)


def test_toy_logistic_is_class_one_above_threshold_mostly():
    x, y = toy.logistic()["test"]
    agreement = np.mean((x > 1.0) == (y > 0.5))
    assert 0.95 < agreement < 1.0


def test_pima_csv_and_stratified_split():
    features, labels = read_rows()
    assert features.shape == (768, 8) and labels.sum() == 268
    splits = stratified_split(labels)
    rows = np.concatenate(list(splits.values()))
    assert sorted(rows.tolist()) == list(range(768))  # disjoint and complete
    assert {k: len(v) for k, v in splits.items()} == {"train": 461, "dev": 154, "test": 153}
    for part in splits.values():
        assert labels[part].mean() == pytest.approx(268 / 768, abs=0.01)
    assert all(np.array_equal(splits[k], v) for k, v in stratified_split(labels).items())


@pytest.mark.parametrize(
    "name, x, y",
    [
        ("notes_linear", [1, 2, 3], [2.5, 4.5, 6.5]),
        ("notes_logistic", [1, 2, 3, 4, 5, 6], [0, 0, 0, 1, 1, 1]),
    ],
)
def test_the_notes_examples_are_their_points_in_every_split(name, x, y):
    splits = data.load(name, batch_size=100)
    for split in ("train", "dev", "test"):
        features, targets = next(iter(splits.for_evaluation(split)))
        assert sorted(zip(features.numpy()[:, 0].tolist(), targets.numpy()[:, 0].tolist())) == list(
            zip(x, y)
        )
    assert splits.info.sizes == {"train": len(x), "dev": len(x), "test": len(x)}


GENERATED = [name for name in data.list_datasets() if data.dataset_spec(name).generate]


@pytest.mark.parametrize("name", GENERATED)
def test_toy_pipelines_batch_shuffle_and_type_targets(name):
    splits = data.load(name, batch_size=16, seed=1)
    first_epoch = np.concatenate([b[0].numpy() for b in splits.train])
    second_epoch = np.concatenate([b[0].numpy() for b in splits.train])
    same_seed = np.concatenate([b[0].numpy() for b in data.load(name, batch_size=16, seed=1).train])
    spec = data.dataset_spec(name)
    x, y = next(iter(splits.train))
    assert x.shape[1:] == spec.input.shape[1:] and x.dtype == spec.input.dtype
    assert y.shape[1:] == (1,) and y.dtype == "float32"
    assert splits.info.sizes["test"] == sum(int(b[0].shape[0]) for b in splits.test)
    np.testing.assert_array_equal(first_epoch, same_seed)
    if name != "xor":
        assert not np.array_equal(first_epoch, second_epoch)  # reshuffled each epoch


def test_mnist_pipeline_on_mocked_tfds(monkeypatch, tmp_path):
    monkeypatch.setattr(tfds_source, "is_complete", lambda builder: True)
    with tfds.testing.mock_data(num_examples=40):
        splits = data.load("mnist", batch_size=8, data_dir=tmp_path, max_examples=24)
    x, y = next(iter(splits.train))
    assert tuple(x.shape) == (8, 28, 28, 1) and x.dtype == "uint8"
    assert tuple(y.shape) == (8,) and y.dtype == "int64"
    assert splits.info.sizes == {"train": 24, "dev": 24, "test": 24}
    assert splits.info.classes == 10


def test_mirror_from_environment_and_bad_mirror(monkeypatch, tmp_path):
    monkeypatch.setenv(data.MIRROR_ENV, str(tmp_path))
    assert data.resolve_mirror() == tmp_path.resolve()
    assert data.resolve_mirror(tmp_path / "..") == tmp_path.parent.resolve()
    monkeypatch.setenv(data.MIRROR_ENV, str(tmp_path / "absent"))
    with pytest.raises(
        DataError, match=r"data mirror .*absent \(from MODELZOO_DATA_MIRROR\) is not a folder"
    ):
        data.resolve_mirror()


def _fake_mirror(root, *, skip=(), corrupt=None):
    """A mirror folder with placeholder MNIST files: the right names, the wrong bytes."""
    folder = root / "mnist"
    folder.mkdir(parents=True)
    for info in tfds.builder("mnist").url_infos.values():
        if info.filename not in skip:
            size = info.size if info.filename == corrupt else 10
            (folder / info.filename).write_bytes(b"\0" * size)
    return root


def test_mirror_missing_files_are_listed(tmp_path):
    mirror = _fake_mirror(
        tmp_path / "mirror", skip=("t10k-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz")
    )
    with pytest.raises(
        DataError, match=r"lacks t10k-labels-idx1-ubyte.gz, train-images-idx3-ubyte.gz; copy"
    ):
        data.load("mnist", mirror=mirror, data_dir=tmp_path / "tfds")
    assert not (tmp_path / "tfds" / "mnist").exists()


def test_mirror_file_of_wrong_size_or_content_is_refused(tmp_path):
    mirror = _fake_mirror(tmp_path / "mirror")
    with pytest.raises(
        DataError, match=r"mirror file .*mnist/\S+\.gz has 10 bytes, the registered original"
    ):
        data.load("mnist", mirror=mirror, data_dir=tmp_path / "tfds")
    mirror = _fake_mirror(tmp_path / "mirror2", corrupt="t10k-labels-idx1-ubyte.gz")
    for path in (mirror / "mnist").iterdir():
        if path.name != "t10k-labels-idx1-ubyte.gz":
            path.unlink()
    with pytest.raises(DataError):
        data.load("mnist", mirror=mirror, data_dir=tmp_path / "tfds")


def test_a_download_that_fails_its_checksum_is_one_line(monkeypatch, tmp_path):
    from tensorflow_datasets.core.download.download_manager import NonMatchingChecksumError

    class Builder:
        data_path = tmp_path / "mnist" / "3.0.1"
        url_infos = None

        def download_and_prepare(self, download_config=None):
            raise NonMatchingChecksumError(
                "Artifact https://host/t10k.gz, downloaded to t10k.gz, has wrong checksum"
            )

    with pytest.raises(
        DataError,
        match=r"^mnist: a downloaded file does not match its registered sha256: Artifact https://host/t10k.gz",
    ):
        tfds_source._prepare(Builder(), data.DATASETS["mnist"], None, tmp_path)

    def other_failure(self, download_config=None):
        raise OSError("disk full")

    monkeypatch.setattr(Builder, "download_and_prepare", other_failure)
    with pytest.raises(OSError, match="disk full"):  # not hidden behind an error of its own
        tfds_source._prepare(Builder(), data.DATASETS["mnist"], None, tmp_path)


def test_a_load_that_waited_for_another_preparation_uses_it(monkeypatch, tmp_path, caplog):
    import threading
    import time

    spec = data.DATASETS["mnist"]
    done, prepared_here, loaded = threading.Event(), [], []
    monkeypatch.setattr(tfds_source, "is_complete", lambda builder: done.is_set())
    monkeypatch.setattr(tfds_source, "_prepare", lambda *args: prepared_here.append(args))
    monkeypatch.setattr(tfds_source, "in_memory", lambda builder, split, count: split)
    load = threading.Thread(
        target=lambda: loaded.append(tfds_source.load_tfds(spec, None, tmp_path))
    )
    with tfds_source.preparing(tfds.builder("mnist", data_dir=tmp_path)):  # another preparer
        load.start()
        time.sleep(1)
        assert load.is_alive() and not loaded  # waiting for the lock
        done.set()  # the other preparer finished
    load.join(timeout=30)
    assert loaded and not prepared_here  # it read what the other prepared
    assert "waiting for another process that is preparing mnist" in caplog.text


def test_an_unwritable_data_dir_is_one_line(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(
        DataError,
        match=r"^mnist is not prepared in .*file and that folder cannot be written .*TFDS_DATA_DIR",
    ):
        data.load("mnist", data_dir=tmp_path / "file", mirror=_fake_mirror(tmp_path / "mirror"))


def test_augmentation_changes_training_batches_only():
    import tensorflow as tf

    from modelzoo.augment import Augmentation

    spec = data.DATASETS["mnist"]
    images = tf.data.Dataset.from_tensor_slices(
        (np.tile(np.eye(28, dtype="uint8")[None, ..., None] * 255, (8, 1, 1, 1)), np.arange(8))
    )
    augmentation = Augmentation(rotation=30, shift=0.1)
    train = data.pipeline_of(
        images,
        spec,
        training=True,
        batch_size=4,
        seed=0,
        size=8,
        one_hot=False,
        augment=augmentation,
    )
    test = data.pipeline_of(
        images, spec, training=False, batch_size=4, seed=0, size=8, one_hot=False
    )
    changed = next(iter(train))[0].numpy()
    unchanged = next(iter(test))[0].numpy()
    assert changed.shape == unchanged.shape == (4, 28, 28, 1) and changed.dtype == np.uint8
    assert all(not np.array_equal(c, unchanged[0]) for c in changed)
    assert all(np.array_equal(u, unchanged[0]) for u in unchanged)


def test_augmented_splits_are_scored_as_they_are(monkeypatch, tmp_path):
    """Fitting sees augmented train batches; evaluation sees the examples themselves, in order."""
    from modelzoo.augment import Augmentation

    monkeypatch.setattr(tfds_source, "is_complete", lambda builder: True)
    with tfds.testing.mock_data(num_examples=40):
        plain = data.load("mnist", batch_size=8, data_dir=tmp_path, max_examples=16)
        augmented = data.load(
            "mnist",
            batch_size=8,
            data_dir=tmp_path,
            max_examples=16,
            augment=Augmentation(rotation=30, stroke=1.0),
        )
    fitted = np.concatenate([x for x, _ in augmented.train.as_numpy_iterator()])
    scored = np.concatenate([x for x, _ in augmented.for_evaluation("train").as_numpy_iterator()])
    originals = np.concatenate([x for x, _ in plain.for_evaluation("train").as_numpy_iterator()])
    assert {x.tobytes() for x in scored} == {x.tobytes() for x in originals}
    assert not {x.tobytes() for x in fitted} & {x.tobytes() for x in originals}


@pytest.mark.parametrize("split", ["train", "train_dev"])
def test_fitted_splits_are_scored_in_one_order_however_many_epochs_ran(split):
    """Fitting reshuffles train every epoch; scoring it must not: a float32 mean over another
    order rounds differently, and a resumed run's train loss differed from the uninterrupted
    run's in its last bit (test_a_kill_after_early_stopping_ended_the_fit_resumes_...)."""

    def rows(dataset):
        return [(x.tobytes(), y.tobytes()) for x, y in tfds.as_numpy(dataset.unbatch())]

    splits = data.load("pima_diabetes", batch_size=32, seed=0)
    scored = splits.for_evaluation(split)
    before = rows(scored)
    for _ in range(2):  # two epochs of fitting, as a run that trained in this process
        fitted = rows(getattr(splits, split))
        assert fitted != before and sorted(fitted) == sorted(before)
    assert rows(scored) == before


def _examples(dataset):
    """(input bytes, label) of each example of an unbatched or batched (inputs, labels) split."""
    if len(dataset.element_spec[0].shape) == 4:  # batched images
        dataset = dataset.unbatch()
    return [(x.tobytes(), int(y)) for x, y in tfds.as_numpy(dataset)]


def test_tfds_splits_are_decoded_into_memory_in_tfds_order(monkeypatch, tmp_path):
    monkeypatch.setattr(tfds_source, "is_complete", lambda builder: True)
    spec = data.dataset_spec("mnist")
    with tfds.testing.mock_data(num_examples=40):
        builder = tfds.builder(spec.tfds_name, data_dir=tmp_path)
        direct = {
            split: builder.as_dataset(split=tfds_split, as_supervised=True, shuffle_files=False)
            for split, tfds_split in zip(("train", "dev", "test"), spec.splits)
        }
        opened, _ = tfds_source.load_tfds(spec, None, tmp_path)
        loaded = data.load("mnist", batch_size=8, data_dir=tmp_path)
    for split in ("train", "dev", "test"):
        assert opened[split].element_spec == direct[split].element_spec
        assert int(opened[split].cardinality()) == 40
        expected = _examples(direct[split])
        assert len(expected) == 40 and _examples(opened[split]) == expected
    for split in ("dev", "test"):  # the pipelines that keep their order
        assert _examples(loaded.for_evaluation(split)) == _examples(direct[split])


class _Builder:
    """Stands in for a tfds builder: every split holds (inputs, labels)."""

    def __init__(self, inputs, labels):
        import tensorflow as tf

        self.records = tf.data.Dataset.from_tensor_slices((inputs, labels))

    def as_dataset(self, split, as_supervised, shuffle_files):
        assert as_supervised and not shuffle_files
        return self.records


def test_in_memory_keeps_order_across_its_read_batches_and_takes_an_empty_split():
    rng = np.random.default_rng(0)
    inputs = rng.integers(0, 256, size=(4096 + 5, 3, 3, 1), dtype=np.uint8)
    labels = rng.integers(0, 10, size=4096 + 5).astype(np.int64)
    whole = tfds_source.in_memory(_Builder(inputs, labels), "train")
    assert int(whole.cardinality()) == len(labels)
    got_inputs, got_labels = (np.stack(part) for part in zip(*tfds.as_numpy(whole)))
    np.testing.assert_array_equal(got_inputs, inputs)
    np.testing.assert_array_equal(got_labels, labels)

    empty = tfds_source.in_memory(_Builder(inputs[:0], labels[:0]), "train")
    assert empty.element_spec == whole.element_spec
    assert list(tfds.as_numpy(empty)) == []


def test_an_empty_tfds_split_loads_as_no_examples(monkeypatch, tmp_path):
    monkeypatch.setattr(tfds_source, "is_complete", lambda builder: True)
    with tfds.testing.mock_data(num_examples=0):
        splits = data.load("mnist", batch_size=8, data_dir=tmp_path)
    assert splits.info.sizes == {"train": 0, "dev": 0, "test": 0}
    assert list(splits.test) == [] and list(splits.train) == []


@pytest.mark.parametrize("count", [1, 31, 32, 33, 100, 250])
def test_take_arrays_gives_the_first_examples_in_order_and_stops_reading_there(count):
    """Batch by batch, cut at `count`; an endless pipeline is read only as far as needed."""
    import tensorflow as tf

    inputs = np.arange(100 * 3, dtype=np.float32).reshape(100, 3)
    targets = np.arange(100, dtype=np.int64)
    finite = tf.data.Dataset.from_tensor_slices((inputs, targets)).batch(32)
    x, y = data.take_arrays(finite, count)
    count = min(count, 100)
    assert np.array_equal(x, inputs[:count]) and np.array_equal(y, targets[:count])
    x, y = data.take_arrays(finite.repeat(), count)
    assert len(x) == count and np.array_equal(y, np.concatenate([targets] * 3)[:count])
    with pytest.raises(ValueError, match="no examples"):
        data.take_arrays(finite, 0)
