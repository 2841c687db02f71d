"""OIP search by gradient ascent: engine, start images, targets, types and figures."""
