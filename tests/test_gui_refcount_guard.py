"""The GUI survives the pinned PySide6's dropped references to None and True (CPython 3.11)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

CHILD = """
import sys
import examiner.gui  # installs the guard
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication
app = QApplication([])
img = QImage(8, 8, QImage.Format.Format_RGB32)
p = QPainter(img)
before = sys.getrefcount(None)
for _ in range(50_000):  # far more than None's ~5000 references at start-up
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
p.end()
class O(QObject):
    s = Signal(float)
o = O()
for _ in range(50_000):
    o.s.emit(1.0)
print("alive", before - sys.getrefcount(None))
"""


def test_many_void_calls_and_emits_do_not_abort() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    r = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.startswith("alive")
