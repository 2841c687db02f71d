"""``python -m cnnviz_gui``."""

from cnnviz_gui.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
