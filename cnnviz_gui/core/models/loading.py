"""Open, check and describe Keras models. Refusals come back as :class:`ModelLoadError` for a person."""

from __future__ import annotations

import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnnviz_gui.core.models import archive
from cnnviz_gui.core.models.receptive_field import receptive_fields

MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")
CONV_TYPES = {"Conv1D", "Conv2D", "Conv3D", "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose"}
UNSAFE_TYPES = {"Lambda"}


class ModelLoadError(Exception):
    """A model file the app will not (or cannot) open, with a one-paragraph explanation.

    ``kind`` names the reason (``missing``, ``empty``, ``corrupt``, ``savedmodel``, ``keras2``, ``custom``,
    ``weights_only``, ``unsafe``, ``unsupported``, ``error``). ``needs_consent`` is true when the file was
    refused by safe mode and could be opened if the person agrees to run its code; ``unsafe_layers`` says
    which layers hold code. ``summary`` is what could be read without building the model.
    """

    def __init__(
        self,
        message: str,
        kind: str = "error",
        *,
        needs_consent: bool = False,
        unsafe_layers: list[str] | None = None,
        summary: archive.ArchiveSummary | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.needs_consent = needs_consent
        self.unsafe_layers = unsafe_layers or []
        self.summary = summary


@dataclass
class LayerInfo:
    """One row of the layer tree."""

    name: str
    type: str
    output_shape: tuple | None
    params: int
    receptive_field: tuple[int, int] | str | None = None
    path: tuple[str, ...] = ()
    children: list[LayerInfo] = field(default_factory=list)
    #: names of the layers that feed this one and that it feeds, within its own (sub-)model's graph
    inbound: list[str] = field(default_factory=list)
    outbound: list[str] = field(default_factory=list)
    #: the residual / branching block it belongs to (see ``core.models.graph``), None outside blocks
    block: str | None = None

    @property
    def is_conv(self) -> bool:
        return self.type in CONV_TYPES

    @property
    def n_maps(self) -> int:
        """Number of feature maps (channels) of an image-like (H, W, C) output, else 0."""
        s = self.output_shape
        return int(s[-1]) if s is not None and len(s) == 3 and s[-1] is not None else 0

    def receptive_field_text(self) -> str:
        rf = self.receptive_field
        if rf is None:
            return ""
        if isinstance(rf, str):
            return rf
        return f"{rf[0]}x{rf[1]}"

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "type": self.type,
            "output_shape": list(self.output_shape) if self.output_shape is not None else None,
            "params": self.params,
            "receptive_field": self.receptive_field_text() or None,
            "maps": self.n_maps,
            "inbound": list(self.inbound),
            "outbound": list(self.outbound),
            "block": self.block,
            "children": [c.to_dict() for c in self.children],
        }


@dataclass
class ModelInfo:
    """What the UI and CLI need to know about an open model (no TensorFlow objects)."""

    name: str
    path: str
    input_shape: tuple | None
    output_shape: tuple | None
    n_params: int
    keras_version: str | None
    layers: list[LayerInfo]
    n_inputs: int = 1
    image_input: bool = True
    input_note: str = ""
    #: the guessed input convention {"convention": ..., "reason": ...} (see ``core.models.conventions``)
    input_convention: dict | None = None

    def iter_layers(self):
        """Every layer, depth first, nested ones included."""
        stack = list(reversed(self.layers))
        while stack:
            layer = stack.pop()
            yield layer
            stack.extend(reversed(layer.children))

    def find_layer(self, name: str) -> LayerInfo | None:
        return next((layer for layer in self.iter_layers() if layer.name == name), None)

    @property
    def conv_layers(self) -> list[LayerInfo]:
        return [layer for layer in self.iter_layers() if layer.is_conv]

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "path": self.path,
            "input_shape": list(self.input_shape) if self.input_shape else None,
            "output_shape": list(self.output_shape) if self.output_shape else None,
            "params": self.n_params,
            "keras_version": self.keras_version,
            "image_input": self.image_input,
            "input_note": self.input_note,
            "input_convention": dict(self.input_convention) if self.input_convention else None,
            "layers": [layer.to_dict() for layer in self.layers],
        }

    def format_text(self) -> str:
        lines = [
            f"Model {self.name}  ({Path(self.path).name})",
            f"input {_shape_text(self.input_shape)}  output {_shape_text(self.output_shape)}  "
            f"params {self.n_params:,}  Keras {self.keras_version or '?'}",
        ]
        if self.input_note:
            lines.append(f"note: {self.input_note}")
        if self.input_convention:
            conv = self.input_convention
            lines.append(f"input convention (guessed): {conv['convention']} - {conv['reason']}")
        header = f"{'layer':32} {'type':22} {'output shape':18} {'params':>10}  receptive field"
        lines += ["", header, "-" * len(header)]

        def walk(layers, depth):
            for layer in layers:
                name = "  " * depth + layer.name
                lines.append(
                    f"{name:32} {layer.type:22} {_shape_text(layer.output_shape):18} {layer.params:>10,}  "
                    f"{layer.receptive_field_text()}"
                )
                walk(layer.children, depth + 1)

        walk(self.layers, 0)
        return "\n".join(lines)


