"""Compare modes between the evidence and one comparison image.

Modes: the evidence alone, side by side (two synchronised views), flicker (a timer swaps the two
at a chosen rate; a key starts and stops it), swipe (a draggable divider: evidence left,
comparison right), difference (absolute difference with gain and colour map) and a local SSIM
map. The maps come from :mod:`examiner.analysis.compare`; this class only decides what each view
shows. Alignment is pixel-exact: images of different sizes are refused with a message.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from examiner.analysis import compare
from examiner.errors import ExaminerError
from examiner.gui.image_view import ImageView
from examiner.gui.tiles import ImagePyramid, TiledImageItem

EVIDENCE = "evidence"
SIDE = "side"
FLICKER = "flicker"
SWIPE = "swipe"
DIFFERENCE = "difference"
SSIM = "ssim"
MODES: tuple[str, ...] = (EVIDENCE, SIDE, FLICKER, SWIPE, DIFFERENCE, SSIM)
MODE_LABELS = {
    EVIDENCE: "Evidence only",
    SIDE: "Side by side",
    FLICKER: "Flicker",
    SWIPE: "Swipe",
    DIFFERENCE: "Difference",
    SSIM: "Local SSIM",
}
# Maps of images up to this size are computed on the GUI thread; larger ones in a worker.
SYNC_MAP_PIXELS = 3_000_000

MapRunner = Callable[[str, Callable[[], np.ndarray], Callable[[np.ndarray], None]], None]


class CompareController(QObject):
    message = Signal(str)  # a user-facing problem (e.g. sizes differ)
    mode_changed = Signal(str)
    shown_changed = Signal(str)  # what the main view shows: evidence | comparison | map

    def __init__(self, main: ImageView, side: ImageView, run_map: MapRunner | None = None) -> None:
        super().__init__()
        self.main, self.side = main, side
        self.run_map = run_map
        self.mode = EVIDENCE
        self.evidence: np.ndarray | None = None
        self.comparison: np.ndarray | None = None
        self.comparison_label = ""
        self.gain = 4.0
        self.colormap = "heat"
        self.display_mode = "none"
        self.flicker_hz = 2.0
        self.flicker_showing_comparison = False
        self.ev_pyr: ImagePyramid | None = None
        self.cmp_pyr: ImagePyramid | None = None
        self.map_pyr: ImagePyramid | None = None
        self.map_key: tuple[str, float, str] | None = None
        self.last_stats: dict[str, float] = {}
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.flicker_step)
        self.swipe_item = TiledImageItem()
        self.swipe_item.setZValue(-9)
        self.main.scene().addItem(self.swipe_item)
        self.main.swipe_moved.connect(self._swipe_moved)
        self._syncing = False
        self.main.view_changed.connect(lambda: self._sync(self.main, self.side))
        self.side.view_changed.connect(lambda: self._sync(self.side, self.main))

    # -- inputs --------------------------------------------------------------------------------
    def set_evidence(self, pixels: np.ndarray | None) -> None:
        self.evidence = pixels
        self.ev_pyr = None if pixels is None else ImagePyramid(pixels, self._lut(pixels))
        self.comparison = None
        self.cmp_pyr = None
        self.map_pyr = None
        self.map_key = None
        self.comparison_label = ""
        self.main.set_pyramid(self.ev_pyr)
        self.set_mode(EVIDENCE)

    def set_comparison(self, pixels: np.ndarray | None, label: str = "") -> bool:
        """Use ``pixels`` as the comparison; refuses (False, with a message) when sizes differ."""
        if pixels is not None and self.evidence is not None:
            try:
                compare.check_aligned(self.evidence, pixels, "evidence", label or "comparison")
            except ExaminerError as exc:
                self.message.emit(exc.message)
                pixels = None
        self.comparison = pixels
        self.comparison_label = label if pixels is not None else ""
        self.cmp_pyr = None if pixels is None else ImagePyramid(pixels, self._lut(pixels))
        self.map_pyr, self.map_key = None, None
        if pixels is None and self.mode != EVIDENCE:
            self.set_mode(EVIDENCE)
        else:
            self.refresh()
        return pixels is not None

    def _lut(self, pixels: np.ndarray) -> np.ndarray | None:
        if self.display_mode == "none":
            return None
        return compare.display_lut(compare.to_display_uint8(pixels[:: max(1, pixels.shape[0] // 1024), :: max(1, pixels.shape[1] // 1024)]), self.display_mode)

    def set_display_mode(self, mode: str) -> None:
        self.display_mode = mode
        for pyr, px in ((self.ev_pyr, self.evidence), (self.cmp_pyr, self.comparison)):
            if pyr is not None and px is not None:
                pyr.set_lut(self._lut(px))
        self.refresh()

    def set_gain(self, gain: float) -> None:
        self.gain = gain
        if self.mode == DIFFERENCE:
            self.refresh()

    def set_colormap(self, name: str) -> None:
        self.colormap = name
        if self.mode in (DIFFERENCE, SSIM):
            self.refresh()

    def set_flicker_rate(self, hz: float) -> None:
        self.flicker_hz = max(0.2, min(20.0, hz))
        if self.timer.isActive():
            self.timer.start(int(1000 / self.flicker_hz))

    # -- modes ---------------------------------------------------------------------------------
    def set_mode(self, mode: str) -> bool:
        if mode not in MODES:
            raise ExaminerError(f"unknown compare mode {mode!r}; choose one of {', '.join(MODES)}")
        requested = mode
        if mode != EVIDENCE and self.comparison is None:
            self.message.emit(
                "choose a comparison image first: the reference original, or a re-compression from the analysis panel"
            )
            mode = EVIDENCE
        self.mode = mode
        self.timer.stop()
        self.flicker_showing_comparison = False
        if mode == FLICKER:
            self.timer.start(int(1000 / self.flicker_hz))
        self.refresh(keep_view=True)
        self.mode_changed.emit(mode)
        return self.mode == requested

    def toggle_flicker(self) -> None:
        """The flicker key: start or stop the timer (entering flicker mode when needed)."""
        if self.mode != FLICKER:
            self.set_mode(FLICKER)
            return
        if self.timer.isActive():
            self.timer.stop()
        else:
            self.timer.start(int(1000 / self.flicker_hz))
        self.refresh(keep_view=True)

    def flicker_step(self) -> None:
        self.flicker_showing_comparison = not self.flicker_showing_comparison
        self.refresh(keep_view=True)

    def showing(self) -> str:
        if self.mode in (DIFFERENCE, SSIM):
            return "map"
        if self.mode == FLICKER and self.flicker_showing_comparison:
            return "comparison"
        return "evidence"

    def refresh(self, keep_view: bool = True) -> None:
        m = self.mode
        self.side.setVisible(m == SIDE)
        self.swipe_item.set_pyramid(self.cmp_pyr if m == SWIPE else None)
        if m == SWIPE:
            if self.main.swipe_x is None and self.ev_pyr is not None:
                self.main.swipe_x = self.ev_pyr.width / 2
            self.swipe_item.clip_x = self.main.swipe_x
        else:
            self.main.swipe_x = None
        if m == SIDE:
            self.side.set_pyramid(self.cmp_pyr)
            self.side.sync_from(self.main)
        if m in (DIFFERENCE, SSIM):
            self._show_map(m)
        else:
            pyr = self.cmp_pyr if self.showing() == "comparison" else self.ev_pyr
            if self.main.pyramid is not pyr:
                self.main.set_pyramid(pyr, keep_view=keep_view)
        self.main.banner = self.banner()
        self.side.banner = f"COMPARISON: {self.comparison_label}" if m == SIDE else ""
        self.main.viewport().update()
        self.side.viewport().update()
        self.shown_changed.emit(self.showing())

    def banner(self) -> str:
        parts: list[str] = []
        m = self.mode
        if m == SIDE:
            parts.append("EVIDENCE")
        elif m == FLICKER:
            state = "COMPARISON" if self.flicker_showing_comparison else "EVIDENCE"
            run = f"{self.flicker_hz:g} Hz" if self.timer.isActive() else "paused"
            parts.append(f"FLICKER ({run}): {state}")
        elif m == SWIPE:
            parts.append(f"SWIPE: evidence | {self.comparison_label}")
        elif m == DIFFERENCE:
            parts.append(f"|DIFFERENCE| x{self.gain:g} ({self.colormap}) vs {self.comparison_label}")
        elif m == SSIM:
            parts.append(f"LOCAL SSIM (bright = dissimilar) vs {self.comparison_label}")
        if self.display_mode != "none" and m not in (DIFFERENCE, SSIM):
            parts.append(f"DISPLAY ONLY: {'contrast stretch' if self.display_mode == 'stretch' else 'histogram equalisation'}")
        return "   |   ".join(parts)

    def _show_map(self, m: str) -> None:
        ev, cmp_ = self.evidence, self.comparison
        if ev is None or cmp_ is None:
            return
        key = (m, self.gain if m == DIFFERENCE else 0.0, self.colormap)
        if self.map_key == key and self.map_pyr is not None:
            if self.main.pyramid is not self.map_pyr:
                self.main.set_pyramid(self.map_pyr, keep_view=True)
            return

        def compute() -> np.ndarray:
            if m == DIFFERENCE:
                return compare.difference_image(ev, cmp_, self.gain, self.colormap)
            return compare.ssim_image(ev, cmp_, self.colormap)

        def show(img: np.ndarray) -> None:
            if self.mode != m or self.evidence is not ev or self.comparison is not cmp_:
                return  # the examiner moved on while the map was computed
            self.map_key = key
            self.map_pyr = ImagePyramid(img)
            self.main.set_pyramid(self.map_pyr, keep_view=True)
            self.main.viewport().update()

        if self.run_map is None or ev.shape[0] * ev.shape[1] <= SYNC_MAP_PIXELS:
            show(compute())
        else:
            self.run_map(MODE_LABELS[m], compute, show)

    # -- synchronised views ----------------------------------------------------------------------
    def _sync(self, src: ImageView, dst: ImageView) -> None:
        if self._syncing or self.mode != SIDE:
            return
        self._syncing = True
        try:
            dst.sync_from(src)
        finally:
            self._syncing = False

    def _swipe_moved(self, x: float) -> None:
        self.swipe_item.clip_x = x
        self.swipe_item.update()

    def comparison_value(self, x: int, y: int) -> np.ndarray | None:
        if self.comparison is None:
            return None
        return self.comparison[y, x]
