#!/usr/bin/env python3
"""RPC throughput with a Python load generator: `state_getStorage` over WebSocket from N
concurrent clients (asyncio + websockets), each keeping a window of requests in flight.

Prints requests/s and p50/p99 latency. On a small machine the Python client saturates a core
long before the node does; `scripts/bench-node.sh` therefore reports the figure of the Rust load
generator (`node/rpc/benches/rpc_load.rs`) and runs this one only with BENCH_PYTHON=1.

Usage: bench-node-rpc.py WS_URL [--clients 8] [--depth 16] [--seconds 10] [--key 0x..]
"""

import argparse
import asyncio
import json
import time

import websockets

# System.Account of //Alice.
ALICE_ACCOUNT = (
    "0x26aa394eea5630e07c48ae0c9558cef7b99d880ec681799c0cf30e8886371da9"
    "de1e86a9a8c739864cf3cc5ec2bea59fd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d"
)


async def client(url, key, depth, start, warmup, end, latencies, counts):
    async with websockets.connect(url, max_size=None, compression=None) as ws:
        sent = {}
        next_id = 0

        async def send_one():
            nonlocal next_id
            sent[next_id] = time.perf_counter()
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": next_id,
                                      "method": "state_getStorage", "params": [key]}))
            next_id += 1

        for _ in range(depth):
            await send_one()
        while sent:
            reply = json.loads(await ws.recv())
            now = time.perf_counter()
            at = sent.pop(reply["id"])
            if at >= start + warmup and now < end:
                counts[0] += 1
                counts[1] += "error" in reply
                latencies.append(now - at)
            if now < end:
                await send_one()


async def main(args):
    latencies, counts = [], [0, 0]
    start = time.perf_counter()
    end = start + args.warmup + args.seconds
    await asyncio.gather(*[
        client(args.url, args.key, args.depth, start, args.warmup, end, latencies, counts)
        for _ in range(args.clients)
    ])
    latencies.sort()

    def pct(p):
        return latencies[round((len(latencies) - 1) * p)] * 1e3 if latencies else float("nan")

    rate = counts[0] / args.seconds
    print(f"state_getStorage over WebSocket: {args.clients} clients x {args.depth} in flight, "
          f"{args.seconds} s (after {args.warmup} s warm-up), Python load generator "
          f"(asyncio + websockets {websockets.__version__})")
    print(f"  requests       {counts[0]} ({counts[1]} errors)")
    print(f"  throughput     {rate:.0f} requests/s")
    print(f"  latency        p50 {pct(0.5):.3f} ms, p99 {pct(0.99):.3f} ms")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("url")
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--depth", type=int, default=16)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--key", default=ALICE_ACCOUNT)
    asyncio.run(main(p.parse_args()))
