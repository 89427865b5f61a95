"""How every command prints: the --json flag and one JSON document on stdout.

Here, not in :mod:`examiner.cli`, so the commands depend on a leaf and the command line depends
on the commands, never the other way round.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from examiner.core.text_safety import escape_json_text


def print_json(data: Any) -> None:
    """Machine-readable output: one JSON document on stdout."""
    text = json.dumps(data, indent=2, sort_keys=False, default=str, ensure_ascii=False)
    # JSON's own escapes for what the terminal filter would otherwise show as \xNN (not JSON).
    sys.stdout.write(escape_json_text(text) + "\n")


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON on stdout")