@dataclass
class LoadedModel:
    """A model open on the compute thread: the Keras object stays in core, ``info`` goes to the UI."""

    model: Any
    info: ModelInfo
    cache: dict = field(default_factory=dict)


def _shape_text(shape) -> str:
    if shape is None:
        return "?"
    return "(" + ", ".join("None" if s is None else str(s) for s in shape) + ")"


# -- checks before Keras touches the file ---------------------------------------------------------------
def precheck(path: str | os.PathLike) -> Path:
    """Refuse files Keras cannot open with a message that says why; return the path otherwise."""
    p = Path(path)
    if not p.exists():
        raise ModelLoadError(
            f"The file {p} does not exist. Check the name and folder and try again.", "missing"
        )
    if p.is_dir():
        if (p / "saved_model.pb").exists() or (p / "saved_model.pbtxt").exists():
            raise ModelLoadError(
                f"{p.name} is a TensorFlow SavedModel folder. Keras 3 can only run a SavedModel as one "
                "opaque inference function (keras.layers.TFSMLayer), not open it layer by layer, so its maps "
                "cannot be shown. Re-save the model from the code that built it with model.save('name.keras').",
                "savedmodel",
            )
        raise ModelLoadError(f"{p} is a folder, not a model file. Open a .keras or .h5 file.", "unsupported")
    suffix = p.suffix.lower()
    if suffix not in MODEL_SUFFIXES:
        raise ModelLoadError(
            f"{p.name} is not a Keras model file (expected .keras or .h5, got '{p.suffix or 'no extension'}').",
            "unsupported",
        )
    if p.stat().st_size == 0:
        raise ModelLoadError(f"{p.name} is empty (0 bytes): the save was probably interrupted.", "empty")
    if suffix == ".keras":
        _precheck_keras(p)
    else:
        _precheck_h5(p)
    return p


def _precheck_keras(p: Path) -> None:
    if not zipfile.is_zipfile(p):
        raise ModelLoadError(
            f"{p.name} is damaged: a .keras file is a zip archive, and this one is not (it may be truncated "
            "by an interrupted download or copy). Save or copy the model again.",
            "corrupt",
        )
    try:
        with zipfile.ZipFile(p) as zf:
            names = set(zf.namelist())
            bad = zf.testzip()
    except (zipfile.BadZipFile, OSError) as err:
        raise ModelLoadError(
            f"{p.name} is damaged and cannot be read as a zip archive ({err}).", "corrupt"
        ) from err
    if bad is not None:
        raise ModelLoadError(f"{p.name} is damaged: its part '{bad}' fails its checksum.", "corrupt")
    if "config.json" not in names:
        raise ModelLoadError(
            f"{p.name} is a zip archive but not a Keras model: it has no config.json.", "corrupt"
        )
    summary = archive.summarize_keras_file(p)
    config = archive.read_keras_json(p, "config.json")
    if not summary.layers and config is None:
        raise ModelLoadError(
            f"{p.name} is damaged: its config.json is not valid JSON.", "corrupt", summary=summary
        )
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ModelLoadError(
            f"{p.name} is damaged or not a Keras model: its config.json does not describe a model (no "
            "class_name). Save the model again with model.save('name.keras').",
            "corrupt",
            summary=summary,
        )
    version = summary.keras_version or ""
    if version.startswith(("1.", "2.")):
        raise ModelLoadError(
            f"{p.name} was saved by Keras {version}. Keras 3 cannot open .keras files written by Keras 2. "
            "Open it in the Keras 2 environment that made it and save it as .h5 (model.save('name.h5')), "
            "which Keras 3 reads, or re-save it from Keras 3.",
            "keras2",
            summary=summary,
        )


