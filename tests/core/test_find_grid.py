"""imaging.find_grid reads a grid's layout back from its pixels (the click-to-enlarge of a tile)."""

import numpy as np
import pytest

from studio.export import strip
from studio.imaging import GridLayout, find_grid, tile


@pytest.mark.parametrize("n, ncol, h, w, c", [(16, None, 28, 28, 1), (10, None, 28, 20, 1), (7, 7, 32, 32, 3),
                                              (2, 1, 8, 8, 3), (25, 5, 1, 1, 1), (12, 4, 64, 48, 3)])
def test_the_layout_of_every_grid_that_tile_makes_is_found(n, ncol, h, w, c):
    frames = np.random.default_rng(n).integers(0, 256, (n, h, w, c), dtype=np.uint8)
    frames[frames == 96] = 95  # a tile of pure gap colour would be an empty cell
    grid = tile(frames, ncol)
    layout = find_grid(grid)
    cols = ncol or int(np.ceil(np.sqrt(n)))
    assert layout == GridLayout(-(-n // cols), cols, h, w, 2)
    for i in range(n):
        assert np.array_equal(layout.crop(grid, i), frames[i])
        y, x = layout.cell(i)
        assert layout.index_at(x + w / 2, y + h / 2) == i
        assert layout.index_at(x, y) == i and layout.index_at(x + w - 0.01, y + h - 0.01) == i


def test_gaps_count_for_the_nearest_tile_and_off_the_grid_is_none():
    grid = tile(np.zeros((4, 10, 10, 1), np.uint8))  # 2 × 2 tiles of 10 px, 2 px gaps: 26 px
    layout = find_grid(grid)
    assert layout.index_at(0, 0) == 0 and layout.index_at(12.9, 0) == 0 and layout.index_at(13.1, 0) == 1
    assert layout.index_at(25.9, 25.9) == 3
    assert layout.index_at(26, 3) is None and layout.index_at(-1, 3) is None


def test_a_single_picture_or_another_gap_colour_is_not_a_grid():
    rng = np.random.default_rng(0)
    assert find_grid(rng.integers(0, 256, (28, 28, 1), dtype=np.uint8)) is None
    trousers = np.zeros((28, 28, 1), np.uint8)  # two legs with black between them and around
    trousers[3:25, 5:12] = trousers[3:25, 16:23] = 200
    assert find_grid(trousers) is None  # black is not the gap colour
    assert find_grid(tile(trousers[None])) is None  # one tile: nothing to pick
    frames = rng.integers(100, 256, (3, 9, 9, 1), dtype=np.uint8)
    assert find_grid(strip(list(frames), fill=31)) is None
    assert find_grid(strip(list(frames), fill=31), fill=31) == GridLayout(1, 3, 9, 9, 2)
    assert find_grid(np.full((30, 30, 3), 96, np.uint8)) is None  # all gap
