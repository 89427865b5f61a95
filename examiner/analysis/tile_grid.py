"""The analysis tile grid: the tile size, how many tiles a map cell averages, and where a cell
lies in the image. Apart from :mod:`spectral` so that the window can place a map without
loading the spectral code."""

from __future__ import annotations

TILE = 128
MAP_CELL_TILES = 2


def map_cell_placement(map_cell: int) -> tuple[float, float]:
    """(offset, pitch) in pixels of the per-cell map: cell k is centred over the tiles it averages.

    A cell averages ``MAP_CELL_TILES`` tiles per side, laid ``map_cell / MAP_CELL_TILES`` pixels
    apart; together they span ``map_cell - stride + TILE`` pixels from ``k * map_cell``, so a
    square of ``map_cell`` pixels drawn for it starts half the surplus further in.
    """
    stride = map_cell / MAP_CELL_TILES
    return (TILE - stride) / 2, float(map_cell)
