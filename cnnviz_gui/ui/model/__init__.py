"""The Model pane, the Layers tree, the Summary tab and the training dialog."""
