"""The default CNN, AE and VAE: builders and trainers."""
