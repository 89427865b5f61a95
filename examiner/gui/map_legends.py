"""Which legend entries the window shows: one for each map on screen, with its meaning and scale."""

from __future__ import annotations

from typing import TYPE_CHECKING

from examiner.analysis.compare import SSIM_SIGMA
from examiner.gui.colour_legend import ColourLegend, LegendEntry
from examiner.gui.compare_controller import DIFFERENCE, SSIM

if TYPE_CHECKING:
    # The legends are part of the window, built with it from its own widgets.
    from examiner.gui.main_window import MainWindow

TILES = "tiles"
VARIABILITY = "variability"
COMPARE_MAP = "compare-map"


def tile_entry(lo: float, hi: float, boxes: int) -> LegendEntry:
    note = "scaled within this image, not an absolute score"
    if boxes:
        note = f"dashed cyan boxes: {boxes} flagged area(s); " + note
    return LegendEntry(
        "Detection: per-tile trace strength", "heat", f"{lo:.2f} weakest", f"{hi:.2f} strongest",
        "log ratio of grid peaks; " + note,
    )


def variability_entry() -> LegendEntry:
    return LegendEntry(
        "Seed variability", "heat", "0: all seeds agree", "255: disagree most", "detail the decoder invents"
    )


def difference_entry(gain: float, colormap: str) -> LegendEntry:
    top = min(100.0, 100.0 / max(gain, 1e-6))
    return LegendEntry(
        f"Difference x{gain:g} |evidence - comparison|", colormap, "0: identical", f">= {top:.3g}% of full scale",
        "largest channel difference per pixel",
    )


def ssim_entry(colormap: str) -> LegendEntry:
    return LegendEntry(
        "Local dissimilarity (1 - SSIM)", colormap, "0: same structure", "1 or more: unrelated",
        f"luma, Gaussian window sigma {SSIM_SIGMA:g} px",
    )


def install_legends(w: MainWindow) -> ColourLegend:
    """The legend over the main view, kept in step with the overlays and the compare mode."""
    legend = ColourLegend(w.view.viewport())

    def overlays() -> None:
        rng = w.analysis.tile_range
        if rng is not None and w.tile_overlay.isVisible():
            legend.set_entry(TILES, tile_entry(rng[0], rng[1], w.analysis.localised_count()))
        else:
            legend.set_entry(TILES, None)
        legend.set_entry(VARIABILITY, variability_entry() if w.variability_overlay.isVisible() else None)

    def compare_map() -> None:
        mode = w.compare.mode
        if mode == DIFFERENCE and w.compare.comparison is not None:
            legend.set_entry(COMPARE_MAP, difference_entry(w.compare.gain, w.compare.colormap))
        elif mode == SSIM and w.compare.comparison is not None:
            legend.set_entry(COMPARE_MAP, ssim_entry(w.compare.colormap))
        else:
            legend.set_entry(COMPARE_MAP, None)

    w.analysis.on_overlays = overlays
    # Connected after the controller's own handlers, so the overlay's visibility is already set.
    w.analysis_panel.tile_overlay_toggled.connect(lambda _on: overlays())
    w.analysis_panel.variability_overlay_toggled.connect(lambda _on: overlays())
    w.compare.mode_changed.connect(lambda _m: compare_map())
    w.compare.shown_changed.connect(lambda _s: compare_map())
    w.gain_box.valueChanged.connect(lambda _v: compare_map())
    w.cmap_box.currentTextChanged.connect(lambda _t: compare_map())
    return legend
