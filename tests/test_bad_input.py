"""Bad input never kills the node and always gets a precise answer (acceptance 4).

Malformed JSON, unknown methods, wrong parameter types, unknown blocks, bad extrinsics
(undecodable, badly signed, stale, future, duplicate, unable to pay), oversized requests and
too many connections, over HTTP and WebSocket. After each group the node must still be running
and producing blocks. Expected answers are the ones the node documents: JSON-RPC 2.0 codes
(-32700 parse error, -32600 invalid request, -32601 method not found, -32602 invalid params),
the server's codes (`node/rpc/src/error.rs`: -32000 unknown block, -32001 pruned state) and
Substrate's author codes (`node/txpool/src/error.rs`: 1001 bad format, 1010 invalid transaction
with sp_runtime's text in `data`, 1012 temporarily banned — which an included transaction is —,
1013 already imported); oversized bodies get HTTP 413 / WS error -32007 "Request is too big"
(jsonrpsee), connections over `--rpc-max-connections` get HTTP 429.
"""

import hashlib
import http.client
import json
import socket
import time

import pytest
from substrateinterface import Keypair, SubstrateInterface
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from conftest import Node

ALICE = Keypair.create_from_uri("//Alice")
BOB = Keypair.create_from_uri("//Bob")
CHARLIE = Keypair.create_from_uri("//Charlie")
DAVE = Keypair.create_from_uri("//Dave")
UNKNOWN = "0x" + "11" * 32
MAX_BODY = 15 * 1024 * 1024  # node/rpc: MAX_BODY_BYTES


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    n = Node(tmp_path_factory.mktemp("bad-input"), sealing="500").start()
    yield n
    n.stop()


@pytest.fixture(scope="module")
def substrate(node):
    s = SubstrateInterface(url=node.ws_url)
    yield s
    s.close()


def assert_alive(node: Node, timeout: float = 15.0):
    """The process runs, answers RPC and authors a new block."""
    assert node.proc.poll() is None, node.log()
    best = node.best_number()
    node.wait_for_block(best + 1, timeout=timeout)


def post_raw(node: Node, body: bytes, content_type="application/json"):
    """POST `body` as is; returns (HTTP status, parsed JSON or raw text)."""
    conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=30)
    try:
        conn.request("POST", "/", body=body, headers={"Content-Type": content_type})
        resp = conn.getresponse()
        data = resp.read()
        try:
            return resp.status, json.loads(data)
        except ValueError:
            return resp.status, data.decode(errors="replace")
    finally:
        conn.close()


def error_of(reply) -> dict:
    assert "error" in reply and "result" not in reply, reply
    return reply["error"]


def ws_call(ws, method, params=None, id_=1):
    ws.send(json.dumps({"jsonrpc": "2.0", "id": id_, "method": method, "params": params or []}))
    return json.loads(ws.recv(timeout=30))


# ---------------------------------------------------------------------------------------------
# JSON-RPC framing and parameters
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b'{"jsonrpc":"2.0","id":1,"method":', b"{", b"not json at all", b"\xff\xfe\x00garbage",
     b'{"jsonrpc":"2.0","id":1,"method":"system_chain","params":[]}}}', b"null"],
)
def test_malformed_json_is_a_parse_error(node, body):
    status, reply = post_raw(node, body)
    # jsonrpsee answers bodies that are not JSON objects or arrays with HTTP 400.
    assert status in (200, 400), (status, reply)
    assert error_of(reply)["code"] == -32700
    assert error_of(reply)["message"] == "Parse error"
    assert reply["id"] is None


@pytest.mark.parametrize(
    "request_",
    [{"id": 1}, {"jsonrpc": "2.0", "id": 1}, {"jsonrpc": "2.0", "id": 1, "method": 7}, [],
     {"jsonrpc": "1.0", "id": 1, "method": "system_chain"}],
)
def test_invalid_requests(node, request_):
    status, reply = post_raw(node, json.dumps(request_).encode())
    assert status in (200, 400), (status, reply)
    assert error_of(reply)["code"] == -32600, reply
    assert error_of(reply)["message"] == "Invalid request"


def test_json_that_is_not_an_object_or_array(node):
    # jsonrpsee reads a request as an object or a batch; anything else is a parse error.
    for body in (b"42", b'"system_chain"', b"true"):
        status, reply = post_raw(node, body)
        assert status == 400 and error_of(reply)["code"] == -32700, (body, status, reply)


