"""User settings: a typed object stored as JSON in the user's config directory.

``EXAMINER_CONFIG_DIR`` / ``EXAMINER_DATA_DIR`` override the platform directories, which is
how tests and portable installs keep everything in one place.

Only the front ends (the command line and the GUI) read the settings file; they pass what they
read down as arguments, so the core never depends on a file on this machine and a worker process
uses exactly the settings the job was started with.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import platformdirs

from examiner.core.atomic import write_atomically
from examiner.core.formats import DEFAULT_MAX_PIXELS
from examiner.errors import ExaminerError

SETTINGS_SCHEMA_VERSION = 1
APP_DIR_NAME = "miscompression-examiner"


def config_dir() -> Path:
    override = os.environ.get("EXAMINER_CONFIG_DIR")
    return Path(override) if override else Path(platformdirs.user_config_dir(APP_DIR_NAME))


def data_dir() -> Path:
    override = os.environ.get("EXAMINER_DATA_DIR")
    return Path(override) if override else Path(platformdirs.user_data_dir(APP_DIR_NAME))


def user_codec_dir() -> Path:
    """Where imported weights and third-party codec packs live."""
    return data_dir() / "codecs"


@dataclass
class Settings:
    schema_version: int = SETTINGS_SCHEMA_VERSION
    # Decompression-bomb guard: images above this many pixels are refused at intake.
    max_pixels: int = DEFAULT_MAX_PIXELS
    # Images above this many pixels are re-compressed in overlapping tiles.
    tile_budget_pixels: int = 4_000_000
    tile_overlap: int = 64
    device: str = "auto"  # auto | cpu | cuda
    examiner_name: str = ""
    lab_name: str = ""
    texture_category_enabled: bool = False
    autosave: bool = True
    recent_cases: list[str] = field(default_factory=list)
    extra_codec_dirs: list[str] = field(default_factory=list)

    @classmethod
    def path(cls) -> Path:
        return config_dir() / "settings.json"

    @classmethod
    def load(cls) -> Settings:
        p = cls.path()
        if not p.exists():
            return cls()
        try:
            raw = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ExaminerError(f"{p}: settings file is unreadable ({exc}); fix or delete it") from exc
        if not isinstance(raw, dict):
            raise ExaminerError(f"{p}: settings file is not a JSON object")
        version = raw.get("schema_version", 1)
        if not isinstance(version, int) or version > SETTINGS_SCHEMA_VERSION:
            raise ExaminerError(f"{p}: settings schema {version!r} is newer than this version understands")
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in raw.items() if k in known}
        values["schema_version"] = SETTINGS_SCHEMA_VERSION
        try:
            return cls(**values)
        except TypeError as exc:
            raise ExaminerError(f"{p}: settings file has invalid values ({exc})") from exc

    def save(self) -> None:
        p = self.path()
        p.parent.mkdir(parents=True, exist_ok=True)
        # Write-then-rename so a crash never leaves half a settings file.
        write_atomically(p, json.dumps(asdict(self), indent=2))

    def add_recent_case(self, case_path: str | Path, limit: int = 10) -> None:
        s = str(Path(case_path).resolve())
        self.recent_cases = [s] + [c for c in self.recent_cases if c != s]
        del self.recent_cases[limit:]
