"""Open, check and describe Keras models; receptive fields; the app's serialisable layers."""
