"""The check before the window opens: which system libraries Qt's display platform cannot load."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from examiner.errors import ExaminerError
from examiner.gui.platform_check import (
    DEBIAN_PACKAGES,
    check_display_platform,
    missing_libraries,
    packages_for,
    platforms_qt_will_try,
)

REPO = Path(__file__).resolve().parent.parent

# What `ldd libqxcb.so` printed on a Debian 12 machine without libxcb-icccm4 and libxcb-keysyms1.
LDD_XCB_MISSING = """\
\tlinux-vdso.so.1 (0x00007ffd6b1e5000)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/plugins/platforms/../../lib/libQt6XcbQpa.so.6 (0x00007f5a1c400000)
\tlibGL.so.1 => /lib/x86_64-linux-gnu/libGL.so.1 (0x00007f5a1c379000)
\tlibxkbcommon.so.0 => /lib/x86_64-linux-gnu/libxkbcommon.so.0 (0x00007f5a1c333000)
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f5a1c32b000)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-util.so.1 => /lib/x86_64-linux-gnu/libxcb-util.so.1 (0x00007f5a1c322000)
\tlibxcb-keysyms.so.1 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f5a1bc1e000)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\t/lib64/ld-linux-x86-64.so.2 (0x00007f5a1c6d4000)
"""
LDD_WAYLAND_MISSING = """\
\tlibwayland-client.so.0 => /lib/x86_64-linux-gnu/libwayland-client.so.0 (0x00007fec57ad0000)
\tlibwayland-cursor.so.0 => not found
"""
LDD_ALL_FOUND = "\tlibxcb.so.1 => /lib/x86_64-linux-gnu/libxcb.so.1 (0x00007f5a1c32b000)\n"

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the check runs on Linux only")


def test_missing_libraries_are_read_from_ldd_output_once_each_in_order() -> None:
    assert missing_libraries(LDD_XCB_MISSING) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert missing_libraries(LDD_ALL_FOUND) == []
    assert missing_libraries("") == []


def test_libraries_map_to_debian_packages_and_unknown_ones_keep_their_name() -> None:
    assert packages_for(["libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libgthread-2.0.so.0", "libglib-2.0.so.0"]) == [
        "libxcb-icccm4",
        "libxcb-keysyms1",
        "libglib2.0-0",
    ]
    assert packages_for(["libodd.so.7"]) == ["libodd.so.7"]


def test_every_package_the_check_names_is_in_the_system_package_list() -> None:
    listed = {
        line.strip()
        for line in (REPO / "packaging" / "system-packages.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    }
    assert set(DEBIAN_PACKAGES.values()) <= listed, set(DEBIAN_PACKAGES.values()) - listed
    assert {"xvfb", "xauth"} <= listed


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"DISPLAY": ":0"}, ["xcb"]),
        ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, ["wayland", "xcb"]),
        ({"XDG_SESSION_TYPE": "wayland"}, ["wayland", "xcb"]),
        ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0", "QT_QPA_PLATFORM": "xcb"}, ["xcb"]),
        ({"QT_QPA_PLATFORM": "wayland;xcb:nograb"}, ["wayland", "xcb"]),
        ({"QT_QPA_PLATFORM": "offscreen"}, ["offscreen"]),
    ],
)
def test_platform_order_follows_qt(env: dict[str, str], expected: list[str]) -> None:
    assert platforms_qt_will_try(env) == expected


def _plugins(tmp_path: Path) -> Path:
    for name in ("libqxcb.so", "libqwayland.so"):
        (tmp_path / name).write_bytes(b"")
    return tmp_path


@linux_only
def test_missing_xcb_libraries_give_one_message_naming_libraries_and_packages(tmp_path: Path) -> None:
    with pytest.raises(ExaminerError) as err:
        check_display_platform({"DISPLAY": ":0"}, _plugins(tmp_path), ldd=lambda p: LDD_XCB_MISSING)
    text = str(err.value)
    assert "libqxcb.so cannot load libxcb-icccm.so.4, libxcb-keysyms.so.1" in text
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1" in text
    assert "libxcb-cursor0" not in text  # Qt's own message blames this one whatever is missing


@linux_only
def test_wayland_plugin_missing_a_library_falls_back_to_xcb_with_a_note(tmp_path: Path) -> None:
    reports = {"libqwayland.so": LDD_WAYLAND_MISSING, "libqxcb.so": LDD_ALL_FOUND}
    notes = check_display_platform(
        {"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, _plugins(tmp_path), ldd=lambda p: reports[p.name]
    )
    assert len(notes) == 1 and "libwayland-cursor.so.0" in notes[0] and "libwayland-cursor0" in notes[0]
    # Without DISPLAY there is no XWayland to fall back to: the Wayland libraries are needed.
    with pytest.raises(ExaminerError, match="libqwayland.so cannot load libwayland-cursor.so.0"):
        check_display_platform({"WAYLAND_DISPLAY": "wayland-0"}, _plugins(tmp_path), ldd=lambda p: reports[p.name])
    with pytest.raises(ExaminerError, match="libwayland-cursor0.*libxcb-icccm4|libxcb-icccm4.*libwayland-cursor0"):
        reports["libqxcb.so"] = LDD_XCB_MISSING
        check_display_platform({"WAYLAND_DISPLAY": "wayland-0"}, _plugins(tmp_path), ldd=lambda p: reports[p.name])


@linux_only
def test_nothing_to_say_when_everything_loads_or_nothing_can_be_checked(tmp_path: Path) -> None:
    assert check_display_platform({"DISPLAY": ":0"}, _plugins(tmp_path), ldd=lambda p: LDD_ALL_FOUND) == []
    # No ldd, or a platform the check does not know: Qt is left to try.
    assert check_display_platform({"DISPLAY": ":0"}, _plugins(tmp_path), ldd=lambda p: None) == []
    assert check_display_platform({"QT_QPA_PLATFORM": "vnc"}, _plugins(tmp_path), ldd=lambda p: LDD_XCB_MISSING) == []


@linux_only
def test_the_installed_qt_plugins_find_every_library() -> None:
    """On a machine set up by packaging/install-system-packages.sh the real plugins load."""
    from examiner.gui.platform_check import plugin_problems, qt_plugin_dir, run_ldd

    plugins = qt_plugin_dir()
    if plugins is None or run_ldd(plugins / "libqxcb.so") is None:
        pytest.skip("no ldd or no PySide6 platform plugins to inspect")
    problems = plugin_problems(["xcb", "wayland"], plugins)
    assert problems == {"xcb": None, "wayland": None}, [p.describe() for p in problems.values() if p]
