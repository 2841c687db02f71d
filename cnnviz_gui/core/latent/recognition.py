"""Recognise the encoder and decoder of an autoencoder (runs on the compute thread).

Four ways in: the app's own files and any model whose encoder and decoder are nested sub-models (under any
names), a model split at a bottleneck layer the person picks (encoder = input..bottleneck, decoder =
bottleneck..output, where the graph allows), and an encoder file plus a decoder file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class LatentError(Exception):
    """The model cannot be used as an autoencoder as asked; ``message`` says why for a person."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Recognition:
    """What was recognised, in plain data for the UI and CLI (no TensorFlow objects)."""

    kind: str  # "ae" or "vae"
    how: str  # "nested", "named", "bottleneck", "guessed bottleneck", "files"
    encoder_name: str
    decoder_name: str
    z_dim: int
    input_shape: tuple
    output_shape: tuple
    encoder_outputs: list[str] = field(default_factory=list)
    mean_index: int = 0
    log_var_index: int | None = None
    bottleneck: str = ""
    candidates: list[str] = field(default_factory=list)  # nested sub-models, for correction
    bottleneck_candidates: list[str] = field(default_factory=list)  # layers with vector outputs

    @property
    def message(self) -> str:
        kind = "variational autoencoder (VAE)" if self.kind == "vae" else "autoencoder"
        if self.how in ("nested", "named"):
            src = f"encoder = sub-model '{self.encoder_name}', decoder = sub-model '{self.decoder_name}'"
        elif self.how == "files":
            src = f"encoder file '{self.encoder_name}', decoder file '{self.decoder_name}'"
        else:
            guessed = " (guessed: the narrowest vector layer)" if self.how == "guessed bottleneck" else ""
            src = f"split at bottleneck layer '{self.bottleneck}'{guessed}"
        outs = ""
        if self.kind == "vae":
            outs = f"; the encoder gives {', '.join(self.encoder_outputs)}, points are '{self.encoder_outputs[self.mean_index]}'"
        article = "an" if kind[0] in "aeiou" else "a"
        return f"Recognised {article} {kind} with a {self.z_dim}-D latent space: {src}{outs}."


@dataclass
class AutoencoderParts:
    """The Keras encoder and decoder (stay in core) and their description."""

    encoder: Any
    decoder: Any
    recognition: Recognition


def _shape(t) -> tuple:
    return tuple(None if s is None else int(s) for s in t.shape)


def _is_model(layer) -> bool:
    import keras

    return isinstance(layer, keras.Model)


def _output_names(model) -> list[str]:
    names = getattr(model, "output_names", None)
    if names and len(names) == len(model.outputs):
        return list(names)
    return [t._keras_history.operation.name for t in model.outputs]


def _vector_outputs(layer) -> list:
    try:
        out = layer.output
    except (AttributeError, ValueError):
        return []
    outs = out if isinstance(out, list | tuple) else [out]
    return [t for t in outs if len(t.shape) == 2]


def bottleneck_candidates(model) -> list[str]:
    """Top-level layers whose output is a vector (batch, d): where a model could be split."""
    names = []
    for layer in model.layers[:-1]:
        if type(layer).__name__ == "InputLayer":
            continue
        if _vector_outputs(layer):
            names.append(layer.name)
    return names


def _submodels(model) -> list:
    return [layer for layer in model.layers if _is_model(layer)]


def _find(model, name: str):
    """A layer by name, searching nested sub-models too."""
    stack = [model]
    while stack:
        m = stack.pop()
        for layer in m.layers:
            if layer.name == name:
                return layer
            if _is_model(layer):
                stack.append(layer)
    return None


