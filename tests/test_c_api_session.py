"""TensorFlow's C API reached through ctypes (modelzoo.c_api_session), the servability check's loader."""

import numpy as np
import pytest

from modelzoo import c_api_session

pytestmark = pytest.mark.skipif(
    not c_api_session.available(), reason="this tensorflow ships no C API libraries (Linux does)"
)


@pytest.mark.parametrize("dtype", sorted({np.dtype(t).name for t in c_api_session.DTYPES.values()}))
def test_arrays_cross_into_tensors_and_back_unchanged(dtype):
    c = c_api_session._load()
    array = (np.arange(24) % 2 if dtype == "bool" else np.arange(24)).astype(dtype)
    for value in (array.reshape(2, 3, 4), array[:0].reshape(0, 4), np.asarray(array[5])):
        tensor = c_api_session._tensor(c, value)
        try:
            back = c_api_session._array(c, tensor)
        finally:
            c.TF_DeleteTensor(tensor)
        assert back.dtype == value.dtype and back.shape == value.shape
        np.testing.assert_array_equal(back, value)


def test_strings_are_refused_in_one_line():
    with pytest.raises(c_api_session.CApiError, match="numeric types only"):
        c_api_session._tensor(c_api_session._load(), np.asarray([b"png"]))


def test_a_folder_without_a_saved_model_fails_with_tensorflows_message(tmp_path):
    with pytest.raises(c_api_session.CApiError, match="^TF_LoadSessionFromSavedModel: .*"):
        c_api_session.CApiSession(tmp_path)


@pytest.mark.slow
def test_a_session_answers_like_the_keras_model_and_names_what_it_lacks(tmp_path):
    import modelzoo
    from modelzoo import export

    model = modelzoo.create_model("two_layer_perceptron", seed=0)
    inputs = np.random.default_rng(0).normal(size=(5, 2)).astype("float32")
    version = export.publish(model, tmp_path, "xor", {}, inputs)
    with c_api_session.CApiSession(version) as session:
        (answer,) = session.run(
            {"serving_default_features:0": inputs}, ["StatefulPartitionedCall:0"]
        )
        np.testing.assert_allclose(answer, model.predict(inputs, verbose=0), atol=1e-6)
        with pytest.raises(c_api_session.CApiError, match="no operation 'nothing_here'"):
            session.run({"nothing_here:0": inputs}, ["StatefulPartitionedCall:0"])
        with pytest.raises(c_api_session.CApiError, match="not a tensor name"):
            session.run({"serving_default_features": inputs}, ["StatefulPartitionedCall:0"])
        with pytest.raises(c_api_session.CApiError, match="^TF_SessionRun: "):
            session.run(
                {"serving_default_features:0": inputs[:, :1]}, ["StatefulPartitionedCall:0"]
            )
