"""The client side of TF Serving's REST API, used by `modelzoo predict --url`."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from modelzoo.errors import ModelzooError
from modelzoo.serving.protocol import DEFAULT_SIGNATURE, ServingError, Signature, encode_json

if TYPE_CHECKING:
    import numpy as np


def predict_request(inputs: dict[str, np.ndarray], signature: Signature) -> dict:
    """The REST predict body for a batch: {"signature_name": ..., "instances": rows} (one row per example)."""
    count = len(next(iter(inputs.values())))
    rows = [{key: encode_json(value[i]) for key, value in inputs.items()} for i in range(count)]
    if len(inputs) == 1:
        rows = [next(iter(row.values())) for row in rows]
    return {"signature_name": signature.name, "instances": rows}


class Client:
    """Talks to TF Serving's REST API (or `modelzoo serve`) for one model."""

    def __init__(self, url: str, model: str, version: int | None = None, timeout: float = 30.0):
        import requests

        self.base = (
            url.rstrip("/")
            + f"/v1/models/{model}"
            + (f"/versions/{version}" if version is not None else "")
        )
        self.url, self.timeout = url, timeout
        self.session = requests.Session()

    def _call(self, method: str, path: str, **kwargs) -> dict:
        import requests

        try:
            response = self.session.request(
                method, self.base + path, timeout=self.timeout, **kwargs
            )
        except requests.RequestException as error:
            raise ModelzooError(
                f"cannot reach a model server at {self.url} ({type(error).__name__}); "
                "start TF Serving or `modelzoo serve saved_models/`"
            ) from None
        try:
            payload = response.json()
        except ValueError:
            payload = {"error": response.text.strip()[:200]}
        if response.status_code != 200:
            raise ServingError(
                f"{self.base + path}: HTTP {response.status_code}: {payload.get('error', payload)}",
                response.status_code,
            )
        return payload

    def status(self) -> dict:
        return self._call("GET", "")

    def metadata(self) -> dict:
        return self._call("GET", "/metadata")

    def signature(self, name: str = DEFAULT_SIGNATURE) -> Signature:
        return Signature.from_metadata(self.metadata(), name)

    def predict_json(self, body: dict) -> dict:
        return self._call("POST", ":predict", json=body)

    def predict(self, inputs: dict[str, np.ndarray], signature: Signature) -> dict[str, np.ndarray]:
        """Send a batch as "instances" rows; return {output key: array}."""
        import numpy as np

        predictions = self.predict_json(predict_request(inputs, signature))["predictions"]
        if len(signature.outputs) == 1:
            return {next(iter(signature.outputs)): np.asarray(predictions)}
        return {key: np.asarray([row[key] for row in predictions]) for key in signature.outputs}


def wait_until_ready(url: str, model: str, timeout: float = 30.0) -> None:
    """Poll GET /v1/models/MODEL until it answers 200 (a server starting up)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            Client(url, model, timeout=2).status()
            return
        except ModelzooError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
