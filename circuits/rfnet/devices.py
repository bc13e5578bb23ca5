"""The learned values of an RF network mapped to device parameters.

Every resonator becomes a ``spin_diode`` parameter set (its resonance ``f_res`` is the trained
weight: the as-fabricated frequency plus the learned shift; polarity is how it is wired), every
oscillator an ``stno`` set (``f0`` its frequency, n_shift = 0 so the frequency does not move
with the power, i_th, q, r0 = dr = r_osc), every chain its bias voltage, every hidden chain
its read-out amplifier's voltage gain. The result is JSON-serialisable.
"""

from __future__ import annotations

from neurospice.compact_models import spin_diode as SD
from neurospice.compact_models import stno as ST
from neurospice.circuits.rfnet.network import RFNetwork


def device_parameters(net: RFNetwork) -> dict:
    """{"layers": [{"chains": [{"bias_v", "resonators": [{"f_res", "polarity", ...}]}],
    "oscillators": [{...stno parameters..., "amp_power_gain"}]}]}, all SI and validated
    against the device parameter tables."""
    k = net.constants
    out = []
    for li, lay in enumerate(net.layers):
        fr = net.res_freq(li)
        chains = []
        for j in range(lay.n_chains):
            res = []
            for kk in range(lay.n_in):
                p = SD.DEVICE.params({"f_res": float(fr[j, kk]), "alpha": k["alpha"],
                                      "k_sd": k["k_sd"], "r0": k["r_res"]})
                res.append({**p, "polarity": int(lay.polarity[kk])})
            chains.append({"bias_v": float(lay.bias_v[j]), "resonators": res})
        layer = {"chains": chains, "tones_hz": net.tones(li).tolist()}
        if li < len(net.layers) - 1:
            layer["vi_stage"] = {"g_m": k["g_m"], "v_b": k["v_b"], "i_clamp": k["i_clamp"],
                                 "voltage_gain": lay.v_gain.tolist()}
            layer["oscillators"] = [
                {**ST.DEVICE.params({"f0": float(f), "n_shift": 0.0, "i_th": k["i_th"],
                                     "q": k["q"], "r0": k["r_osc"], "dr": k["r_osc"]}),
                 "amp_power_gain": float(g)}
                for f, g in zip(net.osc_freq(li), net.osc_gain(li))]
        out.append(layer)
    return {"network": net.name, "devices": net.device_count, "layers": out}
