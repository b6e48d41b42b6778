#!/usr/bin/env python3
"""The network benchmarks on real release nodes, on loopback (standard library only; driven by
scripts/bench-network.sh, which builds the binaries and the block file):

sync      (i) `import-blocks` of a block file into an empty database (blocks/s); the file is then
          `export-blocks`-ed back from that database and compared byte for byte;
          (ii) that database served by a node that does not author (`--sealing manual`, no key)
          to a fresh full node (`--chain dev`, no key) given it as `--bootnodes`: the time from
          starting the fresh node until its best block is the holder's (blocks/s), and the
          ratio to (i) (targets: >= 80 % of import, >= 200 blocks/s).
finality  the four authorities of `--chain local` (1 s slots, GRANDPA) for SECONDS: for each
          block authored in the window, its propagation (from its import on its author to its
          import on every other node; log lines `imported #N 0x.. (best|fork)` of target
          `chain` at debug, timestamped by each node) and its finality (from its import on a
          node to the first finalization of it or a descendant on that node: GRANDPA's
          `finalized #N (0x..) in round R`, sync's `finalized #N 0x.. with a justification`);
          p50/p95 (targets: propagation p95 <= 300 ms, finality p95 <= 2 s).

Every node runs on a free loopback port with its own base path under --work; every process is
stopped on exit, error or Ctrl-C. Prints a summary table at the end (with the reorg figures of
node/chain/benches/reorg.rs when given as --reorg).

Usage: bench-network.py --node BIN --work DIR [--phases sync,finality] [--blocks-file F
       --blocks N] [--seconds 60] [--slot-ms 1000] [--reorg "reorg_ms=.. ..."]
"""

import argparse
import datetime
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

PROCS = []  # every process started, stopped at exit


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rpc(port, method, params=None, timeout=10.0):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
    req = urllib.request.Request(f"http://127.0.0.1:{port}", body.encode(),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        reply = json.loads(resp.read())
    if "error" in reply:
        raise RuntimeError(f"{method}: {reply['error']}")
    return reply["result"]


def stop(proc, timeout=20.0):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def stop_all():
    while PROCS:
        stop(PROCS.pop())


def on_signal(signum, _frame):
    stop_all()
    sys.exit(128 + signum)


def tail(path, chars=3000):
    try:
        return Path(path).read_text(errors="replace")[-chars:]
    except OSError:
        return ""


class Node:
    """A release node with its own base path, RPC and p2p ports, logging to base/node.log."""

    def __init__(self, binary, base, chain, key=None, sealing=None, extra=()):
        self.base = Path(base)
        self.port, self.p2p = free_port(), free_port()
        self.log = self.base / "node.log"
        self.args = [str(binary), "--chain", chain, "--base-path", str(self.base),
                     "--rpc-port", str(self.port), "--port", str(self.p2p), "--no-mdns",
                     *([f"--{key}"] if key else []),
                     *(["--sealing", sealing] if sealing else []), *extra]
        self.proc = None

    def start(self, timeout=60.0):
        self.base.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, NO_COLOR="1")
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT, env=env)
        PROCS.append(self.proc)
        self.started = time.monotonic()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.base.name} exited ({self.proc.returncode}):\n"
                                   + tail(self.log))
            try:
                rpc(self.port, "system_health", timeout=1)
                return self
            except Exception:
                time.sleep(0.05)
        raise RuntimeError(f"{self.base.name} did not answer RPC in {timeout} s:\n" + tail(self.log))

    def call(self, method, params=None, timeout=10.0):
        return rpc(self.port, method, params, timeout)

    def best_number(self):
        return int(self.call("chain_getHeader")["number"], 16)

    def multiaddr(self):
        return f"/ip4/127.0.0.1/tcp/{self.p2p}/p2p/{self.call('system_localPeerId')}"

    def stop(self):
        if self.proc:
            stop(self.proc)
            if self.proc in PROCS:
                PROCS.remove(self.proc)


def run_cmd(args, log, timeout):
    """Run a node subcommand to completion; returns its wall time in seconds."""
    t = time.monotonic()
    with open(log, "ab") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        PROCS.append(proc)
        try:
            rc = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            stop(proc)
            raise RuntimeError(f"{' '.join(map(str, args[:2]))} ran past {timeout} s:\n{tail(log)}")
        finally:
            if proc in PROCS:
                PROCS.remove(proc)
    if rc != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} failed ({rc}):\n{tail(log)}")
    return time.monotonic() - t


