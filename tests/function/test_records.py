"""One record per model: each holds together with rembg's sessions, and what is derived from them is right."""

from __future__ import annotations

from pathlib import Path

import pytest

from function.model.locate import ModelChoice, unrecorded_models, usable_models
from function.model.records import FILE_MODELS, OPERATOR, QUANTIZED, QUANTIZED_MODELS, RECORDS, Record, record
from function.model.sessions import LEFT_OUT, registry
from function.prepare.recipes import INT8, WHEELS


@pytest.mark.parametrize("each", RECORDS, ids=lambda each: each.name)
def test_each_record_holds_together(each: Record) -> None:
    sessions = registry()
    if not each.supported:
        assert each.name not in usable_models()
        return
    assert each.name in usable_models()
    assert each.session in sessions, f"{each.name}: rembg has no session {each.session}"
    if each.family is not None:  # its family's session loads a given file: the optimised copy, an int8 file
        assert record(each.family).source == OPERATOR, each.family
    if each.source == QUANTIZED:
        original = record(INT8[each.name].original)
        assert original.family == each.family, "quantized within its family"
        assert each.session == each.family, "an int8 file is served by its family's custom session"
    if each.name in WHEELS:
        assert each.md5 is not None, "a wheel's file is held to the record's md5"
    loads_a_given_file = {"u2net_custom", "dis_custom", "u2net-int8", "isnet-general-use-int8"}
    assert ModelChoice(each.name).custom == (each.name in loads_a_given_file)
    if each.family is not None:  # a file given for it: the operator's model's, or a stand-in for its own
        given = ModelChoice(each.name, Path("/models/given.onnx"))
        assert given.custom and given.session == each.family
        assert given.stands_in == (each.source != OPERATOR)


def test_a_rembg_session_without_a_record_is_served_as_rembg_serves_it_on_the_operator_s_opt_in() -> None:
    sessions = registry()
    unrecorded = sorted(set(sessions) - {each.name for each in RECORDS})
    assert unrecorded, "rembg has sessions this function knows nothing special about"
    for name in unrecorded:
        assert record(name) == Record(name, name, recorded=False)
        assert name not in usable_models()
        if sessions[name].is_local() and not sessions[name].requires_credentials():
            assert name in unrecorded_models()
    assert {"birefnet-massive", "bria-rmbg", "u2net_cloth_seg"} <= set(unrecorded_models())


def test_what_is_derived_from_the_records() -> None:
    assert set(FILE_MODELS) == {
        "u2net",
        "u2netp",
        "u2net_custom",
        "isnet-general-use",
        "dis_custom",
        "u2net-int8",
        "isnet-general-use-int8",
    }
    assert set(QUANTIZED_MODELS) == {"u2net-int8", "isnet-general-use-int8"}
    assert {each.name for each in RECORDS if each.arena} == {
        "u2net",
        "u2netp",
        "u2net_human_seg",
        "silueta",
        "u2net_custom",
        "u2net-int8",
        "isnet-general-use-int8",
    }
    assert {each.name for each in RECORDS if not each.supported} >= LEFT_OUT
    assert len({each.name for each in RECORDS}) == len(RECORDS), "one record per model"
