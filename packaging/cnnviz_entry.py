"""Entry point of the standalone build: the same ``main`` as the ``cnnviz`` command."""

import sys

from cnnviz_gui.cli import main

if __name__ == "__main__":
    sys.exit(main())
