"""The Attribution tab: which pixels made the model decide, live while drawing, methods side by side, the
sanity check. Renders what the compute process returns (``core.attribution``); never computes gradients."""