def _precheck_h5(p: Path) -> None:
    with open(p, "rb") as fh:
        head = fh.read(8)
        fh.seek(512)
        head512 = fh.read(8)
    if head != archive.HDF5_SIGNATURE and head512 != archive.HDF5_SIGNATURE:
        raise ModelLoadError(
            f"{p.name} is not an HDF5 file (its first bytes are not the HDF5 signature), so it is no Keras .h5 "
            "model. It may be a different kind of file renamed to .h5.",
            "corrupt",
        )
    try:
        config = archive.h5_model_config(p)
    except OSError as err:
        raise ModelLoadError(
            f"{p.name} is a damaged HDF5 file and cannot be read (it may be truncated): {err}.", "corrupt"
        ) from err
    if config is None:
        raise ModelLoadError(
            f"{p.name} holds only weights, no architecture (it was saved with save_weights). Build the model "
            "in code, load these weights into it with model.load_weights(), and save it with model.save().",
            "weights_only",
        )


# -- loading -----------------------------------------------------------------------------------------------
def _config_of(p: Path) -> dict | None:
    if p.suffix.lower() == ".keras":
        return archive.read_keras_json(p, "config.json")
    try:
        return archive.h5_model_config(p)
    except OSError:
        return None


def _summary_of(p: Path) -> archive.ArchiveSummary:
    if p.suffix.lower() == ".keras":
        return archive.summarize_keras_file(p)
    summary = archive.summarize_config(_config_of(p))
    try:
        summary.keras_version = archive.h5_keras_version(p)
    except OSError:
        pass
    return summary


def _explain_failure(p: Path, err: Exception) -> ModelLoadError:
    text = str(err)
    config = _config_of(p)
    summary = _summary_of(p)
    lambdas = archive.find_layers_of_class(config, UNSAFE_TYPES)
    if lambdas or "Lambda" in text or "safe_mode" in text or "unsafe" in text.lower():
        names = ", ".join(lambdas) or "a layer"
        return ModelLoadError(
            f"{p.name} contains Python code: the layer {names} is a Lambda layer whose function is stored "
            "as Python bytecode. Opening the file would run that code on this computer, with your "
            "permissions. Safe mode refused it. Open it only if you trust where the file came from.",
            "unsafe",
            needs_consent=bool(lambdas),
            unsafe_layers=lambdas,
            summary=summary,
        )
    m = re.search(r"[Cc]ould not locate (?:class|function) '([^']+)'", text)
    unknown = archive.unknown_classes(config)
    if m or unknown:
        what = m.group(1) if m else unknown[0][1]
        where = f" (layer {unknown[0][0]})" if unknown else ""
        return ModelLoadError(
            f"{p.name} uses '{what}'{where}, which is not part of Keras and is not known to this app. "
            "A custom layer or function needs the Python code that defines it; cnnviz does not import code "
            "named by a model file. Rebuild the model from built-in Keras layers to open it here.",
            "custom",
            summary=summary,
        )
    first = text.strip().splitlines()[0] if text.strip() else type(err).__name__
    return ModelLoadError(f"{p.name} could not be opened by Keras: {first[:400]}", "error", summary=summary)


def load_keras_model(path: str | os.PathLike, allow_unsafe: bool = False):
    """Load with ``compile=False`` and safe mode on, unless the person agreed to unsafe loading of this file."""
    p = precheck(path)
    import keras

    from cnnviz_gui.core.models import custom_layers as layers  # noqa: F401 - registers the app's own serialisable layers

    try:
        return keras.saving.load_model(p, compile=False, safe_mode=not allow_unsafe)
    except ModelLoadError:
        raise
    except Exception as err:  # Keras raises many types; all become a message for a person
        raise _explain_failure(p, err) from err


