"""The design document's other models, served by name through rembg's own sessions.

Their files cannot be downloaded here, so each runs as a stand-in graph of the real file's signature
(tests/support/standins.py): a real ONNX graph behind rembg's session for that name, in the
function's server. A bright square on a dark ground must come back as a cut-out of the square.
The BiRefNets have no record here (never measured against the 2 GB pod): they serve on the
operator's opt-in (REMBG_UNRECORDED_MODEL=on), once they have shown one mask per image at start.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from function.model.records import record
from tests.support import standins
from tests.support.standins import STAND_INS, StandIn


@pytest.mark.parametrize("stand_in", STAND_INS, ids=lambda one: one.name)
def test_served_by_name_through_rembg_s_session(stand_in: StandIn, start_server, tmp_path: Path) -> None:
    home = tmp_path / "models-home"
    standins.write(stand_in, home)
    recorded = record(stand_in.name).recorded
    opt_in = {} if recorded else {"REMBG_UNRECORDED_MODEL": "on"}
    server = start_server(REMBG_MODEL=stand_in.name, U2NET_HOME=str(home), **opt_in).wait_ready()
    picture = Image.new("RGB", (640, 480), (20, 20, 20))
    picture.paste((250, 250, 250), (200, 120, 440, 360))
    body = io.BytesIO()
    picture.save(body, "PNG")
    response = server.post(body.getvalue())
    assert response.status_code == 200, response.text[:300]
    assert response.headers["X-Model"] == stand_in.name
    alpha = np.asarray(Image.open(io.BytesIO(response.content)).getchannel("A"))
    assert alpha.shape == (480, 640)
    assert alpha[140:340, 220:420].min() >= 250, "the square is the subject"
    assert alpha[:100].max() <= 20 and alpha[400:].max() <= 20, "the ground is gone (but for LANCZOS ringing)"
    arena = "on" if stand_in.side == 320 else "off"
    assert f"model {stand_in.name} loaded with" in server.log()
    assert f"memory arena {arena}" in server.log()
    assert (f"model {stand_in.name} gives one mask per image" in server.log()) == (not recorded)
    assert (response.headers["X-Foreground-Left"], response.headers["X-Foreground-Width"]) != ("0", "0")