def pct(values, p):
    """The p-th percentile (nearest rank) of values."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))
    return s[k]


# ---------------------------------------------------------------------------------------------
# sync


def bench_sync(args, results):
    work = Path(args.work) / "sync"
    work.mkdir(parents=True, exist_ok=True)
    blocks_file = Path(args.blocks_file)
    n = args.blocks
    size = blocks_file.stat().st_size
    print(f"block file: {n} blocks, {size / 1e6:.1f} MB")

    # (i) import-blocks into an empty base path.
    holder_base = work / "holder"
    cmd = [args.node, "import-blocks", "--chain", "dev", "--base-path", str(holder_base),
           str(blocks_file)]
    print("$ subtensor-node import-blocks --chain dev --base-path $TMP/holder blocks.bin")
    t_import = run_cmd(cmd, work / "import.log", args.timeout)
    import_bps = n / t_import
    print(f"  imported {n} blocks in {t_import:.1f} s: {import_bps:.0f} blocks/s")
    results["import"] = (t_import, import_bps)

    # The round trip: export-blocks writes the same file back.
    exported = work / "exported.bin"
    print("$ subtensor-node export-blocks --chain dev --base-path $TMP/holder exported.bin")
    t_export = run_cmd([args.node, "export-blocks", "--chain", "dev", "--base-path",
                        str(holder_base), str(exported)], work / "export.log", args.timeout)
    same = exported.read_bytes() == blocks_file.read_bytes()
    print(f"  exported {n} blocks in {t_export:.1f} s ({n / t_export:.0f} blocks/s); "
          f"identical to the imported file: {same}")
    if not same:
        raise RuntimeError("export-blocks did not give back the imported blocks")
    exported.unlink()
    results["export"] = (t_export, n / t_export)

    # (ii) a fresh full node syncs from the holder.
    holder = Node(args.node, holder_base, "dev", sealing="manual").start()
    best = holder.best_number()
    if best != n:
        raise RuntimeError(f"the holder's best is #{best}, expected #{n}")
    boot = holder.multiaddr()
    syncer = Node(args.node, work / "syncer", "dev", extra=["--bootnodes", boot])
    print(f"$ subtensor-node --chain dev --sealing manual --base-path $TMP/holder   (best #{best})")
    print(f"$ subtensor-node --chain dev --base-path $TMP/syncer --bootnodes {boot}")
    t0 = time.monotonic()
    syncer.start()
    t_rpc = time.monotonic() - t0
    t_first = None
    deadline = t0 + args.timeout
    last_print, number = t0, 0
    while True:
        now = time.monotonic()
        if now > deadline:
            raise RuntimeError(f"sync reached only #{number} of #{best} in {args.timeout} s:\n"
                               + tail(syncer.log))
        if syncer.proc.poll() is not None:
            raise RuntimeError("the syncing node exited:\n" + tail(syncer.log))
        try:
            number = syncer.best_number()
        except Exception:
            number = number
        if number > 0 and t_first is None:
            t_first = time.monotonic() - t0
        if number >= best:
            break
        if now - last_print > 10:
            print(f"  ... #{number} after {now - t0:.0f} s")
            last_print = now
        time.sleep(0.1)
    t_sync = time.monotonic() - t0
    same_head = syncer.call("chain_getBlockHash", [best]) == holder.call("chain_getBlockHash", [best])
    syncer.stop()
    holder.stop()
    if not same_head:
        raise RuntimeError("the synced chain differs from the holder's")
    sync_bps = best / t_sync
    steady_bps = best / (t_sync - t_first) if t_first else float("nan")
    print(f"  synced #{best} in {t_sync:.1f} s from start (RPC up after {t_rpc:.1f} s, first "
          f"block after {t_first:.1f} s): {sync_bps:.0f} blocks/s "
          f"({steady_bps:.0f} blocks/s from the first block)")
    ratio = sync_bps / import_bps
    print(f"  sync / import-blocks: {100 * ratio:.0f} %")
    results["sync"] = (t_sync, sync_bps, ratio, steady_bps)


# ---------------------------------------------------------------------------------------------
# finality and propagation

ANSI = re.compile(r"\x1b\[[0-9;]*m")
STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)(Z|[+-]\d\d:?\d\d)?")
IMPORTED = re.compile(r"imported #(\d+) (0x[0-9a-f]{64}) \((best|fork)\)")
AUTHORED = re.compile(r"authored #(\d+) \((0x[0-9a-f]{64})\)")
FINALIZED = re.compile(r"finalized #(\d+) \(?(0x[0-9a-f]{64})\)? (?:in round|with a justification)")


def stamp_of(line):
    m = STAMP.match(line)
    if not m:
        return None
    text, zone = m.group(1), m.group(2) or "Z"
    if "." in text:  # at most microseconds for fromisoformat
        head, frac = text.split(".")
        text = f"{head}.{frac[:6].ljust(6, '0')}"
    zone = "+00:00" if zone == "Z" else zone
    return datetime.datetime.fromisoformat(text + zone).timestamp()


def parse_log(path):
    imports, authored, finalized = {}, {}, []
    for raw in Path(path).read_text(errors="replace").splitlines():
        line = ANSI.sub("", raw)
        t = stamp_of(line)
        if t is None:
            continue
        if m := IMPORTED.search(line):
            imports.setdefault(m.group(2), (t, int(m.group(1))))
        elif m := AUTHORED.search(line):
            authored[m.group(2)] = (t, int(m.group(1)))
        elif m := FINALIZED.search(line):
            finalized.append((t, int(m.group(1)), m.group(2)))
    finalized.sort()
    return imports, authored, finalized


def bench_finality(args, results):
    work = Path(args.work) / "finality"
    names = ["alice", "bob", "charlie", "dave"]
    logs = ["-l", "chain=debug,sync=debug,grandpa=info"]
    slot = str(args.slot_ms)
    print(f"$ subtensor-node --chain local --alice --sealing {slot} {' '.join(logs)} "
          "--base-path $TMP/alice   (and --bob, --charlie, --dave with --bootnodes to alice)")
    nodes = [Node(args.node, work / "alice", "local", key="alice", sealing=slot, extra=logs).start()]
    boot = nodes[0].multiaddr()
    for name in names[1:]:
        nodes.append(Node(args.node, work / name, "local", key=name, sealing=slot,
                          extra=logs + ["--bootnodes", boot]).start())
    # Wait for a full mesh and a finalized block, then measure.
    deadline = time.monotonic() + 60
    while True:
        try:
            peers = [n.call("system_health")["peers"] for n in nodes]
            fin = nodes[0].call("chain_getHeader", [nodes[0].call("chain_getFinalizedHead")])
            if min(peers) >= len(nodes) - 1 and int(fin["number"], 16) >= 1:
                break
        except Exception:
            peers = "?"
        if time.monotonic() > deadline:
            raise RuntimeError(f"no full mesh with finality within 60 s (peers {peers}):\n"
                               + tail(nodes[0].log))
        time.sleep(0.2)
    t_start = time.time()
    print(f"  mesh up and finalizing; measuring for {args.seconds} s")
    time.sleep(args.seconds)
    t_end = time.time()
    time.sleep(5)  # let the window's last blocks finalize
    best = nodes[0].best_number()
    canonical = {}
    for number in range(1, best + 1):
        canonical[nodes[0].call("chain_getBlockHash", [number])] = number
    fin_heads = [int(n.call("chain_getHeader", [n.call("chain_getFinalizedHead")])["number"], 16)
                 for n in nodes]
    for n in nodes:
        n.stop()

    parsed = {n.base.name: parse_log(n.log) for n in nodes}
    authors = {}  # hash -> (node, time of import on the author, number)
    for name, (imports, authored, _) in parsed.items():
        for h, (_, number) in authored.items():
            if h in imports:
                authors[h] = (name, imports[h][0], number)
    window = {h: a for h, a in authors.items() if t_start <= a[1] <= t_end}
    prop_all, prop_pairs, missing = [], [], 0
    for h, (author, t_author, _) in window.items():
        delays = []
        for name, (imports, _, _) in parsed.items():
            if name == author:
                continue
            if h in imports:
                delays.append(imports[h][0] - t_author)
            else:
                missing += 1
        prop_pairs += delays
        if len(delays) == len(nodes) - 1:
            prop_all.append(max(delays))
    fin_pairs, fin_all = [], []
    for h, (author, t_author, number) in window.items():
        if h not in canonical:
            continue
        finals = []
        for name, (imports, _, finalized) in parsed.items():
            t_fin = next((t for t, num, _ in finalized if num >= number), None)
            if t_fin is not None and h in imports:
                fin_pairs.append(t_fin - imports[h][0])
                finals.append(t_fin)
        if len(finals) == len(nodes):
            fin_all.append(max(finals) - t_author)
    forks = sum(1 for h in window if h not in canonical)
    per_author = {name: sum(1 for a in window.values() if a[0] == name) for name in names}
    print(f"  {len(window)} blocks authored in {t_end - t_start:.0f} s "
          f"({', '.join(f'{k} {v}' for k, v in per_author.items())}); {forks} off the final "
          f"chain; {missing} (block, node) imports missing; finalized heads {fin_heads}, best "
          f"#{best}")
    ms = lambda v: v * 1e3  # noqa: E731
    for label, values in [
        ("propagation, author's import -> import on every other node", prop_all),
        ("propagation, author's import -> import on one other node", prop_pairs),
        ("finality, import on a node -> finalized on that node", fin_pairs),
        ("finality, author's import -> finalized on every node", fin_all),
    ]:
        print(f"  {label}: p50 {ms(pct(values, 50)):.0f} ms, p95 {ms(pct(values, 95)):.0f} ms, "
              f"max {ms(max(values, default=float('nan'))):.0f} ms ({len(values)} samples)")
    results["propagation"] = (ms(pct(prop_all, 50)), ms(pct(prop_all, 95)), len(prop_all))
    results["finality"] = (ms(pct(fin_pairs, 50)), ms(pct(fin_pairs, 95)), len(fin_pairs))
    results["finality_all"] = (ms(pct(fin_all, 50)), ms(pct(fin_all, 95)), len(fin_all))


# ---------------------------------------------------------------------------------------------


def verdict(ok):
    return "met" if ok else "NOT met"


def summary(args, results):
    rows = []
    if args.reorg:
        r = dict(kv.split("=") for kv in args.reorg.split())
        reorg = float(r["reorg_ms"])
        rows.append(("reorg: import switching to a 1,001-block fork", f"{reorg:.1f} ms",
                     "< 200 ms", verdict(reorg < 200)))
        rows.append(("finalize the winning fork (1,000 discarded)",
                     f"{float(r['finalize_winning_ms']):.1f} ms", "", ""))
        rows.append(("finalize the losing fork (best moves back)",
                     f"{float(r['finalize_losing_ms']):.1f} ms", "", ""))
    if "import" in results:
        rows.append((f"import-blocks, {args.blocks} blocks", f"{results['import'][1]:.0f} blocks/s",
                     "", ""))
    if "export" in results:
        rows.append((f"export-blocks, {args.blocks} blocks", f"{results['export'][1]:.0f} blocks/s",
                     "", ""))
    if "sync" in results:
        _, bps, ratio, steady = results["sync"]
        rows.append(("sync from a peer (from node start)", f"{bps:.0f} blocks/s", ">= 200 blocks/s",
                     verdict(bps >= 200)))
        rows.append(("sync / import-blocks", f"{100 * ratio:.0f} %", ">= 80 %",
                     verdict(ratio >= 0.8)))
    if "propagation" in results:
        p50, p95, count = results["propagation"]
        rows.append((f"propagation to every node ({count} blocks)", f"p50 {p50:.0f} / p95 {p95:.0f} ms",
                     "p95 <= 300 ms", verdict(p95 <= 300)))
    if "finality" in results:
        p50, p95, count = results["finality"]
        rows.append((f"finality, import -> finalized ({count})", f"p50 {p50:.0f} / p95 {p95:.0f} ms",
                     "p95 <= 2000 ms", verdict(p95 <= 2000)))
        p50, p95, count = results["finality_all"]
        rows.append(("finality, authored -> final on all nodes", f"p50 {p50:.0f} / p95 {p95:.0f} ms",
                     "", ""))
    w = [max(len(r[i]) for r in rows) for i in range(4)] if rows else [0] * 4
    print()
    print("== summary ==")
    for r in rows:
        print(f"  {r[0]:<{w[0]}}  {r[1]:>{w[1]}}  {r[2]:<{w[2]}}  {r[3]}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--node", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--phases", default="sync,finality")
    p.add_argument("--blocks-file")
    p.add_argument("--blocks", type=int, default=0)
    p.add_argument("--seconds", type=int, default=60)
    p.add_argument("--slot-ms", type=int, default=1000)
    p.add_argument("--timeout", type=int, default=600, help="per step, seconds")
    p.add_argument("--reorg", help="the reorg bench's `summary:` line, without the prefix")
    args = p.parse_args()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    results = {}
    phases = args.phases.split(",")
    try:
        if "sync" in phases:
            print()
            print(f"== sync: import-blocks vs. a fresh node syncing {args.blocks} blocks ==")
            bench_sync(args, results)
        if "finality" in phases:
            print()
            print(f"== finality and propagation: 4 authorities, {args.slot_ms} ms slots ==")
            bench_finality(args, results)
    finally:
        stop_all()
    summary(args, results)


if __name__ == "__main__":
    main()
