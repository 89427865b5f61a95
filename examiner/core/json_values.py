"""Values made plain JSON: what the case file, the results store and ``--json`` output hold.

numpy scalars and arrays become numbers and lists; non-finite floats, which strict JSON cannot
hold, become ``None`` or, where a reader should still see which one it was, their text.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np

# Finding payloads summarise arrays above this many values: they are read by people, and the
# pixels themselves are stored as artefacts.
FINDING_ARRAY_VALUES = 4096


def plain_json(value: Any, non_finite: Literal["null", "text"] = "null", max_array_values: int | None = None) -> Any:
    """``value`` with only dict, list, str, int, float, bool and None left in it; arrays over
    ``max_array_values`` values (None: no limit) become a note of their shape."""
    if isinstance(value, dict):
        return {str(k): plain_json(v, non_finite, max_array_values) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_json(v, non_finite, max_array_values) for v in value]
    if isinstance(value, np.ndarray):
        if max_array_values is not None and value.size > max_array_values:
            return f"<array {value.shape}>"
        return plain_json(value.tolist(), non_finite, max_array_values)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None if non_finite == "null" else repr(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def finding_json(value: Any) -> Any:
    """A finding's payload as the case file stores it: strict JSON, large arrays summarised."""
    return plain_json(value, max_array_values=FINDING_ARRAY_VALUES)