def test_deeply_nested_json_does_not_overflow_the_stack(node):
    body = b"[" * 100_000 + b"]" * 100_000
    status, reply = post_raw(node, body)
    assert status in (200, 400), status
    # A batch whose one entry is not a request object.
    assert [error_of(r)["code"] for r in reply] == [-32600], reply
    body = b'{"jsonrpc":"2.0","id":1,"method":"system_chain","extra":' + b"{\"a\":" * 100_000
    status, reply = post_raw(node, body)
    assert error_of(reply)["code"] == -32700, reply
    # Deeply nested parameters: serde_json's recursion limit, an invalid-params answer.
    nested = ('{"jsonrpc":"2.0","id":1,"method":"chain_getBlockHash","params":['
              + "[" * 50_000 + "]" * 50_000 + "]}")
    status, reply = post_raw(node, nested.encode())
    assert error_of(reply)["code"] == -32602, reply
    assert "recursion limit" in error_of(reply)["data"], reply
    assert_alive(node)


@pytest.mark.parametrize(
    "method", ["foo_bar", "chain_getblock", "system_chain ", "", "rpc.discover", "x" * 10_000]
)
def test_unknown_methods(node, method):
    reply = node.call(method, [])
    err = error_of(reply)
    assert (err["code"], err["message"]) == (-32601, "Method not found"), reply
    assert reply["id"] == 1


@pytest.mark.parametrize(
    "method,params",
    [
        ("chain_getHeader", [123]),
        ("chain_getHeader", ["0x11"]),
        ("chain_getHeader", ["0x" + "zz" * 32]),
        ("chain_getBlock", [{"hash": UNKNOWN}]),
        ("chain_getBlockHash", [{"a": 1}]),
        ("chain_getBlockHash", ["0xzz"]),
        ("chain_getBlockHash", [2**40]),
        ("chain_getBlockHash", [-1]),
        ("state_getStorage", [42]),
        ("state_getStorage", ["0xzz"]),
        ("state_getStorage", ["0x00", "not a hash"]),
        ("state_getKeysPaged", ["0x", "ten"]),
        ("state_getKeysPaged", ["0x", 1001]),
        ("state_call", ["Core_version"]),
        ("state_call", [1, "0x"]),
        ("system_accountNextIndex", ["not an address"]),
        ("system_accountNextIndex", []),
        ("author_submitExtrinsic", []),
        ("author_submitExtrinsic", ["zz"]),
        ("author_submitExtrinsic", [[1, 2, 3, 4096]]),
        ("payment_queryInfo", ["0x00"]),
        ("subtensor_getMetagraph", ["one"]),
        ("subtensor_getMetagraph", [70000]),
        ("subtensor_getGridSpec", ["one"]),
        ("subtensor_getGridSpec", [70000]),
        ("neuronInfo_getNeuron", [1]),
    ],
)
def test_wrong_parameter_types_are_invalid_params(node, method, params):
    body = json.dumps({"jsonrpc": "2.0", "id": 9, "method": method, "params": params})
    status, reply = post_raw(node, body.encode())
    assert status == 200
    err = error_of(reply)
    assert err["code"] == -32602, reply
    assert reply["id"] == 9


def test_framing_and_parameter_errors_over_websocket(node):
    with connect(node.ws_url, open_timeout=10, max_size=None) as ws:
        ws.send("{")
        assert error_of(json.loads(ws.recv(timeout=30)))["code"] == -32700
        ws.send(b"\x00\x01binary garbage")
        reply = json.loads(ws.recv(timeout=30))
        assert error_of(reply)["code"] in (-32700, -32600), reply
        assert error_of(ws_call(ws, "nope_nope"))["code"] == -32601
        assert error_of(ws_call(ws, "chain_getHeader", [5]))["code"] == -32602
        assert error_of(ws_call(ws, "author_submitAndWatchExtrinsic", [7]))["code"] == -32602
        assert error_of(ws_call(ws, "state_subscribeStorage", ["0x00"]))["code"] == -32602
        # Unsubscribing what is not a subscription of this connection: `false` (jsonrpsee).
        assert ws_call(ws, "chain_unsubscribeNewHeads", [{"no": 1}])["result"] is False
        assert ws_call(ws, "chain_unsubscribeNewHeads", ["notasubscription"])["result"] is False
        # The connection is still usable.
        assert ws_call(ws, "system_chain")["result"] == "Bittensor Development"
    assert_alive(node)


