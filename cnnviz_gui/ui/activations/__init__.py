"""The Activations and Compare tabs and their plots."""
