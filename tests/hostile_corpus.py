"""What the app must do with each file of the ``bad_models`` corpus (made in ``tests/conftest.py``).

``tests/`` is on ``sys.path`` during a pytest run (its conftest.py has no package), so test modules import
this as ``hostile_corpus``.
"""

from __future__ import annotations

#: corpus key -> (ModelLoadError.kind, words the message must contain)
REFUSED = {
    "missing": ("missing", ["does not exist"]),
    "empty": ("empty", ["0 bytes"]),
    "truncated_keras": ("corrupt", ["damaged"]),
    "truncated_h5": ("corrupt", ["damaged HDF5"]),
    "text_h5": ("corrupt", ["not an HDF5 file"]),
    "invalid_config": ("corrupt", ["config.json is not valid JSON"]),
    "config_not_model": ("corrupt", ["does not describe a model"]),
    "os_system": ("custom", ["'system'", "not part of Keras"]),
    "builtins_eval": ("custom", ["'eval'", "not part of Keras"]),
    "os_system_layer": ("custom", ["'os.system'", "Dense_1"]),
    "lambda_keras": ("unsafe", ["payload_lambda", "Python code"]),
    "lambda_h5": ("unsafe", ["payload_lambda", "Python code"]),
    "nested_lambda": ("unsafe", ["inner/inner_lambda", "Python code"]),
    "custom": ("custom", ["MyFancyDense"]),
    "weights_only": ("weights_only", ["only weights"]),
    "savedmodel": ("savedmodel", ["SavedModel"]),
    "keras2": ("keras2", ["Keras 2.15.0"]),
}
#: corpus key -> (model name, words of the input note; "" for none)
OPENS = {
    "multi_input": ("two_inputs", "2 inputs"),
    "mlp": ("mlp", "not an image"),
    "channels_first": ("chfirst", "channels-first"),
    "no_conv": ("no_conv", ""),
}
