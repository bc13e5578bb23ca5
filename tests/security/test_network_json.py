"""Attack the RF network file reader (``network.json``, read by ``neurospice rfnet eval`` and
``export``): every malformed document is a NetlistError naming the file and the JSON path,
never another exception, never a network built from a value that is not in the file."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurospice.circuits.rfnet import network as network_module
from neurospice.circuits.rfnet.network import RFNetwork
from neurospice.errors import NetlistError


def small() -> RFNetwork:
    return RFNetwork.build([2, 2, 2], [4.0e9, 6.0e9], seed=1)


def doc() -> dict:
    return json.loads(small().to_json())


def refused(tmp_path, text: str | bytes, *words: str) -> str:
    path = tmp_path / "network.json"
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    with pytest.raises(NetlistError) as info:
        RFNetwork.load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    for word in words:
        assert word in message, message
    return message


def test_round_trip_is_exact(tmp_path):
    net = small()
    back = RFNetwork.load(net.save(tmp_path / "network.json"))
    assert back.to_dict() == net.to_dict()
    np.testing.assert_array_equal(back.forward(np.full((1, 2), 1e-6)),
                                  net.forward(np.full((1, 2), 1e-6)))


@pytest.mark.parametrize("edit, words", [
    (lambda d: d["layers"][1]["shift_lw"][1].__setitem__(0, "1.0"),
     ["layers[1].shift_lw[1][0]: expected a number, got a string"]),
    (lambda d: d["layers"][0]["bias_v"].__setitem__(1, True),
     ["layers[0].bias_v[1]: expected a number, got a boolean"]),
    (lambda d: d["layers"][0]["shift_lw"].pop(), ["layers[0].shift_lw: expected a list of 2"]),
    (lambda d: d["layers"][0]["shift_lw"][0].append(0.0),
     ["layers[0].shift_lw[0]: 3 entries where 2"]),
    (lambda d: d["layers"][0]["res_freq0_hz"].append(5e9), ["layers[0].res_freq0_hz: 3 entries"]),
    (lambda d: d["layers"][0].__setitem__("osc_freq_hz", None),
     ["layers[0].osc_freq_hz: a hidden layer needs"]),
    (lambda d: d["layers"][0].__setitem__("band", 1.5), ["layers[0].band: must be null"]),
    (lambda d: d["layers"][0].__setitem__("weights", []), ["layers[0]: unknown key 'weights'"]),
    (lambda d: d.__setitem__("format", "other/2"), ["format: expected 'neurospice.rfnet/1'"]),
    (lambda d: d.__setitem__("seed", -1), ["seed: must be an integer"]),
    (lambda d: d.__setitem__("spread", 0.5), ["spread must be in [0, 0.2)"]),
    (lambda d: d["constants"].__setitem__("g_m", "3e-3"), ["constants.g_m: expected a number"]),
    (lambda d: d["constants"].__setitem__("evil", 1.0), ["constants: unknown key 'evil'"]),
    (lambda d: d.__setitem__("layers", []), ["layers: must be a list of 1 .. 64"]),
    (lambda d: d.__setitem__("layers", {"0": 1}), ["layers: must be a list"]),
    (lambda d: d["layers"][1]["input_freq_hz"].__setitem__(0, 1.0),
     ["its tones must be the oscillator frequencies"]),
])
def test_schema_errors_name_the_file_and_the_json_path(tmp_path, edit, words):
    d = doc()
    edit(d)
    refused(tmp_path, json.dumps(d), *words)


@pytest.mark.parametrize("name", ["net\n.control", "net\u2028shell touch x", "a\x85b", "a\tb",
                                  "x\x00", "", "a" * 300, 7, None])
def test_the_name_passes_the_netlist_text_gate(tmp_path, name):
    d = doc()
    d["name"] = name
    refused(tmp_path, json.dumps(d), ": name: ")


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999", "-1e400",
                                     "1" + "0" * 400, "1" * 5000])
def test_non_finite_and_huge_numbers(tmp_path, literal):
    d = doc()
    d["layers"][0]["bias_v"] = ["X"] + d["layers"][0]["bias_v"][1:]
    text = json.dumps(d).replace('"X"', literal)
    message = refused(tmp_path, text)
    assert "layers[0].bias_v[0]: not a finite number" in message or "refused" in message


def test_deep_nesting_duplicates_encoding_and_files(tmp_path, monkeypatch):
    refused(tmp_path, "[" * 200_000 + "]" * 200_000, "nested too deeply")
    refused(tmp_path, '{"format": "neurospice.rfnet/1", "format": "x", "layers": []}',
            "appears twice")
    (tmp_path / "latin.json").write_bytes(b'{"name": "\xff"}')
    with pytest.raises(NetlistError,
                       match=r"line 1: RF network file .*latin\.json is not UTF-8 text \(byte 10"):
        RFNetwork.load(tmp_path / "latin.json")
    refused(tmp_path, "{", "not JSON")
    refused(tmp_path, "[1, 2]", "expected an object, got a list")
    with pytest.raises(NetlistError, match="not a regular file"):
        RFNetwork.load(tmp_path)
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo")
        with pytest.raises(NetlistError, match="not a regular file"):
            RFNetwork.load(tmp_path / "fifo")
    with pytest.raises(NetlistError, match="cannot read RF network file .*absent"):
        RFNetwork.load(tmp_path / "absent.json")
    monkeypatch.setitem(network_module.LIMITS, "file_bytes", 100)
    (tmp_path / "big.json").write_text(json.dumps(doc()))
    with pytest.raises(NetlistError, match="big.json has [0-9]+ bytes, more than 100"):
        RFNetwork.load(tmp_path / "big.json")


def test_size_caps(tmp_path, monkeypatch):
    monkeypatch.setitem(network_module.LIMITS, "tones", 1)
    refused(tmp_path, json.dumps(doc()), "layers[0].input_freq_hz: 2 entries; 1 .. 1 allowed")


# --- property: arbitrary JSON, and valid documents with one value replaced ------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=4),
    max_leaves=20)


def leaves(value, path=()):
    """The paths of every value in a JSON document (containers and leaves)."""
    yield path
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaves(v, (*path, k))
    elif isinstance(value, list):
        for k, v in enumerate(value):
            yield from leaves(v, (*path, k))


def attempt(text: str):
    try:
        net = RFNetwork.from_json(text, source="network.json")
    except NetlistError as exc:
        assert str(exc).startswith("network.json: "), exc
        return None
    for lay in net.layers:   # what was built holds only finite numbers of the right shapes
        assert np.all(np.isfinite(lay.shift_lw)) and lay.shift_lw.shape == (lay.n_chains,
                                                                            lay.n_in)
    assert all(math.isfinite(v) for v in net.constants.values())
    return net


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=JSON)
def test_arbitrary_json_is_a_network_or_a_netlist_error(document):
    attempt(json.dumps(document))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_one_value_replaced_is_the_same_network_or_a_netlist_error(data):
    d = doc()
    paths = list(leaves(d))[1:]
    path = data.draw(st.sampled_from(paths))
    new = data.draw(JSON | st.sampled_from(["NaN", "Infinity", "1e999"]))
    target = d
    for key in path[:-1]:
        target = target[key]
    old = target[path[-1]]
    target[path[-1]] = new
    text = json.dumps(d)
    for literal in ("NaN", "Infinity", "1e999"):
        text = text.replace(f'"{literal}"', literal)
    net = attempt(text)
    if net is not None and new == old and type(new) is type(old):
        assert net.to_dict() == doc()
