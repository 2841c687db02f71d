"""The Input pane: dataset browser, drawing canvas, image files, input convention."""
