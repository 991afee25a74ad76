"""What a model's input is (`InputSpec`) and the error for a file that cannot become it."""

from __future__ import annotations

from dataclasses import dataclass

from modelzoo.errors import ModelzooError


class InputError(ModelzooError):
    """A file that cannot become the model's input (exit code 2)."""

    exit_code = 2


@dataclass(frozen=True)
class InputSpec:
    """One example of a signature input: key, dtype (NumPy name) and shape without the batch dimension."""

    name: str
    dtype: str
    shape: tuple[int | None, ...]

    def __str__(self) -> str:
        return f"{self.name} {self.dtype}[{','.join('?' if d is None else str(d) for d in self.shape)}]"

    @property
    def is_image(self) -> bool:
        return len(self.shape) == 3 and self.shape[-1] in (1, 3) and None not in self.shape
