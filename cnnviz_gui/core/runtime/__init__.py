"""The compute process: its job loop, cancellation, TensorFlow loading, logs and memory."""
