"""Before the window opens: can Qt's display platform plugin load its system libraries?

When a library that ``libqxcb.so`` links against is missing, Qt aborts with a message that names
only ``libxcb-cursor0`` whatever is really missing. This check runs ``ldd`` on the platform
plugins Qt is about to try and names every library that cannot be found, with the Debian package
that provides it, before any Qt platform is started. It imports no Qt module.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from examiner.errors import ExaminerError

# Platform plugin name -> the plugin file under PySide6/Qt/plugins/platforms.
PLUGIN_FILES = {"xcb": "libqxcb.so", "wayland": "libqwayland.so"}
PLATFORM_NAMES = {"xcb": "X11 (Qt's xcb platform)", "wayland": "Wayland (Qt's wayland platform)"}

# Shared library -> Debian package, for every system library the xcb and Wayland plugins link
# against (packaging/system-packages.txt lists the same packages).
DEBIAN_PACKAGES: dict[str, str] = {
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libwayland-client.so.0": "libwayland-client0",
    "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
}

_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found\s*$")


def missing_libraries(ldd_output: str) -> list[str]:
    """The libraries ``ldd`` reports as 'not found', each once, in the order ldd names them."""
    seen: list[str] = []
    for line in ldd_output.splitlines():
        m = _NOT_FOUND.match(line)
        if m and m.group(1) not in seen:
            seen.append(m.group(1))
    return seen


def packages_for(libraries: list[str]) -> list[str]:
    """Debian packages that provide ``libraries``; a library we cannot map is named as it is."""
    out: list[str] = []
    for lib in libraries:
        pkg = DEBIAN_PACKAGES.get(lib, lib)
        if pkg not in out:
            out.append(pkg)
    return out


def platforms_qt_will_try(env: Mapping[str, str]) -> list[str]:
    """The platform plugins Qt tries, in order, for this environment (Qt 6's own rule on Linux).

    With QT_QPA_PLATFORM unset Qt prefers wayland in a Wayland session (WAYLAND_DISPLAY or
    XDG_SESSION_TYPE=wayland) and then falls back to xcb, which reaches XWayland or an X server
    through DISPLAY. A user's QT_QPA_PLATFORM (a ';'-separated list) replaces that order.
    """
    chosen = env.get("QT_QPA_PLATFORM", "")
    if chosen:
        names = [part.split(":", 1)[0].strip() for part in chosen.split(";")]
        return [n for n in names if n]
    order: list[str] = []
    if env.get("WAYLAND_DISPLAY") or env.get("XDG_SESSION_TYPE") == "wayland":
        order.append("wayland")
    order.append("xcb")
    return order


def qt_plugin_dir() -> Path | None:
    """PySide6's platform plugin folder, found without importing Qt."""
    spec = find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "Qt" / "plugins" / "platforms"


def run_ldd(path: Path) -> str | None:
    """``ldd``'s report on ``path``; None where ldd is absent or cannot read the file."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return None
    try:
        done = subprocess.run([ldd, str(path)], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


Ldd = Callable[[Path], "str | None"]


@dataclass(frozen=True)
class PluginProblem:
    platform: str
    plugin: Path
    missing: list[str]

    def describe(self) -> str:
        return (
            f"{PLATFORM_NAMES.get(self.platform, self.platform)}: {self.plugin.name} cannot load "
            f"{', '.join(self.missing)} (Debian packages: {' '.join(packages_for(self.missing))})"
        )


def plugin_problems(platforms: list[str], plugin_dir: Path | None, ldd: Ldd = run_ldd) -> dict[str, PluginProblem | None]:
    """For each platform we know how to check: its problem, or None when it can load.

    A platform whose plugin file or ldd report is unavailable is left out: nothing is known.
    """
    result: dict[str, PluginProblem | None] = {}
    if plugin_dir is None:
        return result
    for name in platforms:
        file = PLUGIN_FILES.get(name)
        if file is None or not (plugin_dir / file).is_file():
            continue
        report = ldd(plugin_dir / file)
        if report is None:
            continue
        missing = missing_libraries(report)
        result[name] = PluginProblem(name, plugin_dir / file, missing) if missing else None
    return result


def check_display_platform(
    env: Mapping[str, str] | None = None, plugin_dir: Path | None = None, ldd: Ldd = run_ldd
) -> list[str]:
    """Raise one clear error when no platform Qt will try can load; return notes otherwise.

    A note names a platform that cannot load while another one Qt tries can (Qt then falls back
    by itself, for example from Wayland to X11 through XWayland).
    """
    if not sys.platform.startswith("linux"):
        return []
    env = os.environ if env is None else env
    platforms = platforms_qt_will_try(env)
    problems = plugin_problems(platforms, plugin_dir if plugin_dir is not None else qt_plugin_dir(), ldd)
    unusable = [p for n in platforms if (p := problems.get(n)) is not None]
    if not unusable:
        return []
    # A platform that loads, or one we cannot check (eglfs, vnc, ...), is still there to try;
    # xcb only with an X server (or XWayland) to talk to.
    if any((n not in problems or problems[n] is None) and (n != "xcb" or env.get("DISPLAY")) for n in platforms):
        return [f"{p.describe()}; Qt tries the next platform instead" for p in unusable]
    lines = "\n  ".join(p.describe() for p in unusable)
    packages = sorted({pkg for p in unusable for pkg in packages_for(p.missing)})
    raise ExaminerError(
        "the window cannot open: Qt's display platform plugin is missing system libraries\n  "
        f"{lines}\nInstall them with: sudo apt-get install {' '.join(packages)}\n"
        "(`make run` does that when run as root or with sudo: packaging/install-system-packages.sh installs "
        "every package the window needs)"
    )