def _describe(encoder, decoder, how: str, model=None, bottleneck: str = "", names=None) -> Recognition:
    """Check that encoder and decoder fit together and say what they are."""
    if len(decoder.inputs) != 1 or len(decoder.inputs[0].shape) != 2:
        shape = [_shape(t)[1:] for t in decoder.inputs]
        raise LatentError(
            f"'{decoder.name}' cannot be the decoder: a decoder takes one latent vector, but it takes {shape}."
        )
    z_dim = _shape(decoder.inputs[0])[1]
    out_shape = _shape(decoder.outputs[0])[1:]
    if len(out_shape) not in (2, 3):
        raise LatentError(
            f"'{decoder.name}' does not make images: it gives {out_shape}, so there is nothing to decode "
            "and show. An autoencoder's decoder ends in an image shaped like the input."
        )
    enc_outs = encoder.outputs
    out_names = _output_names(encoder)
    if len(encoder.inputs) != 1:
        raise LatentError(
            f"'{encoder.name}' cannot be the encoder: it has {len(encoder.inputs)} inputs, not one."
        )
    vec = [i for i, t in enumerate(enc_outs) if len(t.shape) == 2 and _shape(t)[1] == z_dim]
    if not vec:
        got = ", ".join(str(_shape(t)[1:]) for t in enc_outs)
        raise LatentError(
            f"'{encoder.name}' and '{decoder.name}' do not fit: the decoder takes {z_dim} numbers, the encoder "
            f"gives {got}."
        )
    kind, mean_index, log_var_index = "ae", vec[0], None
    if len(vec) >= 2:
        kind = "vae"
        lowered = [out_names[i].lower() for i in vec]
        mean_index = next((i for i, n in zip(vec, lowered, strict=True) if "mean" in n or "mu" in n), vec[0])
        log_var_index = next(
            (
                i
                for i, n in zip(vec, lowered, strict=True)
                if ("var" in n or "sigma" in n) and i != mean_index
            ),
            next(i for i in vec if i != mean_index),
        )
    cands = [m.name for m in _submodels(model)] if model is not None else []
    bcands = bottleneck_candidates(model) if model is not None else []
    enc_name, dec_name = names or (encoder.name, decoder.name)
    return Recognition(
        kind=kind,
        how=how,
        encoder_name=enc_name,
        decoder_name=dec_name,
        z_dim=int(z_dim),
        input_shape=_shape(encoder.inputs[0])[1:],
        output_shape=_shape(decoder.outputs[0])[1:],
        encoder_outputs=out_names,
        mean_index=mean_index,
        log_var_index=log_var_index,
        bottleneck=bottleneck,
        candidates=cands,
        bottleneck_candidates=bcands,
    )


def split_at_bottleneck(model, layer_name: str) -> tuple[Any, Any]:
    """Encoder = input..``layer_name``, decoder = ``layer_name``..output (top-level layers only)."""
    import keras

    try:
        layer = model.get_layer(layer_name)
    except ValueError:
        inner = _find(model, layer_name)
        if inner is not None:
            raise LatentError(
                f"'{layer_name}' lies inside a nested sub-model; pick the sub-models as encoder and decoder "
                "instead, or a top-level layer as the bottleneck."
            ) from None
        raise LatentError(f"The model has no layer named '{layer_name}'.") from None
    outs = _vector_outputs(layer)
    if not outs:
        raise LatentError(
            f"'{layer_name}' cannot be the bottleneck: its output {_shape_of(layer)} is not a vector of numbers."
        )
    if len(model.outputs) != 1:
        raise LatentError("Only models with one output can be split at a bottleneck.")
    encoder = keras.Model(model.inputs, layer.output, name=f"{model.name}_encoder")
    # the decoder re-uses the trained layers downstream of the bottleneck (the tensor the next layer uses)
    bt = outs[0]
    try:
        decoder = keras.Model(bt, model.outputs[0], name=f"{model.name}_decoder")
    except Exception as err:
        raise LatentError(
            f"The model cannot be split at '{layer_name}': the layers after it also use tensors from before it "
            f"(a skip connection?), so they do not form a decoder on their own ({str(err).splitlines()[0][:200]})."
        ) from err
    if any(_shape(t)[1:] == _shape(model.inputs[0])[1:] for t in decoder.inputs) and len(decoder.inputs) > 1:
        raise LatentError(
            f"The model cannot be split at '{layer_name}': the part after it needs the input image."
        )
    return encoder, decoder


