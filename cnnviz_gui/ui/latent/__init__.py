"""The Latent tab: scatter, decoding, generation and its exports."""
