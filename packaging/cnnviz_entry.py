"""Entry point of the standalone build: the same ``main`` as the ``cnnviz`` command."""

import multiprocessing
import sys

from cnnviz_gui.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # UMAP / t-SNE fits run in a child process (core/runtime/child_process.py)
    sys.exit(main())
