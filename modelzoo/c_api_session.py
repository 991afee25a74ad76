"""A SavedModel loaded and run through TensorFlow's C API: `TF_LoadSessionFromSavedModel`, the C++
loader TF Serving itself uses, reached with ctypes in the libraries the tensorflow wheel ships,
without importing TensorFlow's Python package (half a second to load instead of several).

    with CApiSession(export) as session:
        (probabilities,) = session.run({"serving_default_image:0": images}, ["StatefulPartitionedCall:0"])
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

#: The libraries the tensorflow wheel ships on Linux, in load order (the framework first, global).
LIBRARIES = ("libtensorflow_framework.so.2", "libtensorflow_cc.so.2")

#: TF_DataType codes (tensorflow/c/tf_datatype.h) of the numeric types, and their NumPy types.
DTYPES = {
    1: np.float32,
    2: np.float64,
    3: np.int32,
    4: np.uint8,
    5: np.int16,
    6: np.int8,
    9: np.int64,
    10: np.bool_,
    17: np.uint16,
    19: np.float16,
    22: np.uint32,
    23: np.uint64,
}
_CODES = {np.dtype(numpy_type): code for code, numpy_type in DTYPES.items()}

_handle = ctypes.c_void_p
#: name: (result type, argument types) of every C API function used here.
_SIGNATURES = {
    "TF_NewStatus": (_handle, []),
    "TF_DeleteStatus": (None, [_handle]),
    "TF_GetCode": (ctypes.c_int, [_handle]),
    "TF_Message": (ctypes.c_char_p, [_handle]),
    "TF_NewGraph": (_handle, []),
    "TF_DeleteGraph": (None, [_handle]),
    "TF_NewSessionOptions": (_handle, []),
    "TF_DeleteSessionOptions": (None, [_handle]),
    "TF_LoadSessionFromSavedModel": (
        _handle,
        [_handle, _handle, ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int]
        + [_handle, _handle, _handle],
    ),
    "TF_CloseSession": (None, [_handle, _handle]),
    "TF_DeleteSession": (None, [_handle, _handle]),
    "TF_GraphOperationByName": (_handle, [_handle, ctypes.c_char_p]),
    "TF_AllocateTensor": (
        _handle,
        [ctypes.c_int, ctypes.POINTER(ctypes.c_int64), ctypes.c_int, ctypes.c_size_t],
    ),
    "TF_DeleteTensor": (None, [_handle]),
    "TF_TensorData": (_handle, [_handle]),
    "TF_TensorByteSize": (ctypes.c_size_t, [_handle]),
    "TF_TensorType": (ctypes.c_int, [_handle]),
    "TF_NumDims": (ctypes.c_int, [_handle]),
    "TF_Dim": (ctypes.c_int64, [_handle, ctypes.c_int]),
    "TF_SessionRun": (
        None,
        [_handle, _handle, _handle, _handle, ctypes.c_int, _handle, _handle, ctypes.c_int]
        + [_handle, ctypes.c_int, _handle, _handle],
    ),
}


class CApiError(Exception):
    """TensorFlow's C API reported a failure; the message is TensorFlow's."""


class _Output(ctypes.Structure):
    """TF_Output: an operation and the index of one of its outputs."""

    _fields_ = [("oper", _handle), ("index", ctypes.c_int)]


def library_folder() -> Path | None:
    """The installed tensorflow package's folder if it holds the C API libraries (found, not imported)."""
    spec = importlib.util.find_spec("tensorflow")
    for location in (spec.submodule_search_locations or []) if spec else []:
        if all((Path(location) / name).is_file() for name in LIBRARIES):
            return Path(location)
    return None


def available() -> bool:
    """Whether this installation ships the C API libraries (the Linux wheels do)."""
    return library_folder() is not None


_library: ctypes.CDLL | None = None


def _load() -> ctypes.CDLL:
    global _library
    if _library is None:
        folder = library_folder()
        if folder is None:
            raise CApiError(f"the tensorflow package has no {' and '.join(LIBRARIES)}")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        ctypes.CDLL(str(folder / LIBRARIES[0]), mode=ctypes.RTLD_GLOBAL)
        library = ctypes.CDLL(str(folder / LIBRARIES[1]))
        for name, (result, arguments) in _SIGNATURES.items():
            function = getattr(library, name)
            function.restype, function.argtypes = result, arguments
        _library = library
    return _library


