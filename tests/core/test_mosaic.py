"""Mosaic figures: one image, vector labels, RGB tiles in colour, titles that fit, small fast files."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz_gui.core import mosaic
from cnnviz_gui.core.activations.figures import compare_figure, maps_figure
from cnnviz_gui.core.figures import save


def _images(fig):
    axes = [a for ax in fig.axes for a in (ax, *ax.child_axes)]
    return [im for ax in axes for im in ax.get_images()]


def test_compose_places_each_tile_at_its_origin():
    tiles = np.arange(5 * 3 * 4, dtype=np.float32).reshape(5, 3, 4)
    plan = mosaic.plan_mosaic(5, (3, 4), [str(i) for i in range(5)], ncols=2)
    img = mosaic.compose(tiles, plan)
    assert img.shape == (plan.height_px, plan.width_px)
    for k in range(5):
        t, l = plan.origin(k)
        np.testing.assert_array_equal(img[t : t + 3, l : l + 4], tiles[k])
    assert np.isnan(img).sum() == img.size - tiles.size  # everything else is the (white) background
    rgb = mosaic.compose(np.ones((2, 3, 3, 3), np.float32) * [1, 0, 0], mosaic.plan_mosaic(2, (3, 3)))
    assert rgb.shape[-1] == 3 and (rgb == [1, 0, 0]).all(axis=-1).sum() == 18


def test_many_tiles_one_image_one_label_path_and_crossed_tiles():
    rng = np.random.default_rng(0)
    tiles = rng.random((300, 7, 7)).astype(np.float32)
    made = mosaic.mosaic_figure(
        tiles, [str(i) for i in range(300)], title="t", crossed=np.arange(300) % 7 == 0, colorbar_label="act"
    )
    fig = made.figure
    assert len(_images(fig)) == 1
    assert mosaic.mosaic_labels(fig) == [str(i) for i in range(300)]
    assert sum(len(ax.texts) for ax in fig.axes) == 0  # no Text artist per tile
    assert len(made.mosaic.image.axes.collections) == 1  # the crosses: one line collection
    assert made.colorbar is not None and made.mosaic.levels == (float(tiles.min()), float(tiles.max()))
    assert any(ax.get_label() == "<colorbar>" for ax in fig.axes)


def test_labels_move_to_rows_and_columns_when_tiles_are_tiny():
    plan = mosaic.plan_mosaic(20000, (2, 2), [str(i) for i in range(20000)], max_width_in=6)
    assert plan.mode == "grid" and plan.left > 0 and plan.top > 0
    assert mosaic.MIN_LABEL_PT <= plan.label_pt <= mosaic.MAX_LABEL_PT
    many = mosaic.plan_mosaic(3072, (7, 7), [str(i) for i in range(3072)])
    assert many.mode == "grid"  # ConvNeXt's 3072 maps: row and column labels keep the SVG small
    small = mosaic.plan_mosaic(64, (112, 112), [str(i) for i in range(64)])
    assert small.mode == "tiles" and small.label_pt == mosaic.MAX_LABEL_PT


def test_maps_figure_of_1024_maps_with_rgb_input_and_imagenet_predictions(tmp_path):
    from cnnviz_gui.core.activations.predictions import imagenet_class_names

    rng = np.random.default_rng(1)
    out = np.maximum(rng.normal(size=(14, 14, 1024)), 0).astype(np.float32)
    photo = np.zeros((224, 224, 3), np.float32)
    photo[..., 0] = 1.0  # a red input must stay red
    probs = rng.dirichlet(np.ones(1000)).astype(np.float32)
    title = (
        "resnet50 / conv4_block6_out: 1024 maps of 14x14; input a photo with a rather long file name.jpg " * 3
    )
    fig = maps_figure(out, "conv4_block6_out", title=title, input_image=photo, probabilities=probs,
                      class_names=imagenet_class_names())  # fmt: skip
    assert set(mosaic.mosaic_labels(fig)) == {str(i) for i in range(1024)}
    images = _images(fig)
    assert len(images) == 2  # the mosaic and the input
    shown_input = next(im for im in images if im.get_array().shape[-1] == 3)
    np.testing.assert_array_equal(shown_input.get_array()[0, 0], [1.0, 0.0, 0.0])
    bars = next(ax for ax in fig.axes if ax.get_title().startswith("predicted"))
    best = int(np.argmax(probs))
    assert imagenet_class_names()[best][:20] in bars.get_title() and "top 5 of 1000" in bars.get_title()
    assert len(bars.patches) == 5
    # the title is wrapped inside the figure
    fig.canvas.draw()
    box = fig._suptitle.get_window_extent()
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width and box.y1 <= fig.bbox.height
    assert fig._suptitle.get_text().count("\n") >= 1
    sizes = {}
    for ext in ("png", "svg", "pdf"):
        sizes[ext] = save(fig, tmp_path / f"maps.{ext}").stat().st_size
    assert all(size < 10 * 1024 * 1024 for size in sizes.values()), sizes
    assert b"mosaic-labels" in (tmp_path / "maps.svg").read_bytes()


def test_per_map_levels_subsets_and_dense_outputs():
    out = np.stack([np.full((4, 4), v, np.float32) for v in (1.0, 5.0, 3.0)], axis=-1)
    out[0, 0] = [0.0, 0.0, 0.0]
    fig = maps_figure(out, "conv", shared_levels=False, indices=[1, 2])
    assert mosaic.mosaic_labels(fig) == ["1", "2"]
    data = mosaic.mosaic_values(fig)
    assert np.nanmax(data) == pytest.approx(1.0) and np.nanmin(data) == pytest.approx(0.0)
    assert _images(fig)[0].get_array()[0, 0].tolist() == [255, 255, 255, 255]  # white between tiles
    assert "2 of 3 maps" in fig._suptitle.get_text()
    dense = maps_figure(np.linspace(-1, 1, 4096, dtype=np.float32), "fc1", probabilities=np.full(10, 0.1))
    assert len(dense.axes) == 2 and sum(len(ax.collections) for ax in dense.axes) == 1  # vlines, no 4096 bars
    with pytest.raises(ValueError, match="unknown colour map 'nocmap'"):
        maps_figure(out, "conv", cmap="nocmap")


def test_compare_figure_is_one_mosaic_with_input_thumbnails():
    rng = np.random.default_rng(2)
    tiles = [rng.random((100, 5, 5)).astype(np.float32) for _ in range(3)]
    inputs = [rng.random((32, 32, 3)).astype(np.float32) for _ in range(3)]
    fig = compare_figure(("conv", tiles, ["a", "b", "c"]), inputs=inputs)
    assert sum(1 for im in _images(fig) if getattr(im, "cnnviz_values", None) is not None) == 1
    assert mosaic.mosaic_labels(fig) == [str(m) for m in range(64)] * 3
    assert sum(1 for im in _images(fig) if im.get_array().shape[-1] == 3) == 3  # the inputs, in colour
    assert "first 64 of 100" in fig.get_suptitle()
