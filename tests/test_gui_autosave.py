"""Killing the GUI while it autosaves loses at most the edit being written.

A child process drives the real main window offscreen, adding regions one after another and
reporting each one once the window has returned from the edit. The test kills it with SIGKILL at
varying moments, reopens the case and checks that every reported edit is there, at most one
more, and that the audit chain still verifies.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from examiner.core.case import Case
from tests.gui_fixtures import make_case

REPO = Path(__file__).resolve().parent.parent

CHILD = r"""
import sys
from PySide6.QtWidgets import QApplication
app = QApplication([])
from examiner.gui.main_window import MainWindow
w = MainWindow(interactive=False)
w.show()
assert w.open_case(sys.argv[1]), w.messages
i = 0
while True:
    i += 1
    x = (i * 7) % 150
    rid = w.regions.add_region("rect", [(x, 5), (x + 10, 25)], notes=f"edit {i}")
    assert rid is not None, w.messages
    w.regions.edit_region(rid, "note", notes=f"edit {i} revised")
    print(i, flush=True)
"""


def test_sigkill_during_autosave_loses_at_most_the_last_edit(tmp_path: Path) -> None:
    case_path = make_case(tmp_path / "case", 160, 64)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    for round_no, delay in enumerate((0.3, 0.6, 0.9)):
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(case_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True
        )
        assert proc.stdout is not None
        # Wait until the child edits, then let it run a little longer before the kill.
        first = proc.stdout.readline()
        assert first.strip(), proc.stderr.read() if proc.stderr else ""
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        rest = proc.stdout.read()
        proc.wait()
        reported = int((first + rest).split()[-1])
        with Case.open(case_path, record=False) as case:
            assert case.audit.verify().ok, f"round {round_no}"
            notes = [r.notes for r in case.regions()]
        mine = [n for n in notes if n.startswith("edit ")]
        # Every reported edit pair is there; at most the one in flight is missing or half done.
        done = {n.split()[1] for n in mine if n.endswith("revised")}
        assert {str(i) for i in range(1, reported + 1)} <= done, f"round {round_no}: lost an acknowledged edit"
        assert len(mine) - reported <= 1
        # Start the next round from a clean case so counts stay comparable.
        with Case.open(case_path, record=False) as case:
            for r in case.regions():
                case.delete_region(r.id)  # type: ignore[arg-type]
