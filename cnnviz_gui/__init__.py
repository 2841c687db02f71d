"""cnnviz: look inside trained Keras networks."""

__version__ = "0.1.0"
