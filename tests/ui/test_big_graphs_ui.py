"""A ResNet50 (64x64, weights=None, 176 layers, 1000 classes) in the window as a person uses it: the Layers
tree's blocks, filter, inputs and outputs and keyboard; 2048 maps paged, sorted, cut to the top N, hovered
and clicked; the top-5 predictions with ImageNet names and with a labels file."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import make_window
from PySide6.QtCore import QPointF, Qt

from cnnviz_gui.core.activations.predictions import imagenet_class_names
from cnnviz_gui.ui.activations.map_browser import MIN_TILE_PIXELS, map_order
from cnnviz_gui.ui.model.layer_tree import BLOCK_ROLE, LAYER_ROLE

pytest.importorskip("keras")


@pytest.fixture
def resnet_window(qtbot, real_models):
    w = make_window(qtbot)
    w.resize(1400, 900)
    w.open_model_file(str(real_models["resnet"]))
    w.input_panel.select_sample(0)  # a grey digit: the RGB model gets it as three channels
    w.tabs.setCurrentWidget(w.activation_view)
    qtbot.wait(10)
    assert w.messages == []
    return w


def layer_row(tree, name):
    item = tree.layer_item(name)
    assert item is not None, name
    return item


def test_blocks_are_collapsible_groups_and_the_filter_finds_names_types_and_blocks(resnet_window, qtbot):
    w = resnet_window
    tree, pane = w.layer_tree, w.layers_pane
    info = w.state.info
    total = sum(1 for _ in info.iter_layers())
    assert total == 176 and pane.count_label.text() == "176 layers"
    blocks = {g.data(0, BLOCK_ROLE): g for g in tree.group_items()}
    assert {"conv2_block1", "conv3_block4", "conv4_block6", "conv5_block3"} <= set(blocks)
    assert len(blocks) == 16  # 3 + 4 + 6 + 3 residual blocks
    group = blocks["conv4_block6"]
    assert [group.child(k).text(0) for k in range(group.childCount())][-2:] == [
        "conv4_block6_add",
        "conv4_block6_out",
    ]
    assert group.text(1) == "block of 10" and not group.isExpanded()  # 176 layers: blocks start closed
    assert tree.topLevelItemCount() < 40  # the whole ResNet at a glance
    # a name part: the 16 Add layers (type "Add", names "..._add")
    assert pane.filter_box.isVisible()
    qtbot.keyClicks(pane.filter_box, "add")
    adds = [layer.name for layer in info.iter_layers() if layer.type == "Add"]
    assert len(adds) == 16 and tree.visible_layers() == adds
    assert pane.count_label.text() == "16 of 176"
    assert all(tree._hidden(layer_row(tree, "conv1_conv")) for _ in [0])
    assert group.isExpanded()  # groups holding a match open
    # a type, any case
    pane.filter_box.setText("batchnormalization")
    assert len(tree.visible_layers()) == sum(
        1 for layer in info.iter_layers() if layer.type == "BatchNormalization"
    )
    # a block: every layer of conv3_block2
    pane.filter_box.setText("conv3_block2")
    assert tree.visible_layers() == tree.block_layers("conv3_block2") and len(tree.visible_layers()) == 10
    # nothing matches: nothing shown, the count says so
    pane.filter_box.setText("no such layer")
    assert tree.visible_layers() == [] and pane.count_label.text() == "0 of 176"
    pane.filter_box.clear()
    assert len(tree.visible_layers()) == 176 and not group.isExpanded()


def test_inputs_and_outputs_of_an_add_are_shown_and_lead_there(resnet_window, qtbot):
    w = resnet_window
    tree, pane = w.layer_tree, w.layers_pane
    w.state.select_layer("conv2_block1_add")
    row = layer_row(tree, "conv2_block1_add")
    assert row.isSelected() and not tree._hidden(row)  # its block opened to show it
    text = pane.details.text()
    assert "conv2_block1_add" in text and "(Add)" in text
    assert 'href="layer:conv2_block1_0_bn"' in text and 'href="layer:conv2_block1_3_bn"' in text
    assert 'href="layer:conv2_block1_out"' in text.split("outputs:")[1]
    assert "inputs: conv2_block1_0_bn, conv2_block1_3_bn" in row.toolTip(0)
    pane.details.linkActivated.emit("layer:conv2_block1_0_bn")  # a click on the link
    assert w.state.layer == "conv2_block1_0_bn" and layer_row(tree, "conv2_block1_0_bn").isSelected()
    assert w.activation_view.layer_label.text().startswith("conv2_block1_0_bn — 256 maps")
    # a link to a layer the filter hides clears the filter
    pane.filter_box.setText("conv5")
    w.state.select_layer("conv2_block1_add")
    assert pane.filter_box.text() == "" and not tree._hidden(layer_row(tree, "conv2_block1_add"))
    # a block's row describes the block without changing the layer shown
    group = next(g for g in tree.group_items() if g.data(0, BLOCK_ROLE) == "conv3_block1")
    tree.setCurrentItem(group)
    assert w.state.layer == "conv2_block1_add"
    assert (
        "block conv3_block1" in pane.details.text() and 'href="layer:conv3_block1_out"' in pane.details.text()
    )


def test_keyboard_moves_selects_and_opens(resnet_window, qtbot):
    w = resnet_window
    tree, pane = w.layer_tree, w.layers_pane
    tree.setFocus()
    w.state.select_layer("conv1_bn")
    qtbot.keyClick(tree, Qt.Key.Key_Down)
    assert w.state.layer == "conv1_relu"
    qtbot.keyClick(tree, Qt.Key.Key_Up)
    qtbot.keyClick(tree, Qt.Key.Key_Up)
    assert w.state.layer == "conv1_conv"
    conv1 = layer_row(tree, "conv1_conv")
    assert conv1.childCount() == 0  # map rows are made when the layer opens
    qtbot.keyClick(tree, Qt.Key.Key_Return)
    assert conv1.isExpanded() and conv1.childCount() == 64 and conv1.child(63).text(0) == "map 63"
    qtbot.keyClick(tree, Qt.Key.Key_Down)  # into its maps
    assert w.state.layer == "conv1_conv" and w.state.maps == [0]
    assert w.activation_view.large.index == 0
    # Enter on a block's row opens it; Down then walks into its layers
    group = next(g for g in tree.group_items() if g.data(0, BLOCK_ROLE) == "conv2_block2")
    tree.setCurrentItem(group)
    qtbot.keyClick(tree, Qt.Key.Key_Return)
    assert group.isExpanded()
    qtbot.keyClick(tree, Qt.Key.Key_Down)
    assert w.state.layer == group.child(0).data(0, LAYER_ROLE) == "conv2_block2_1_conv"
    qtbot.keyClick(tree, Qt.Key.Key_Return)  # Enter again closes what it opened
    qtbot.keyClick(tree, Qt.Key.Key_Up)
    qtbot.keyClick(tree, Qt.Key.Key_Return)
    assert not group.isExpanded()
    # Ctrl+F: type a filter, Enter picks the first match
    w.find_layer_action.trigger()
    assert pane.filter_box.hasFocus()
    qtbot.keyClicks(pane.filter_box, "conv4_block3_add")
    qtbot.keyClick(pane.filter_box, Qt.Key.Key_Return)
    assert w.state.layer == "conv4_block3_add" and tree.hasFocus()


def test_2048_maps_are_paged_sorted_cut_to_the_top_and_read_out(resnet_window, qtbot):
    w = resnet_window
    view = w.activation_view
    browser, grid = view.browser, view.grid
    w.state.select_layer("conv5_block3_out")
    maps = np.moveaxis(view.acts.layers["conv5_block3_out"], -1, 0)
    assert maps.shape == (2048, 2, 2) and "2048 maps of 2x2" in view.layer_label.text()
    size = browser.page_size()
    assert 64 <= size < 2048 and browser.pages == -(-2048 // size)
    assert browser.page_label.text() == f"1/{browser.pages}"
    # tiles are drawn large enough to read
    x0, y0 = grid.tile_origin(0)
    vb = grid.plot.getViewBox()
    a, b = vb.mapViewToScene(QPointF(x0, y0)), vb.mapViewToScene(QPointF(x0 + 2, y0 + 2))
    assert b.x() - a.x() >= MIN_TILE_PIXELS * 2 / 3 - 1  # 2x2 maps + padding: the tile is 3 units
    np.testing.assert_allclose(grid.maps, maps[:size])
    browser.next_button.click()
    assert browser.page == 1 and grid.names[0] == str(size)
    np.testing.assert_allclose(grid.maps, maps[size : 2 * size])
    # sorted by mean activation: the most active map first
    browser.set_sort("mean")
    means = maps.reshape(2048, -1).mean(axis=1)
    assert browser.page == 0 and int(grid.names[0]) == int(np.argmax(means))
    np.testing.assert_array_equal(browser.order, map_order(maps, "mean"))
    assert np.all(np.diff(means[browser.order]) <= 0)
    browser.set_sort("max")
    assert int(grid.names[0]) == int(np.argmax(maps.reshape(2048, -1).max(axis=1)))
    # the top 16 by max: one page of 16
    browser.set_top(16)
    assert grid.maps.shape == (16, 2, 2) and browser.pages == 1
    top = set(np.argsort(-maps.reshape(2048, -1).max(axis=1), kind="stable")[:16].tolist())
    assert {int(n) for n in grid.names} == top
    # hover says which map (its index in the layer) and the value; a click shows it large
    k = 5
    x, y = grid.tile_origin(k)
    pos = grid.glw.mapFromScene(vb.mapViewToScene(QPointF(x + 1.5, y + 0.5)))
    qtbot.mouseMove(grid.glw.viewport(), pos)
    index = int(grid.names[k])
    assert grid.readout.text() == f"map {index}  row 0, col 1  value {maps[index, 0, 1]:.4g}"
    qtbot.mouseClick(grid.glw.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert w.state.maps == [index] and view.large.index == index
    np.testing.assert_allclose(view.large.map, maps[index])
    assert grid.highlight.isVisible()
    # the export follows what is shown: the top 16, most active first
    fig = view.export_figure()
    texts = " ".join(t.get_text() for t in fig.texts) + " ".join(a.get_title() for a in fig.axes)
    assert "top 16 by max activation" in texts.replace("\n", " ")
    # all maps in index order again; selecting a map far down turns to its page
    browser.set_top(0)
    browser.set_sort("index")
    w.state.select_maps("conv5_block3_out", [2000])
    assert browser.page == 2000 // browser.page_size()
    assert "2000" in grid.names and grid.highlight.isVisible()


def test_the_top_5_classes_with_imagenet_names_and_a_labels_file(resnet_window, tmp_path):
    w = resnet_window
    view = w.activation_view
    panel, bars = view.predictions, view.probs
    p = view.acts.probabilities
    assert p.shape == (1000,)
    names = imagenet_class_names()
    order = np.argsort(-p, kind="stable")[:5]
    assert bars.shown == order.tolist() and bars.shown_names == [names[i] for i in order]
    assert [item.toPlainText().split("  ")[0] for item in bars.name_items[:5]] == [
        names[i][:33] + "…" if len(names[i]) > 34 else names[i] for i in order
    ]
    assert bars.text.startswith(f"predicted {names[order[0]]}")
    assert panel.source_label.text() == "names: ImageNet (built in)" and panel.top_spin.isEnabled()
    panel.top_spin.setValue(10)
    assert len(bars.shown) == 10 and sum(item.isVisible() for item in bars.name_items) == 10
    # a labels file chosen in the app
    (tmp_path / "mine.txt").write_text("\n".join(f"thing {i}" for i in range(1000)) + "\n")
    assert panel.load_labels_file(str(tmp_path / "mine.txt"))
    assert bars.shown_names[0] == f"thing {order[0]}" and panel.source_label.text() == "names: mine.txt"
    assert view.class_names[0] == "thing 0"
    fig = view.export_figure()
    ticks = [t.get_text() for ax in fig.axes for t in ax.get_yticklabels()]
    assert f"thing {order[0]}" in ticks  # the figure's top 5 carry the file's names
    # bad files: a clear message, nothing changes
    (tmp_path / "broken.json").write_text('{"0": "cat", ')
    assert not panel.load_labels_file(str(tmp_path / "broken.json"))
    assert panel.message.isVisibleTo(panel) and "not valid JSON" in panel.message.text()
    json.dump(["cat", "dog"], (tmp_path / "two.json").open("w"))
    assert not panel.load_labels_file(str(tmp_path / "two.json"))
    assert "2 class names but the model has 1000 outputs" in panel.message.text()
    assert bars.shown_names[0] == f"thing {order[0]}" and panel.source_label.text() == "names: mine.txt"
    assert not panel.load_labels_file(str(tmp_path / "missing.txt"))
    assert "does not exist" in panel.message.text()
    # a JSON dict in Keras' imagenet_class_index form works too, and the message goes away
    json.dump({str(i): [f"n{i:08d}", f"label {i}"] for i in range(1000)}, (tmp_path / "idx.json").open("w"))
    assert panel.load_labels_file(str(tmp_path / "idx.json"))
    assert bars.shown_names[0] == f"label {order[0]}" and not panel.message.isVisibleTo(panel)


def test_map_order_top_n_page_size_top_k_and_labels_file_come_back_with_the_session(resnet_window, tmp_path):
    view = resnet_window.activation_view
    (tmp_path / "names.txt").write_text("\n".join(f"n{i}" for i in range(1000)))
    view.browser.set_sort("max")
    view.browser.set_top(64)
    view.browser.set_page_size(256)
    view.predictions.top_spin.setValue(8)
    assert view.predictions.load_labels_file(str(tmp_path / "names.txt"))
    saved = view.session_state()
    view.browser.set_sort("index")
    view.browser.set_top(0)
    view.browser.set_page_size(0)
    view.predictions.top_spin.setValue(5)
    view.predictions.clear_labels()
    assert view.probs.shown_names[0] != f"n{view.probs.shown[0]}"
    view.restore_session(saved)
    assert (view.browser.sort, view.browser.top) == ("max", 64)
    assert view.browser.page_size_box.currentData() == 256
    assert len(view.probs.shown) == 8 and view.probs.shown_names[0] == f"n{view.probs.shown[0]}"
    view.restore_session(
        {"maps": {"sort": "nonsense", "top": True}, "labels_file": str(tmp_path / "gone.txt")}
    )
    assert view.browser.sort == "max" and view.browser.top == 64  # bad values are ignored