def _shape_of(layer):
    try:
        out = layer.output
        return _shape(out[0] if isinstance(out, list | tuple) else out)[1:]
    except (AttributeError, ValueError):
        return "?"


def recognise(
    model,
    encoder: str | None = None,
    decoder: str | None = None,
    bottleneck: str | None = None,
    decoder_model=None,
) -> AutoencoderParts:
    """Find the encoder and decoder of ``model`` as asked, or guess; raise :class:`LatentError` if impossible.

    With ``decoder_model`` (a second file), ``model`` is the encoder. With ``encoder``/``decoder`` names, those
    nested sub-models are used. With ``bottleneck``, the model is split there. Otherwise nested sub-models
    are tried first (input shape and output shape must match the model's), then the narrowest vector layer.
    """
    if decoder_model is not None:
        return AutoencoderParts(model, decoder_model, _describe(model, decoder_model, "files"))
    if encoder or decoder:
        if not (encoder and decoder):
            raise LatentError("Name both the encoder and the decoder sub-model (or give a bottleneck layer).")
        enc, dec = _find(model, encoder), _find(model, decoder)
        for name, found in ((encoder, enc), (decoder, dec)):
            if found is None:
                subs = ", ".join(m.name for m in _submodels(model)) or "none"
                raise LatentError(f"The model has no layer named '{name}' (its sub-models: {subs}).")
            if not _is_model(found):
                raise LatentError(
                    f"'{name}' is a single {type(found).__name__} layer, not a sub-model; give a bottleneck "
                    "layer instead to split the model there."
                )
        return AutoencoderParts(enc, dec, _describe(enc, dec, "named", model))
    if bottleneck:
        enc, dec = split_at_bottleneck(model, bottleneck)
        rec = _describe(
            enc, dec, "bottleneck", model, bottleneck, names=(f"input..{bottleneck}", f"{bottleneck}..output")
        )
        return AutoencoderParts(enc, dec, rec)
    return _guess(model)


def _guess(model) -> AutoencoderParts:
    in_shape = _shape(model.inputs[0])[1:] if model.inputs else None
    out_shape = _shape(model.outputs[0])[1:] if model.outputs else None
    subs = _submodels(model)
    pairs = []
    for a in subs:
        for b in subs:
            if a is b or len(a.inputs) != 1 or _shape(a.inputs[0])[1:] != in_shape:
                continue
            if not b.outputs or _shape(b.outputs[0])[1:] != out_shape:
                continue
            try:
                rec = _describe(a, b, "nested", model)
            except LatentError:
                continue
            score = (a.name.lower().startswith("enc")) + (b.name.lower().startswith("dec"))
            pairs.append((score, a, b, rec))
    if pairs:
        pairs.sort(key=lambda p: -p[0])
        _, a, b, rec = pairs[0]
        return AutoencoderParts(a, b, rec)
    if out_shape is not None and len(out_shape) == 1 and in_shape is not None and len(in_shape) > 1:
        raise LatentError(
            f"'{model.name}' maps an image to {out_shape[0]} numbers: it looks like an encoder (or a "
            "classifier) on its own. Open its decoder file as well to explore the latent space."
        )
    if out_shape != in_shape:
        raise LatentError(
            f"'{model.name}' is not an autoencoder: its output {out_shape} is not shaped like its input {in_shape}."
        )
    cands = bottleneck_candidates(model)
    if not cands:
        raise LatentError(
            f"'{model.name}' has no nested encoder/decoder sub-models and no layer with a vector output where "
            "it could be split, so no latent space was found."
        )
    narrowest = min(cands, key=lambda n: _shape(_vector_outputs(model.get_layer(n))[0])[1])
    enc, dec = split_at_bottleneck(model, narrowest)
    rec = _describe(
        enc,
        dec,
        "guessed bottleneck",
        model,
        narrowest,
        names=(f"input..{narrowest}", f"{narrowest}..output"),
    )
    return AutoencoderParts(enc, dec, rec)
