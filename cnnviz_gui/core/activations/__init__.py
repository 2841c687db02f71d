"""Read out layers (the probe), class statistics of maps, and their figures."""
