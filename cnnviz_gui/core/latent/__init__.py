"""Latent spaces of autoencoders and VAEs: recognition, encode/decode, projection, generation."""