def open_model(path: str | os.PathLike, allow_unsafe: bool = False) -> LoadedModel:
    """Open a model file (on the compute thread) and describe it, its input convention guessed.

    Nothing is traced or run here: read-outs are compiled when a view first asks for them.
    """
    p = Path(path)
    model = load_keras_model(p, allow_unsafe=allow_unsafe)
    ensure_built(model)
    config = _config_of(p)
    info = describe(model, str(p), _summary_of(p).keras_version, config)
    from cnnviz_gui.core.models.conventions import guess_convention

    info.input_convention = guess_convention(model, str(p)).to_dict()
    return LoadedModel(model, info)


def ensure_built(model, input_shape: tuple | None = None) -> None:
    """Give a never-called Sequential model its inputs (from the file's config or ``input_shape``)."""
    try:
        model.inputs  # noqa: B018 - raises for a never-called Sequential model
        if model.inputs:
            return
    except (AttributeError, ValueError):
        pass
    shape = input_shape
    if shape is None:
        for layer in model.layers:
            cfg = layer.get_config()
            bs = cfg.get("batch_shape") or cfg.get("batch_input_shape")
            if bs:
                shape = tuple(bs[1:])
                break
    if shape is None:
        raise ModelLoadError(
            f"The Sequential model '{model.name}' was saved before it was ever called, and its file does not "
            "say what input it expects, so its layers cannot be read out.",
            "unsupported",
        )
    import keras

    model.build((None, *shape))
    if not getattr(model, "inputs", None):
        x = keras.Input(shape=shape)
        model(x)


def _shape(tensor_or_shape) -> tuple | None:
    shape = getattr(tensor_or_shape, "shape", tensor_or_shape)
    try:
        return tuple(None if s is None else int(s) for s in shape)
    except TypeError:
        return None


def _is_model(layer) -> bool:
    import keras

    return isinstance(layer, keras.Model)


def _layer_output_shape(layer):
    try:
        shape = _shape(layer.output)
    except (AttributeError, ValueError):
        return None
    return shape[1:] if shape else shape


def _describe_layers(model, rf: dict, path: tuple[str, ...]) -> list[LayerInfo]:
    from cnnviz_gui.core.models.graph import graph_facts

    facts = graph_facts(model)
    out = []
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        qual = "/".join((*path, layer.name))
        info = LayerInfo(
            name=layer.name,
            type=type(layer).__name__,
            output_shape=_layer_output_shape(layer),
            params=int(layer.count_params()) if layer.built else 0,
            receptive_field=rf.get(qual),
            path=(*path, layer.name),
            inbound=facts.inbound.get(layer.name, []),
            outbound=facts.outbound.get(layer.name, []),
            block=facts.block.get(layer.name),
        )
        if _is_model(layer):
            info.children = _describe_layers(layer, rf, (*path, layer.name))
        out.append(info)
    return out


def describe(model, path: str, keras_version: str | None, config: dict | None = None) -> ModelInfo:
    """Build :class:`ModelInfo` from a built Keras model."""
    import keras

    inputs = list(model.inputs)
    in_shape = _shape(inputs[0]) if inputs else None
    outputs = list(model.outputs) if getattr(model, "outputs", None) else []
    out_shape = _shape(outputs[0]) if outputs else None
    config = config or {"class_name": type(model).__name__, "config": model.get_config()}
    rf = receptive_fields(config)
    image_input, note = True, ""
    if len(inputs) != 1:
        image_input = False
        note = (
            f"the model has {len(inputs)} inputs; activation maps, drawing and OIPs need a single image "
            "input and are off"
        )
    elif (
        in_shape is not None
        and len(in_shape) == 4
        and in_shape[1] in (1, 3)
        and in_shape[-1] not in (1, 3, 4)
    ):
        image_input = False
        note = (
            f"the input {_shape_text(in_shape)} looks channels-first; cnnviz needs channels-last images "
            "(height, width, channels), so image-only features are off"
        )
    elif in_shape is None or len(in_shape) != 4 or in_shape[-1] not in (1, 3, 4):
        image_input = False
        note = (
            f"the input {_shape_text(in_shape)} is not an image (height, width, 1 or 3 channels); "
            "image-only features are off"
        )
    return ModelInfo(
        name=model.name,
        path=path,
        input_shape=in_shape[1:] if in_shape else None,
        output_shape=out_shape[1:] if out_shape else None,
        n_params=int(model.count_params()),
        keras_version=keras_version or keras.__version__,
        layers=_describe_layers(model, rf, ()),
        n_inputs=len(inputs),
        image_input=image_input,
        input_note=note,
    )
