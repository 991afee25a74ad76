"""TF Serving's model config file (`--model_config_file`): which models, which versions, which labels.

A `ModelServerConfig` text proto (tensorflow_serving/config/model_server_config.proto), as
`modelzoo serving-config` writes it. `modelzoo serve` reads each model's name, version policy
(latest N, all, specific) and `version_labels`; a model's versions are read from EXPORT_DIR/NAME
(`base_path`, a path on the production server, is not used).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from modelzoo.errors import ModelzooError


@dataclass(frozen=True)
class ModelPolicy:
    """Which versions of one model to serve, and its version labels."""

    #: Serve the newest N versions (TF Serving's `latest` policy); None: every version (`all`).
    num_versions: int | None = 1
    #: Serve exactly these versions (`specific`), overriding num_versions.
    specific: frozenset[int] | None = None
    labels: dict[str, int] = field(default_factory=dict)


def read_model_config(path: str | os.PathLike) -> dict[str, ModelPolicy]:
    """{model name: policy} from a ModelServerConfig text proto, or a one-line ModelzooError."""
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    try:
        text = Path(path).read_text()
    except OSError as error:
        raise ModelzooError(f"cannot read the model config file {path}: {error.strerror}") from None
    config = model_server_config_pb2.ModelServerConfig()
    try:
        text_format.Parse(text, config)
    except text_format.ParseError as error:
        raise ModelzooError(f"{path} is not a ModelServerConfig text proto: {error}") from None
    if config.WhichOneof("config") != "model_config_list":
        raise ModelzooError(
            f"{path} has no model_config_list (the only config modelzoo serve reads)"
        )
    policies: dict[str, ModelPolicy] = {}
    for entry in config.model_config_list.config:
        if not entry.name or entry.name in policies:
            raise ModelzooError(f"{path}: every model needs a name, once (got {entry.name!r})")
        choice = entry.model_version_policy.WhichOneof("policy_choice")
        policy = entry.model_version_policy
        policies[entry.name] = ModelPolicy(
            num_versions=None
            if choice == "all"
            else (policy.latest.num_versions or 1 if choice == "latest" else 1),
            specific=frozenset(policy.specific.versions) if choice == "specific" else None,
            labels=dict(entry.version_labels),
        )
    return policies
