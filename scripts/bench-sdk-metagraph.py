#!/usr/bin/env python3
"""The bittensor SDK's `metagraph(netuid)` against our node, and where its time goes; our own
`subtensor_getMetagraph` in the same run for comparison.

Run with .venv-bt's Python (bittensor 10.2.0, async-substrate-interface 1.x) against a node
serving a full subnet (`scripts/bench-node.sh sdk` starts one with 4096 UIDs). For each of
`metagraph(netuid, lite=True)` and `lite=False` it times whole syncs and splits each into
  rpc     time inside async-substrate-interface's request/response round trips (the node's work,
          the websocket transfer and JSON parsing of the hex answer),
  decode  time in its SCALE decoder (`decode_scale`, i.e. bt_decode turning bytes into dicts),
  python  the rest: the SDK building NeuronInfo objects, numpy arrays and the metagraph,
by wrapping the two interface methods (a wrapper costs well under a microsecond per call).
Medians over --runs syncs after one warm-up sync.

Usage: bench-sdk-metagraph.py WS_URL [--netuid 1] [--runs 5]
"""

import argparse
import http.client
import json
import statistics
import time
import urllib.parse

import bittensor as bt


class Split:
    """Accumulates the time spent in wrapped methods (outermost calls only)."""

    def __init__(self):
        self.seconds = {"rpc": 0.0, "decode": 0.0}
        self.depth = 0

    def wrap(self, obj, name, key):
        inner = getattr(obj, name)

        def timed(*args, **kwargs):
            if self.depth:
                return inner(*args, **kwargs)
            self.depth += 1
            started = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.seconds[key] += time.perf_counter() - started
                self.depth -= 1

        setattr(obj, name, timed)

    def reset(self):
        self.seconds = {k: 0.0 for k in self.seconds}


def our_rpc(http_url: str, netuid: int, include_weights: bool, runs: int) -> tuple[float, int]:
    url = urllib.parse.urlparse(http_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=300)
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "subtensor_getMetagraph",
                       "params": [netuid, include_weights]})
    times, size = [], 0
    for i in range(runs + 1):
        started = time.perf_counter()
        conn.request("POST", "/", body=body, headers={"Content-Type": "application/json"})
        data = conn.getresponse().read()
        result = json.loads(data)["result"]
        elapsed = time.perf_counter() - started
        size = result["n"]
        if i:
            times.append(elapsed)
    conn.close()
    return statistics.median(times), size


def main(args):
    st = bt.Subtensor(args.url)
    split = Split()
    split.wrap(st.substrate, "_make_rpc_request", "rpc")
    split.wrap(st.substrate, "decode_scale", "decode")
    http_url = args.url.replace("ws://", "http://").replace("wss://", "https://")
    print(f"bittensor {bt.__version__} against {args.url}, subnet {args.netuid}; medians of "
          f"{args.runs} syncs after a warm-up")
    print(f"{'call':<34} {'n':>5} {'total ms':>9} {'rpc ms':>8} {'decode ms':>10} "
          f"{'python ms':>10}")
    results = {}
    for lite in (True, False):
        rows = []
        for i in range(args.runs + 1):
            split.reset()
            started = time.perf_counter()
            mg = st.metagraph(args.netuid, lite=lite)
            total = time.perf_counter() - started
            if i:
                rows.append((total, split.seconds["rpc"], split.seconds["decode"]))
        total, rpc, decode = (statistics.median(r[k] for r in rows) for k in range(3))
        name = f"metagraph(netuid, lite={lite})"
        results[lite] = total
        print(f"{name:<34} {int(mg.n):>5} {total * 1e3:>9.0f} {rpc * 1e3:>8.0f} "
              f"{decode * 1e3:>10.0f} {(total - rpc - decode) * 1e3:>10.0f}")
    st.close()
    for include_weights, lite in ((False, True), (True, False)):
        seconds, n = our_rpc(http_url, args.netuid, include_weights, args.runs)
        name = f"subtensor_getMetagraph(w={include_weights})"
        print(f"{name:<34} {n:>5} {seconds * 1e3:>9.1f}"
              f"   SDK lite={lite} / ours: {results[lite] / seconds:.0f}x")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("url")
    p.add_argument("--netuid", type=int, default=1)
    p.add_argument("--runs", type=int, default=5)
    main(p.parse_args())