def test_batches_answer_every_entry(node):
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "system_chain"},
        {"jsonrpc": "2.0", "id": 2, "method": "nope"},
        {"jsonrpc": "2.0", "id": 3, "method": "chain_getHeader", "params": [1]},
        5,
    ]
    status, reply = post_raw(node, json.dumps(batch).encode())
    assert status == 200 and isinstance(reply, list) and len(reply) == 4, reply
    by_id = {r["id"]: r for r in reply if r["id"] is not None}
    assert by_id[1]["result"] == "Bittensor Development"
    assert by_id[2]["error"]["code"] == -32601
    assert by_id[3]["error"]["code"] == -32602
    assert [r["error"]["code"] for r in reply if r["id"] is None] == [-32600]
    assert_alive(node)


# ---------------------------------------------------------------------------------------------
# Unknown blocks
# ---------------------------------------------------------------------------------------------


def test_unknown_blocks(node):
    # Lookups by hash or number that find nothing are `null`, as Substrate answers.
    assert node.result("chain_getHeader", [UNKNOWN]) is None
    assert node.result("chain_getBlock", [UNKNOWN]) is None
    assert node.result("chain_getBlockHash", [10**9]) is None
    assert node.result("chain_getBlockHash", [[0, 10**9]]) == [
        node.result("chain_getBlockHash", [0]), None
    ]
    # Reading state at an unknown block is an error (-32000, Substrate's UnknownBlock text).
    for method, params in [
        ("state_getStorage", ["0x00", UNKNOWN]),
        ("state_getKeysPaged", ["0x", 10, None, UNKNOWN]),
        ("state_getRuntimeVersion", [UNKNOWN]),
        ("state_getMetadata", [UNKNOWN]),
        ("state_call", ["Core_version", "0x", UNKNOWN]),
        ("state_queryStorageAt", [["0x00"], UNKNOWN]),
        ("subtensor_getMetagraph", [1, False, UNKNOWN]),
        ("subtensor_getGridSpec", [1, UNKNOWN]),
    ]:
        err = error_of(node.call(method, params))
        assert err["code"] == -32000, (method, err)
        assert "UnknownBlock" in err["message"] and UNKNOWN in err["message"], err
    # Runtime entry points that do not exist: Substrate's exact text.
    err = error_of(node.call("state_call", ["Nope_nope", "0x"]))
    assert err["message"] == (
        "Client error: Execution failed: Other: Exported method Nope_nope is not found"
    )
    assert_alive(node)


# ---------------------------------------------------------------------------------------------
# Extrinsics
# ---------------------------------------------------------------------------------------------


def transfer(substrate, signer, nonce, value=10**9, dest=CHARLIE, signature=None):
    call = substrate.compose_call(
        "Balances", "transfer_keep_alive", {"dest": dest.ss58_address, "value": value}
    )
    return substrate.create_signed_extrinsic(
        call=call, keypair=signer, nonce=nonce, signature=signature
    )


def submit(node, xt):
    hex_ = xt if isinstance(xt, str) else xt.data.to_hex()
    return node.call("author_submitExtrinsic", [hex_])


def chain_nonce(node, who: Keypair) -> int:
    return node.result("system_accountNextIndex", [who.ss58_address])


