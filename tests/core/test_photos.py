"""Photos of any size and aspect: centre crop or pad, grey or RGB, EXIF orientation, folders as datasets."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cnnviz_gui.core.datasets import DatasetError, load_dataset, load_image_folder
from cnnviz_gui.core.photos import PhotoError, fit_photo, open_photo, photo_to_input
from cnnviz_gui.core.preprocess import fit_input

RED = np.array([200, 30, 30]) / 255


def _redness(a: np.ndarray) -> np.ndarray:
    return (a[..., 0] > 0.6) & (a[..., 1] < 0.3) & (a[..., 2] < 0.3)


def test_centre_crop_keeps_the_middle_and_fills_the_square(photo_path):
    x = photo_to_input(photo_path, (224, 224, 3))
    assert x.shape == (224, 224, 3) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0
    np.testing.assert_allclose(x[112, 112], RED, atol=0.08)  # the house stays in the centre
    # the 1200x800 photo is cut to its central 800x800 (x 200..1000): of the sun (x 96..240) only an edge is
    # left; the sky is on top and the grass at the bottom, no black bars
    assert x[5, :, 2].mean() > 0.85 and x[-5, :, 1].mean() > 0.45
    assert not (x.max(axis=-1) < 0.05).any(axis=1).all()
    yellow = (x[..., 0] > 0.9) & (x[..., 1] > 0.85) & (x[..., 2] < 0.6)
    sun_disc = np.pi * (72 * 224 / 800) ** 2  # radius 72 px in the photo
    assert yellow.sum() < 0.3 * sun_disc
    # the house (0.44 of the height in the photo) takes the same share of the crop
    rows = np.flatnonzero(_redness(x).any(axis=1))
    assert abs((rows[-1] - rows[0]) / 224 - 0.352 * 800 / 800) < 0.05


def test_pad_keeps_the_whole_photo_with_black_bars(photo_path):
    x = photo_to_input(photo_path, (224, 224, 3), mode="pad")
    assert x.shape == (224, 224, 3)
    # 1200x800 in 224x224: 224x149 of photo, (224-149)/2 = 37 rows of black above and below
    assert np.abs(x[:30]).max() < 0.02 and np.abs(x[-30:]).max() < 0.02
    np.testing.assert_allclose(x[112, 112], RED, atol=0.08)
    yellow = (x[..., 0] > 0.9) & (x[..., 1] > 0.85) & (x[..., 2] < 0.6)
    assert yellow.any()  # the sun is still in the picture
    grey = photo_to_input(photo_path, (100, 60, 1), mode="pad", fill=1.0)
    assert grey.shape == (100, 60, 1) and grey[0, 0, 0] == 1.0


def test_grey_model_gets_luma_and_rgb_model_gets_three_equal_channels(photo_path):
    rgb = photo_to_input(photo_path, (64, 64, 3))
    grey = photo_to_input(photo_path, (64, 64, 1))
    luma = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    np.testing.assert_allclose(grey[..., 0], luma, atol=0.03)
    digit = np.zeros((28, 28, 1), np.float32)
    digit[5:20, 12:16] = 1.0
    three = fit_input(digit, (32, 32, 3))
    assert three.shape == (32, 32, 3)
    np.testing.assert_array_equal(three[..., 0], three[..., 2])
    np.testing.assert_allclose(fit_input(rgb, (64, 64, 1))[..., 0], luma, atol=1e-5)


def test_fit_input_cuts_the_centre_for_another_aspect_ratio():
    wide = np.zeros((1, 40, 80, 3), np.float32)
    wide[:, :, 20:60] = 1.0  # a white square in the centre, black sides
    out = fit_input(wide, (32, 32, 3))
    assert out.shape == (1, 32, 32, 3) and out.min() > 0.95  # only the centre square is left


def test_exif_orientation_and_large_jpeg_draft(tmp_path):
    tall = np.zeros((300, 200, 3), np.uint8)
    tall[:50] = (255, 0, 0)  # red on top when upright
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: viewers turn it 90 degrees clockwise
    Image.fromarray(tall).rotate(90, expand=True).save(tmp_path / "rot.jpg", exif=exif, quality=95)
    upright = np.asarray(open_photo(tmp_path / "rot.jpg"), np.float32) / 255
    assert upright.shape == (300, 200, 3) and upright[10, 100, 0] > 0.9 and upright[-10, 100, 0] < 0.1
    Image.new("RGB", (4000, 3000), (10, 200, 10)).save(tmp_path / "big.jpg")
    assert max(open_photo(tmp_path / "big.jpg", draft_size=(224, 224)).size) <= 1000  # decoded at 1/4 or less
    x = fit_photo(tmp_path / "big.jpg", (224, 224))
    np.testing.assert_allclose(x[100, 100], [10 / 255, 200 / 255, 10 / 255], atol=0.03)


def test_bad_photos_and_modes_are_explained(tmp_path):
    (tmp_path / "notes.jpg").write_text("not a picture")
    with pytest.raises(PhotoError, match="not an image file"):
        photo_to_input(tmp_path / "notes.jpg", (32, 32, 3))
    with pytest.raises(PhotoError, match="does not exist"):
        photo_to_input(tmp_path / "missing.jpg", (32, 32, 3))
    with pytest.raises(ValueError, match="unknown fit mode"):
        fit_photo(np.zeros((4, 4, 3)), (2, 2), mode="stretch")
    with pytest.raises(PhotoError, match="not an image"):
        photo_to_input(np.zeros((4, 4, 3)), (784,))


def test_folder_of_photos_without_class_folders_is_one_class(tmp_path, photo_path):
    flat = tmp_path / "holiday"
    flat.mkdir()
    Image.open(photo_path).save(flat / "a.jpg")
    Image.open(photo_path).resize((300, 500)).save(flat / "b.png")  # another size and aspect
    (flat / "readme.txt").write_text("x")
    ds = load_dataset(flat)
    assert ds.class_names == ["holiday"] and ds.y.tolist() == [0, 0]
    # the first photo's size scaled down to 256 on its longer side; the other one cropped to that shape
    assert ds.x.shape == (2, 171, 256, 3)
    np.testing.assert_allclose(ds.x[0, 85, 128], RED, atol=0.1)
    sized = load_image_folder(flat, size=(64, 64), mode="pad")
    assert sized.x.shape == (2, 64, 64, 3)


def test_folder_with_class_folders_and_mixed_sizes(tmp_path, photo_path):
    for name, size in (("houses", (640, 480)), ("more", (200, 200))):
        d = tmp_path / "set" / name
        d.mkdir(parents=True)
        Image.open(photo_path).resize(size).save(d / "1.jpg")
    (tmp_path / "set" / "empty_class").mkdir()
    ds = load_image_folder(tmp_path / "set")
    assert ds.class_names == ["houses", "more"]  # a folder without images is no class
    assert ds.x.shape == (2, 192, 256, 3)
    (tmp_path / "nothing").mkdir()
    with pytest.raises(DatasetError, match="no images and no sub-folders"):
        load_image_folder(tmp_path / "nothing")
