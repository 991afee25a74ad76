"""What an export format is given besides the model (`modelzoo.exporters`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: How many training examples an int8 export is calibrated on (`ExportContext.calibration`).
CALIBRATION_EXAMPLES = 500


@dataclass
class ExportContext:
    """What the exporters know besides the model: the export's name and the data they check with."""

    name: str
    samples: Any  # real inputs every format must answer as the Keras model did
    saved_model: Path | None = None  # the staged SavedModel folder, once written
    calibration: Any = None  # training inputs, for an int8 model's quantization ranges
    evaluation: tuple[Any, Any] | None = None  # (inputs, labels): the test split, to judge int8
    measured: dict[str, Any] = field(default_factory=dict)  # what the writers measured on the way