def wait_for_nonce(node, who, nonce, timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if chain_nonce(node, who) >= nonce and not node.result("author_pendingExtrinsics"):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nonce {nonce} of {who.ss58_address} not reached:\n{node.log()}")


@pytest.mark.parametrize(
    "data", ["0x", "0x00", "0x1234", "0x0c8400", "0x" + "ff" * 200, "0x" + "84" + "00" * 120]
)
def test_undecodable_extrinsics(node, data):
    err = error_of(node.call("author_submitExtrinsic", [data]))
    assert err["code"] == 1001, err
    assert err["message"].startswith("Extrinsic has invalid format"), err


def test_extrinsic_with_trailing_bytes_is_refused(node, substrate):
    xt = transfer(substrate, DAVE, chain_nonce(node, DAVE)).data.to_hex()
    err = error_of(node.call("author_submitExtrinsic", [xt + "00"]))
    assert err["code"] == 1001, err


def test_bad_signature(node, substrate):
    forged = transfer(substrate, ALICE, chain_nonce(node, ALICE), signature=BOB.sign(b"other"))
    err = error_of(submit(node, forged))
    assert (err["code"], err["message"], err["data"]) == (
        1010, "Invalid Transaction", "Transaction has a bad signature"
    ), err
    # The hash is banned now: the same bytes are refused without validation.
    err = error_of(submit(node, forged))
    assert (err["code"], err["message"]) == (1012, "Transaction is temporarily banned"), err
    # A correctly signed transaction with one byte of its signature flipped.
    raw = bytearray(bytes.fromhex(
        transfer(substrate, ALICE, chain_nonce(node, ALICE), value=7 * 10**9).data.to_hex()[2:]
    ))
    # The signature follows the compact length, the version byte and the address (0x00 + 32
    # bytes), after its type byte (0x01 = sr25519).
    prefix = {0: 1, 1: 2, 2: 4}[raw[0] & 3]
    assert raw[prefix] == 0x84 and raw[prefix + 1] == 0x00 and raw[prefix + 34] == 0x01
    raw[prefix + 35 + 10] ^= 0xFF
    err = error_of(submit(node, "0x" + raw.hex()))
    assert (err["code"], err["data"]) == (1010, "Transaction has a bad signature"), err
    assert_alive(node)


def test_cannot_pay_fees(node, substrate):
    pauper = Keypair.create_from_mnemonic(Keypair.generate_mnemonic())
    err = error_of(submit(node, transfer(substrate, pauper, 0, value=1)))
    assert (err["code"], err["message"]) == (1010, "Invalid Transaction"), err
    assert err["data"].startswith("Inability to pay some fees"), err


def test_stale_future_and_duplicate_nonces(node, substrate):
    # One included transfer of //Bob, so that his nonce is > 0.
    first_nonce = chain_nonce(node, BOB)
    receipt = substrate.submit_extrinsic(
        transfer(substrate, BOB, first_nonce), wait_for_inclusion=True
    )
    assert receipt.is_success, receipt.error_message
    included = receipt.extrinsic
    nonce = first_nonce + 1
    wait_for_nonce(node, BOB, nonce)

    # Stale: a (different) transaction with a used nonce.
    err = error_of(submit(node, transfer(substrate, BOB, first_nonce, value=2 * 10**9)))
    assert (err["code"], err["message"], err["data"]) == (
        1010, "Invalid Transaction", "Transaction is outdated"
    ), err
    # Duplicate of an included transaction: its hash is banned after inclusion (1012).
    err = error_of(submit(node, included))
    assert (err["code"], err["message"]) == (1012, "Transaction is temporarily banned"), err

    # Future: nonce + 1 waits in the pool ("future"), not ready, not included.
    future = transfer(substrate, BOB, nonce + 1)
    with connect(node.ws_url, open_timeout=10) as ws:
        ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "author_submitAndWatchExtrinsic",
                            "params": [future.data.to_hex()]}))
        sub = json.loads(ws.recv(timeout=30))
        assert isinstance(sub.get("result"), str), sub
        first = json.loads(ws.recv(timeout=30))
        assert first["method"] == "author_extrinsicUpdate"
        assert first["params"]["result"] == "future", first
        assert future.data.to_hex() not in node.result("author_pendingExtrinsics")
        # A duplicate while it is pooled: 1013, deterministically (a future one cannot be
        # included meanwhile).
        err = error_of(submit(node, future))
        assert (err["code"], err["message"]) == (1013, "Transaction Already Imported"), err
        # Blocks go by; the gap stays, so nothing of Bob's is included.
        best = node.best_number()
        node.wait_for_block(best + 2)
        assert chain_nonce(node, BOB) == nonce
        # Filling the gap makes both ready; they are included in order.
        gap = submit(node, transfer(substrate, BOB, nonce))
        assert "result" in gap, gap
        statuses = []
        deadline = time.time() + 30
        while time.time() < deadline and not any(
            isinstance(s, dict) and "inBlock" in s for s in statuses
        ):
            msg = json.loads(ws.recv(timeout=30))
            statuses.append(msg["params"]["result"])
        assert statuses[0] == "ready", statuses
        assert any(isinstance(s, dict) and "inBlock" in s for s in statuses), statuses
    wait_for_nonce(node, BOB, nonce + 2)
    err = error_of(submit(node, future))
    assert err["code"] == 1012, err
    assert_alive(node)


# ---------------------------------------------------------------------------------------------
# Oversized requests
# ---------------------------------------------------------------------------------------------


