"""Entry point of the standalone build: the same ``main`` as the ``cnnviz`` command."""

import multiprocessing
import sys

from cnnviz_gui.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # the compute process, and UMAP / t-SNE fits, are child processes
    sys.exit(main())
