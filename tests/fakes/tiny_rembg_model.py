"""A tiny ONNX model with the signature of rembg's U²-Net sessions, built at test time.

Input ``input.1``: float32 1x3x320x320 (what ``BaseSession.normalize`` feeds); outputs like
U²-Net's side outputs, the first of which rembg reads as the mask (``ort_outs[0][:, 0]``).
The mask is a steep sigmoid of the mean of the three normalised channels, so it follows
brightness (threshold near mid-grey): a bright object on a dark background keeps its pixels
and the background turns transparent.
"""

from __future__ import annotations

from pathlib import Path

import onnx
from onnx import TensorProto, helper

SIDE = 320
OPSET = 13
# Normalised brightness spans about -2..2.4; this gain makes the mask nearly binary.
GAIN = 8.0


def build_tiny_rembg_model() -> onnx.ModelProto:
    """The model in memory: sigmoid(GAIN * mean over channels), and a copy as a second
    output (U²-Net has several; rembg reads the first)."""
    image = helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, SIDE, SIDE])
    mask = helper.make_tensor_value_info("d0", TensorProto.FLOAT, [1, 1, SIDE, SIDE])
    side = helper.make_tensor_value_info("d1", TensorProto.FLOAT, [1, 1, SIDE, SIDE])
    gain = helper.make_tensor("gain", TensorProto.FLOAT, [], [GAIN])
    nodes = [
        helper.make_node("ReduceMean", ["input.1"], ["brightness"], axes=[1], keepdims=1),
        helper.make_node("Mul", ["brightness", "gain"], ["scaled"]),
        helper.make_node("Sigmoid", ["scaled"], ["d0"]),
        helper.make_node("Identity", ["d0"], ["d1"]),
    ]
    graph = helper.make_graph(
        nodes, "tiny_brightness_u2net", [image], [mask, side], initializer=[gain]
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="drafter-tests",
    )
    model.ir_version = 8  # readable by every onnxruntime rembg supports
    onnx.checker.check_model(model)
    return model


def write_tiny_rembg_model(path: Path) -> Path:
    """Writes the model to ``path`` (parents created) and answers ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(build_tiny_rembg_model(), str(path))
    return path