def test_oversized_http_body_is_413(node):
    # Announced size over the limit: refused from the headers, before the body is read.
    with socket.create_connection(("127.0.0.1", node.port), timeout=30) as s:
        s.sendall(
            b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {MAX_BODY + 1}\r\n\r\n".encode()
            + b'{"jsonrpc":"2.0","id":1,"method":"system_chain","params":["'
        )
        head = s.recv(4096)
    assert head.startswith(b"HTTP/1.1 413"), head[:200]
    # A body really sent over the limit: 413 with jsonrpsee's error object, or the connection
    # closed on the sender while it writes; either way the node lives on.
    big = ('{"jsonrpc":"2.0","id":1,"method":"system_chain","params":["'
           + "a" * (MAX_BODY + 16) + '"]}').encode()
    try:
        status, reply = post_raw(node, big)
        assert status == 413, (status, str(reply)[:200])
        if isinstance(reply, dict):
            assert error_of(reply)["code"] == -32007
    except (BrokenPipeError, ConnectionResetError):
        pass
    # Just under the limit is served (an error answer from the method, not from transport).
    ok = ('{"jsonrpc":"2.0","id":1,"method":"author_submitExtrinsic","params":["0x'
          + "ab" * ((MAX_BODY - 200) // 2) + '"]}').encode()
    status, reply = post_raw(node, ok)
    assert status == 200 and error_of(reply)["code"] == 1001, (status, str(reply)[:200])
    assert_alive(node)


def test_oversized_websocket_message_is_an_error_and_the_connection_lives(node):
    with connect(node.ws_url, open_timeout=10, max_size=None) as ws:
        ws.send('{"jsonrpc":"2.0","id":1,"method":"system_chain","params":["'
                + "a" * (MAX_BODY + 16) + '"]}')
        err = error_of(json.loads(ws.recv(timeout=60)))
        assert (err["code"], err["message"]) == (-32007, "Request is too big"), err
        assert ws_call(ws, "system_chain", id_=2)["result"] == "Bittensor Development"
    assert_alive(node)


def test_huge_extrinsic_and_huge_storage_query(node):
    # 4 MiB of junk as an extrinsic: decoded and refused, not crashing.
    err = error_of(node.call("author_submitExtrinsic", ["0x" + "ab" * (4 * 1024 * 1024)]))
    assert err["code"] == 1001
    # 100k storage keys in one query: answered (every key with null).
    keys = ["0x" + f"{i:08x}" for i in range(100_000)]
    reply = node.call("state_queryStorageAt", [keys])
    assert "result" in reply or error_of(reply)["code"] in (-32602, -32603), str(reply)[:300]
    if "result" in reply:
        assert len(reply["result"][0]["changes"]) == len(keys)
    assert_alive(node)


# ---------------------------------------------------------------------------------------------
# Connections
# ---------------------------------------------------------------------------------------------


def test_connections_over_the_limit_are_refused_then_served_again(tmp_path):
    limited = Node(tmp_path, extra_args=["--rpc-max-connections", "4"], sealing="300").start()
    opened = []
    try:
        for _ in range(4):
            ws = connect(limited.ws_url, open_timeout=10)
            opened.append(ws)
            assert ws_call(ws, "system_health")["result"]["isSyncing"] is False
        # A fifth WebSocket, and plain HTTP, are refused with 429 while 4 are open.
        for _ in range(3):
            with pytest.raises(InvalidStatus) as refused:
                connect(limited.ws_url, open_timeout=10).close()
            assert refused.value.response.status_code == 429
        status, reply = post_raw(limited, b'{"jsonrpc":"2.0","id":1,"method":"system_health"}')
        assert status == 429, (status, reply)
        # The open ones are still served, subscriptions included.
        ws = opened[0]
        sub = ws_call(ws, "chain_subscribeNewHeads", id_=7)
        assert isinstance(sub["result"], str)
        head = json.loads(ws.recv(timeout=30))
        assert head["method"] == "chain_newHead"
        best = int(ws_call(opened[1], "chain_getHeader")["result"]["number"], 16)
    finally:
        for ws in opened:
            ws.close()
    try:
        # Closing them frees the slots (the server notices the close asynchronously).
        deadline = time.time() + 15
        while True:
            try:
                limited.best_number()
                break
            except Exception:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        again = [connect(limited.ws_url, open_timeout=10) for _ in range(4)]
        try:
            assert all(ws_call(ws, "system_chain")["result"] for ws in again)
        finally:
            for ws in again:
                ws.close()
        assert limited.proc.poll() is None
        limited.wait_for_block(best + 2)
    finally:
        limited.stop()


def test_many_connections_opened_and_dropped_abruptly(node):
    """Sockets that connect and vanish (half-open handshakes, resets) cost nothing lasting."""
    for i in range(50):
        s = socket.create_connection(("127.0.0.1", node.port), timeout=5)
        if i % 3 == 0:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n")
        elif i % 3 == 1:
            s.sendall(b"POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"json")
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    assert node.result("system_chain") == "Bittensor Development"
    assert_alive(node)


# ---------------------------------------------------------------------------------------------
# Deeply nested calls
# ---------------------------------------------------------------------------------------------


def compact(n: int) -> bytes:
    if n < 1 << 6:
        return bytes([n << 2])
    if n < 1 << 14:
        return ((n << 2) | 1).to_bytes(2, "little")
    if n < 1 << 30:
        return ((n << 2) | 2).to_bytes(4, "little")
    raise ValueError(n)


def nested_batch(depth: int) -> bytes:
    """`Utility.batch([Utility.batch([... System.remark([]) ...])])`, `depth` batches deep
    (Utility is pallet 11, `batch` its call 0; System.remark is 0/0)."""
    return bytes([11, 0, 4]) * depth + bytes([0, 0, 0])


def signed_raw(node: Node, signer: Keypair, call: bytes, nonce: int) -> str:
    """`call` signed by `signer` (immortal, tip 0, no metadata hash), encoded by hand: the
    standard extension order of the runtime (node/rpc and runtime/src/lib.rs)."""
    version = node.result("state_getRuntimeVersion")
    genesis = bytes.fromhex(node.result("chain_getBlockHash", [0])[2:])
    explicit = bytes([0]) + compact(nonce) + compact(0) + bytes([0])
    implicit = (version["specVersion"].to_bytes(4, "little")
                + version["transactionVersion"].to_bytes(4, "little") + genesis + genesis
                + bytes([0]))
    payload = call + explicit + implicit
    if len(payload) > 256:
        payload = hashlib.blake2b(payload, digest_size=32).digest()
    body = (bytes([0x84, 0]) + signer.public_key + bytes([1]) + signer.sign(payload) + explicit
            + call)
    return "0x" + (compact(len(body)) + body).hex()


def test_deeply_nested_calls_are_refused_not_a_stack_overflow(node):
    """A call nested thousands of times used to overflow the node's stack when decoded
    (the native runtime decodes without a limit) and abort the process: one unauthenticated
    RPC request killed the node. Values nesting deeper than Substrate's 256 levels are now
    refused wherever they come in."""
    for depth in (300, 5_000, 1_000_000):
        bare = bytes([4]) + nested_batch(depth)
        xt = "0x" + (compact(len(bare)) + bare).hex()
        err = error_of(node.call("author_submitExtrinsic", [xt]))
        assert err["code"] == 1001 and "recursion depth" in err["message"], err
        assert len(err["message"]) < 500, len(err["message"])
        err = error_of(node.call("payment_queryInfo", [xt]))
        assert err["code"] == -32602, err
        args = "0x" + (nested_batch(depth) + bytes(4)).hex()
        err = error_of(node.call("state_call", ["TransactionPaymentCallApi_query_call_info", args]))
        assert err["code"] == -32002 and "Bad input data" in err["message"], err
        validate = "0x" + (bytes([2]) + bytes.fromhex(xt[2:]) + bytes(32)).hex()
        err = error_of(node.call("state_call", ["TaggedTransactionQueue_validate_transaction",
                                                validate]))
        assert err["code"] == -32002 and "Bad input data" in err["message"], err
        assert node.proc.poll() is None, node.log()
    assert_alive(node)


def test_signed_batch_at_the_nesting_limit_is_dispatched(node):
    """256 nested batches are valid; dispatching them takes about 3 MiB of stack (debug
    build), more than the 2 MiB of a default thread, which also aborted the node when the
    block was built. One level more is refused as undecodable."""
    nonce = chain_nonce(node, DAVE)
    err = error_of(node.call("author_submitExtrinsic",
                             [signed_raw(node, DAVE, nested_batch(257), nonce)]))
    assert err["code"] == 1001, err
    reply = node.call("author_submitExtrinsic", [signed_raw(node, DAVE, nested_batch(256), nonce)])
    assert "result" in reply, reply
    wait_for_nonce(node, DAVE, nonce + 1)
    assert_alive(node)
