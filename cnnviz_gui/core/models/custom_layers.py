"""Registered, serialisable Keras layers used by the app's own models.

Importing this module registers them, so files that contain them open with safe mode on (no ``Lambda``).
"""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="cnnviz")
class Sampling(keras.layers.Layer):
    """Draw ``z = z_mean + exp(z_log_var / 2) * eps`` with ``eps ~ N(0, I)`` (the VAE reparametrisation).

    Called on ``[z_mean, z_log_var]``. ``seed`` makes the draws reproducible.
    """

    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        eps = keras.random.normal(keras.ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + keras.ops.exp(0.5 * z_log_var) * eps

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config["seed"] = self.seed
        return config
