"""A bittensor 10.2.0 dendrite calling an axon (ours, in the tests).

Usage: bt_dendrite.py MODE ADDR AXON_HOTKEY [DENDRITE_URI]
  query: bittensor's own Dendrite queries Dummy and TextCausalLMNext; prints a JSON summary.
  raw:   requests signed by bittensor's Dendrite, sent with raw HTTP, valid and then forged,
         replayed, unsigned, tampered or stale; prints {case: status_code}.
  bench N: N sequential Dummy queries through bittensor's Dendrite; prints requests/s.
"""

import asyncio
import json
import sys
import time

import bittensor as bt
import numpy as np
import requests
from bittensor_wallet import Keypair

from bt_synapses import TOKENS, Dummy, TextCausalLMNext, answer, tensor, untensor


def axon_info(addr: str, hotkey: str) -> bt.AxonInfo:
    ip, port = addr.rsplit(":", 1)
    return bt.AxonInfo(
        version=10002000, ip=ip, port=int(port), ip_type=4, hotkey=hotkey, coldkey=hotkey
    )


def summary(s: bt.Synapse) -> dict:
    return {
        "status_code": s.axon.status_code,
        "status_message": s.axon.status_message,
        "axon_hotkey": s.axon.hotkey,
        "dendrite_status_code": s.dendrite.status_code,
    }


async def query(d: bt.Dendrite, target: bt.AxonInfo) -> dict:
    out = {}
    r = await d.call(target, Dummy(dummy_input=21), timeout=5.0, deserialize=False)
    out["dummy"] = {**summary(r), "dummy_output": r.dummy_output}
    req = TextCausalLMNext(text_inputs=tensor(TOKENS), topk=4)
    r = await d.call(target, req, timeout=5.0, deserialize=False)
    text = summary(r)
    if r.text_outputs is not None:
        got = untensor(r.text_outputs)
        text["outputs_match"] = bool(np.array_equal(got, answer(TOKENS, 4)))
        text["text_inputs_unchanged"] = r.text_inputs == req.text_inputs
    out["text"] = text
    await d.aclose_session()
    return out


def raw(d: bt.Dendrite, kp: Keypair, target: bt.AxonInfo) -> dict:
    url = f"http://{target.ip}:{target.port}/Dummy"

    def signed(dummy_input=21, nonce_shift_ns=0, keypair=None, axon_hotkey=None):
        t = axon_info(f"{target.ip}:{target.port}", axon_hotkey or target.hotkey)
        s = d.preprocess_synapse_for_request(t, Dummy(dummy_input=dummy_input), timeout=5.0)
        if nonce_shift_ns or keypair:
            s.dendrite.nonce += nonce_shift_ns
            msg = f"{s.dendrite.nonce}.{s.dendrite.hotkey}.{s.axon.hotkey}.{s.dendrite.uuid}.{s.body_hash}"
            s.dendrite.signature = f"0x{(keypair or kp).sign(msg).hex()}"
        return s.to_headers(), s.model_dump()

    def post(headers, body):
        return requests.post(url, headers=headers, json=body, timeout=5).status_code

    res = {}
    h, b = signed()
    res["valid"] = post(h, b)
    res["replayed"] = post(h, b)
    h, b = signed()
    res["unsigned"] = post({k: v for k, v in h.items() if k != "bt_header_dendrite_signature"}, b)
    h, b = signed()
    res["empty_signature"] = post({**h, "bt_header_dendrite_signature": ""}, b)
    h, b = signed(keypair=Keypair.create_from_uri("//Eve"))
    res["forged_signature"] = post(h, b)
    h, b = signed()
    res["tampered_hotkey"] = post(
        {**h, "bt_header_dendrite_hotkey": Keypair.create_from_uri("//Eve").ss58_address}, b
    )
    h, b = signed()
    res["tampered_body"] = post(h, {**b, "dummy_input": 22})
    h, b = signed(axon_hotkey=Keypair.create_from_uri("//Charlie").ss58_address)
    res["wrong_axon"] = post(h, b)
    h, b = signed(nonce_shift_ns=-20 * 10**9)
    res["stale_nonce"] = post(h, b)
    h, b = signed()
    res["valid_again"] = post(h, b)
    return res


async def bench(d: bt.Dendrite, target: bt.AxonInfo, n: int) -> dict:
    start = time.perf_counter()
    ok = 0
    for i in range(n):
        r = await d.call(target, Dummy(dummy_input=i), timeout=5.0, deserialize=False)
        ok += r.axon.status_code == 200
    secs = time.perf_counter() - start
    await d.aclose_session()
    return {"calls": n, "succeeded": ok, "seconds": secs, "rps": ok / secs}


def main():
    mode, addr, hotkey = sys.argv[1:4]
    uri = sys.argv[4] if len(sys.argv) > 4 and mode != "bench" else "//Alice"
    kp = Keypair.create_from_uri(uri)
    d = bt.Dendrite(wallet=kp)
    target = axon_info(addr, hotkey)
    if mode == "query":
        out = asyncio.run(query(d, target))
    elif mode == "raw":
        out = raw(d, kp, target)
    elif mode == "bench":
        out = asyncio.run(bench(d, target, int(sys.argv[4])))
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
