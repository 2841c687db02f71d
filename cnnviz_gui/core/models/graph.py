"""Graph facts of a built Keras model: which layers feed which, and its residual / branching blocks.

Blocks are found from the graph's structure, not from layer names, so a person's own residual network is
grouped as well as a ``keras.applications`` one. Walking the layers in topological order, a layer is a *cut*
when every path from the input to the output passes through it (no connection jumps over it). The layers
after one cut up to and including the next one form a segment; a segment of two or more layers is a block
whose paths split and merge again (a residual block ending in ``Add``, an Inception module ending in
``Concatenate``). A block is named by the common prefix of its layers' names (``conv4_block6``), else by its
merge layer (``mixed5``); single layers right after a block that carry its prefix (``conv4_block6_out``, the
activation after the ``Add``) join it. Why structure first and not names: names are arbitrary in a person's
own model, and Inception's auto-named convolutions carry no block prefix. Names are used only to name a block,
to attach its trailing activation, and for one more grouping: a run of two or more chained layers named
``<...>block<N>[letter]_...`` alike (VGG's ``block1_conv1``, ``block1_conv2``, ``block1_pool``; MobileNetV2's
``block_3_*`` blocks without a skip connection) forms a block as well, so those collapse too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: a block name needs at least this many characters of common prefix, else the merge layer names it
MIN_PREFIX = 3
#: a keras.applications-style block prefix of a layer name: 'block1_', 'block_3_', 'block2a_', 'conv2_block1_'
BLOCK_NAME = re.compile(r"^((?:\w*?_)?block_?\d+[a-z]?)_")


def node_of(model, layer):
    """The node that connects ``layer`` inside ``model``'s graph (None when it cannot be told)."""
    import keras

    nodes = list(getattr(layer, "_inbound_nodes", None) or [])
    if len(nodes) == 1:
        return nodes[0]
    for node in nodes:  # a layer shared between graphs: keep the node reachable from this model's inputs
        try:
            keras.Model(model.inputs, list(node.output_tensors))
            return node
        except Exception:
            continue
    return None


def _producer(tensor) -> str | None:
    history = getattr(tensor, "_keras_history", None)
    operation = getattr(history, "operation", None) if history is not None else None
    return getattr(operation, "name", None)


@dataclass
class GraphFacts:
    """Per layer name of one (sub-)model: inbound and outbound layer names, and its block (or None)."""

    inbound: dict[str, list[str]]
    outbound: dict[str, list[str]]
    block: dict[str, str | None]


def graph_facts(model) -> GraphFacts:
    """Inbound/outbound layer names and block names of the layers of ``model`` (its own graph only)."""
    layers = list(getattr(model, "layers", []) or [])
    names = [layer.name for layer in layers]
    inbound: dict[str, list[str]] = {}
    for layer in layers:
        node = node_of(model, layer)
        feeds = []
        if node is not None and type(layer).__name__ != "InputLayer":
            for t in node.input_tensors:
                name = _producer(t)
                if name is not None and name not in feeds:
                    feeds.append(name)
        inbound[layer.name] = feeds
    if names and type(layers[0]).__name__ != "InputLayer":
        # a Sequential model lists no InputLayer: its first layer is fed by the model's input
        inbound[names[0]] = [n for n in inbound[names[0]] if n in names]
    outbound: dict[str, list[str]] = {n: [] for n in names}
    for name, feeds in inbound.items():
        for f in feeds:
            if f in outbound and name not in outbound[f]:
                outbound[f].append(name)
    return GraphFacts(inbound, outbound, _blocks(names, inbound, outbound))


def _common_prefix(words: list[str]) -> str:
    first, last = min(words), max(words)
    k = 0
    while k < min(len(first), len(last)) and first[k] == last[k]:
        k += 1
    prefix = first[:k]
    # cut back to a name boundary: 'conv4_block6_' -> 'conv4_block6', 'block_1' stays when all continue '_'
    if "_" in prefix and not all(w[k : k + 1] in ("_", "") for w in words):
        prefix = prefix[: prefix.rfind("_") + 1]
    return prefix.rstrip("_/")


def _blocks(names: list[str], inbound: dict, outbound: dict) -> dict[str, str | None]:
    index = {n: i for i, n in enumerate(names)}
    far = [max((index[o] for o in outbound[n] if o in index), default=i) for i, n in enumerate(names)]
    cuts, reach = [], -1
    for i in range(len(names)):
        if reach <= i:  # no connection from an earlier layer jumps over layer i
            cuts.append(i)
        reach = max(reach, far[i])
    block: dict[str, str | None] = {n: None for n in names}
    for a, b in zip(cuts, cuts[1:], strict=False):
        members = names[a + 1 : b + 1]
        if len(members) < 2:
            continue
        prefix = _common_prefix(members)
        label = prefix if len(prefix) >= MIN_PREFIX else names[b]
        for n in members:
            block[n] = label
        k = b + 1  # the activation after the merge, named like the block, joins it
        while len(prefix) >= MIN_PREFIX and k < len(names) and k in cuts and names[k].startswith(prefix):
            if k + 1 < len(names) and names[k + 1].startswith(prefix) and (k + 1) not in cuts:
                break  # the next block starts here under the same prefix
            block[names[k]] = label
            k += 1
    run: list[str] = []  # chained layers named alike: a block by name
    for i, n in enumerate([*names, ""]):
        m = BLOCK_NAME.match(n) if n and block.get(n) is None and i in cuts else None
        if run and (m is None or m.group(1) != BLOCK_NAME.match(run[0]).group(1)):
            if len(run) >= 2:
                for r in run:
                    block[r] = BLOCK_NAME.match(run[0]).group(1)
            run = []
        if m is not None:
            run.append(n)
    return block
