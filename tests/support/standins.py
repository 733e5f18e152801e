"""Stand-in ONNX graphs for the models of the design document's table that this machine cannot download.

rembg fetches u2net_human_seg and the BiRefNet files from GitHub, which is not reachable here. Each
stand-in is a real graph, run by ONNX Runtime through rembg's own session for that name, with the
real file's input and output signature: a 1×1 convolution that averages the normalised colours,
so a bright subject on a dark ground comes out as the mask. What it proves is the path (the name,
rembg's session, its input size, normalisation and post-processing, the function's pipeline and
memory settings), not the model's quality.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


@dataclass(frozen=True)
class StandIn:
    name: str  # rembg's model name, and its file's stem under <U2NET_HOME>/models/<name>/
    side: int  # the square input rembg resizes to
    outputs: int  # u2net's side outputs, or BiRefNet's one
    sigmoid: bool  # u2net's graph ends in a sigmoid; BiRefNet's gives logits (rembg applies the sigmoid)
    input_name: str


STAND_INS = (
    StandIn("u2net_human_seg", 320, 7, sigmoid=True, input_name="input.1"),
    StandIn("birefnet-general", 1024, 1, sigmoid=False, input_name="input_image"),
    StandIn("birefnet-general-lite", 1024, 1, sigmoid=False, input_name="input_image"),
)


def graph(stand_in: StandIn) -> onnx.ModelProto:
    side = stand_in.side
    weights = numpy_helper.from_array(np.full((1, 3, 1, 1), 1 / 3, dtype=np.float32), "mean_of_colours")
    nodes = [helper.make_node("Conv", [stand_in.input_name, "mean_of_colours"], ["mean"])]
    last = "mean"
    if stand_in.sigmoid:
        nodes.append(helper.make_node("Sigmoid", ["mean"], ["probability"]))
        last = "probability"
    names = [f"d{index}" for index in range(stand_in.outputs)]
    nodes += [helper.make_node("Identity", [last], [name]) for name in names]
    built = helper.make_graph(
        nodes,
        f"{stand_in.name}-stand-in",
        [helper.make_tensor_value_info(stand_in.input_name, TensorProto.FLOAT, [1, 3, side, side])],
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, 1, side, side]) for name in names],
        initializer=[weights],
    )
    model = helper.make_model(built, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="remove-bg tests")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


def write(stand_in: StandIn, home: Path) -> Path:
    """The stand-in where rembg's lookup finds the real file: <home>/models/<name>/<name>.onnx."""
    path = home / "models" / stand_in.name / f"{stand_in.name}.onnx"
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(graph(stand_in), path)
    return path
