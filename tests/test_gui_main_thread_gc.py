"""Cyclic garbage, Qt objects included, is collected on the GUI thread and never in a job thread."""

from __future__ import annotations

import gc
import threading
from typing import Any

from PySide6.QtCore import QObject
from pytestqt.qtbot import QtBot

from examiner.gui.main_thread_gc import CHECK_INTERVAL_MS, MainThreadCollector


class _Holder(QObject):
    """A Qt object in a reference cycle: only the cyclic collector can free it."""

    def __init__(self, freed_in: list[int]) -> None:
        super().__init__()
        self.me = self
        self.freed_in = freed_in

    def __del__(self) -> None:
        self.freed_in.append(threading.get_ident())


def _allocate_in_a_thread() -> None:
    """Leave cyclic garbage behind in a job thread, far more than the collector's threshold."""

    def churn() -> None:
        for _ in range(20_000):
            cycle: list[Any] = []
            cycle.append(cycle)

    t = threading.Thread(target=churn)
    t.start()
    t.join()


def test_cycles_are_collected_on_the_gui_thread_only(qtbot: QtBot) -> None:
    assert not gc.isenabled()  # the suite's fixture installs the collector for GUI tests
    freed_in: list[int] = []
    _Holder(freed_in)
    _allocate_in_a_thread()
    assert freed_in == []  # the job thread's allocations did not run the collector
    qtbot.waitUntil(lambda: bool(freed_in), timeout=CHECK_INTERVAL_MS * 200)
    assert freed_in == [threading.get_ident()]


def test_without_the_collector_a_thread_would_collect() -> None:
    """The hazard itself: with automatic collection on, the job thread frees the Qt object."""
    assert gc.isenabled()
    gc.collect()
    freed_in: list[int] = []
    _Holder(freed_in)
    _allocate_in_a_thread()
    assert len(freed_in) == 1 and freed_in[0] != threading.get_ident()


def test_uninstall_collects_and_restores_automatic_collection(qtbot: QtBot) -> None:
    inner = MainThreadCollector()
    freed_in: list[int] = []
    _Holder(freed_in)
    inner.uninstall()
    assert freed_in == [threading.get_ident()]
    assert not gc.isenabled()  # the suite's own collector was installed first and still holds


def test_start_up_state_is_frozen_but_garbage_is_not(qtbot: QtBot) -> None:
    collector = MainThreadCollector()
    freed_in: list[int] = []
    _Holder(freed_in)
    collector.freeze_survivors()  # what the collector does once the window is built
    assert freed_in == [threading.get_ident()]  # collected first, never frozen
    assert gc.get_freeze_count() > 0
    collector.uninstall()
    assert gc.get_freeze_count() == 0
