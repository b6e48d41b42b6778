#!/usr/bin/env python3
"""`subtensor_getMetagraph` latency on a running node: the time from sending the HTTP request to
having the whole JSON answer, over one kept-alive connection; median of several calls after a
warm-up call (target: under 50 ms for a 4096-uid subnet).

Usage: bench-node-metagraph.py HTTP_URL [--netuid 1] [--calls 15]
"""

import argparse
import http.client
import json
import statistics
import time
import urllib.parse


def timed_call(conn, method, params):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
    t = time.perf_counter()
    conn.request("POST", "/", body=body, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    data = resp.read()
    elapsed = time.perf_counter() - t
    assert resp.status == 200, (resp.status, data[:200])
    return elapsed, data


def main(args):
    url = urllib.parse.urlparse(args.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
    for include_weights in (False, True):
        params = [args.netuid, include_weights]
        _, data = timed_call(conn, "subtensor_getMetagraph", params)  # warm-up
        reply = json.loads(data)
        assert "result" in reply and reply["result"], str(reply)[:300]
        meta = reply["result"]
        weights = sum(len(r) for r in meta.get("weights", []))
        times = sorted(timed_call(conn, "subtensor_getMetagraph", params)[0] * 1e3
                       for _ in range(args.calls))
        median = statistics.median(times)
        verdict = "met" if median < 50 else "NOT met"
        print(f"subtensor_getMetagraph(netuid {args.netuid}, include_weights={include_weights}): "
              f"n = {meta['n']}, {len(data) / 1e6:.2f} MB of JSON"
              + (f", {weights} weights" if include_weights else ""))
        print(f"  median {median:.1f} ms, min {times[0]:.1f} ms, max {times[-1]:.1f} ms "
              f"over {args.calls} calls" + ("   target < 50 ms: " + verdict
                                            if not include_weights else ""))
    conn.close()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("url")
    p.add_argument("--netuid", type=int, default=1)
    p.add_argument("--calls", type=int, default=15)
    main(p.parse_args())