class CApiSession:
    """One SavedModel loaded by its tags into a TF session through the C API."""

    def __init__(self, export: str | os.PathLike, tags: Sequence[str] = ("serve",)):
        self._c = _load()
        self._graph = self._c.TF_NewGraph()
        self._session = None
        options = self._c.TF_NewSessionOptions()
        encoded = (ctypes.c_char_p * len(tags))(*[tag.encode() for tag in tags])
        try:
            with self._status("TF_LoadSessionFromSavedModel") as status:
                self._session = self._c.TF_LoadSessionFromSavedModel(
                    options,
                    None,
                    os.fsencode(export),
                    encoded,
                    len(tags),
                    self._graph,
                    None,
                    status,
                )
            if not self._session:
                raise CApiError("TF_LoadSessionFromSavedModel returned no session")
        except BaseException:
            self.close()
            raise
        finally:
            self._c.TF_DeleteSessionOptions(options)

    def run(self, feeds: Mapping[str, np.ndarray], fetches: Sequence[str]) -> list[np.ndarray]:
        """The `fetches` tensors ("operation:index") for `feeds` ({tensor name: array})."""
        inputs = (_Output * len(feeds))(*[self._output(name) for name in feeds])
        outputs = (_Output * len(fetches))(*[self._output(name) for name in fetches])
        values: list = []
        output_values = (_handle * len(fetches))()
        try:
            for array in feeds.values():
                values.append(_tensor(self._c, np.asarray(array)))
            input_values = (_handle * len(values))(*values)
            with self._status("TF_SessionRun") as status:
                self._c.TF_SessionRun(
                    self._session,
                    None,
                    inputs,
                    input_values,
                    len(values),
                    outputs,
                    output_values,
                    len(fetches),
                    None,
                    0,
                    None,
                    status,
                )
            return [_array(self._c, tensor) for tensor in output_values]
        finally:
            for tensor in (*values, *output_values):
                if tensor:
                    self._c.TF_DeleteTensor(tensor)

    def close(self) -> None:
        """Close and free the session and its graph (whatever closing reports, all is freed)."""
        session, self._session = self._session, None
        graph, self._graph = self._graph, None
        try:
            if session:
                try:
                    with self._status("TF_CloseSession") as status:
                        self._c.TF_CloseSession(session, status)
                finally:
                    with self._status("TF_DeleteSession") as status:
                        self._c.TF_DeleteSession(session, status)
        finally:
            if graph:
                self._c.TF_DeleteGraph(graph)

    def __enter__(self) -> CApiSession:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _output(self, tensor_name: str) -> _Output:
        operation, _, index = tensor_name.rpartition(":")
        if not operation or not index.isdigit():
            raise CApiError(f"{tensor_name!r} is not a tensor name (operation:index)")
        found = self._c.TF_GraphOperationByName(self._graph, operation.encode())
        if not found:
            raise CApiError(f"the loaded graph has no operation {operation!r}")
        return _Output(found, int(index))

    def _status(self, what: str) -> _Status:
        return _Status(self._c, what)


class _Status:
    """A TF_Status for one call; raises CApiError with TensorFlow's message if the call failed."""

    def __init__(self, c: ctypes.CDLL, what: str):
        self._c, self._what = c, what

    def __enter__(self):
        self._status = self._c.TF_NewStatus()
        return self._status

    def __exit__(self, exc_type, *exc) -> None:
        code = self._c.TF_GetCode(self._status)
        message = (self._c.TF_Message(self._status) or b"").decode(errors="replace")
        self._c.TF_DeleteStatus(self._status)
        if exc_type is None and code != 0:
            raise CApiError(f"{self._what}: {message}")


def _tensor(c: ctypes.CDLL, array: np.ndarray):
    """A new TF_Tensor holding a copy of `array` (numeric types only)."""
    array = np.require(array, requirements="C")  # (ascontiguousarray would make a scalar 1-d)
    code = _CODES.get(array.dtype)
    if code is None:
        raise CApiError(f"arrays of {array.dtype} are not supported here (numeric types only)")
    dims = (ctypes.c_int64 * array.ndim)(*array.shape)
    tensor = c.TF_AllocateTensor(code, dims, array.ndim, array.nbytes)
    if array.nbytes:
        ctypes.memmove(c.TF_TensorData(tensor), array.ctypes.data, array.nbytes)
    return tensor


def _array(c: ctypes.CDLL, tensor) -> np.ndarray:
    """A NumPy copy of a TF_Tensor."""
    code = c.TF_TensorType(tensor)
    if code not in DTYPES:
        raise CApiError(f"TF_DataType {code} is not supported here (numeric types only)")
    shape = [c.TF_Dim(tensor, i) for i in range(c.TF_NumDims(tensor))]
    size = c.TF_TensorByteSize(tensor)
    data = (ctypes.c_char * size).from_address(c.TF_TensorData(tensor)) if size else b""
    return np.frombuffer(data, dtype=DTYPES[code]).reshape(shape).copy()
