"""Render the OIP atlas figures of the user guide with the command line, so they can be made again.

Run: ``.venv/bin/python docs/make_oip_figures.py`` (a few minutes on two cores). Writes
``docs/images/oip-atlas-exemplars.png`` (the default CNN's ``Conv2D_3``, Lucid preset, each OIP beside the 3
bundled digits that drive the map hardest) and ``docs/images/oip-atlas-rgb.png`` (a small RGB CNN trained
here for a few seconds on coloured textures, ``tests/rgb_textures.py``: 3 diverse OIPs per map in colour,
beside the 3 texture images that drive the map hardest).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "images"
sys.path.insert(0, str(ROOT / "tests"))


def main() -> int:
    from rgb_textures import textures, trained_rgb_cnn

    from cnnviz_gui import cli

    model = str(ROOT / "resources" / "models" / "mnist_cnn.keras")
    args = ["oip", model, "--layer", "Conv2D_3", "--maps", "0-39", "--preset", "lucid", "--exemplars"]
    if cli.main([*args, "--top", "3", "--out", str(OUT / "oip-atlas-exemplars.png")]) != 0:
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        rgb, _ = trained_rgb_cnn()
        rgb.save(Path(tmp) / "textures_cnn.keras")
        x, y = textures(2000, seed=1)
        np.savez(Path(tmp) / "textures.npz", x=(x * 255).astype(np.uint8), y=y)
        args = ["oip", str(Path(tmp) / "textures_cnn.keras"), "--layer", "c4", "--maps", "0-15"]
        args += [
            "--convention",
            "0..1",
            "--diversity",
            "3",
            "--exemplars",
            "--dataset",
            str(Path(tmp) / "textures.npz"),
        ]
        if cli.main([*args, "--top", "3", "--out", str(OUT / "oip-atlas-rgb.png")]) != 0:
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
