"""The window's colour maps are matplotlib's (figures and screen agree), built without importing pyplot."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from cnnviz_gui.ui.widgets.map_grid import colormap, lookup_table


@pytest.mark.parametrize("name", ["viridis", "magma", "gray", "jet", "RdBu_r", "cividis"])
def test_colour_maps_match_matplotlib(name):
    lut = colormap(name).getLookupTable(0.0, 1.0, 256, alpha=False).astype(float)
    reference = matplotlib.colormaps[name](np.linspace(0, 1, 256))[:, :3] * 255
    assert np.abs(lut - reference).max() <= 1.0
    assert lookup_table(name).shape[1] == 4


def test_an_unknown_colour_map_is_named_in_the_error():
    with pytest.raises(ValueError, match="unknown colour map 'no-such-map'"):
        colormap("no-such-map")
