"""The gateway end to end with the real `openai` Python client (issue 14).

Two real `stminer --offline` processes (debug binaries) serve the `tiny` preset's `large` and
`small` models (trained or reused by scripts/localnet.py's `prepare_models`); `stgateway
--offline` routes to them with an API key file, ranking non-streaming answers by the `large`
model as the reference. Through `openai.OpenAI(base_url=...)`:
models.list(), completions and chat completions, streaming and not, a bad key
(AuthenticationError), a bad field (BadRequestError naming it), and clients that disconnect
mid-stream or before the answer, after which the gateway is still healthy and serves.
"""

import json
import socket
import subprocess
import time

import openai
import pytest

from conftest import built_binary, free_port
from gateway_procs import Procs, get_json, setup
from gateway_procs import client as gateway_client

KEY = "test-key-1"
MODEL = "subnet-1"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    st = setup(tmp_path_factory, "gateway", ["miner-large", "miner-small", "gateway"])
    stminer, stgateway = st.stminer, st.stgateway
    tokenizer, by_name, work, env = st.tokenizer, st.models, st.work, st.env
    procs = Procs(work, env)
    spawn = procs.spawn
    miner_ports = []
    for name in ["large", "small"]:
        port = free_port()
        miner_ports.append(port)
        spawn(f"miner-{name}", [stminer, "--offline", "--model", by_name[name], "--tokenizer",
                                tokenizer, "--wallet.name", f"miner-{name}", "--wallet.hotkey",
                                "default", "--axon.ip", "127.0.0.1", "--axon.port", port,
                                "--threads", "1"])
    (work / "keys.txt").write_text(f"# gateway test keys\n{KEY}\n")
    port = free_port()
    spawn("gateway", [stgateway, "--offline", *sum((["--miner", f"127.0.0.1:{p}"]
                                                    for p in miner_ports), []),
                      "--tokenizer", tokenizer, "--api-keys", work / "keys.txt",
                      "--reference-model", by_name["large"],
                      "--wallet.name", "gateway", "--wallet.hotkey", "default",
                      "--port", port, "--map-file", work / "map.json", "--timeout", "30",
                      "--rate", "100", "--burst", "100", "--log", "info,subtensor_gateway=debug"])
    base = f"http://127.0.0.1:{port}"
    try:
        procs.wait_healthy(f"{base}/health")
        yield base, work
    finally:
        procs.stop()


def client(base: str, key: str = KEY) -> openai.OpenAI:
    return gateway_client(base, key)


def test_models_and_completions(gateway):
    base, _ = gateway
    c = client(base)
    assert MODEL in [m.id for m in c.models.list()]
    r = c.completions.create(model=MODEL, prompt="The", max_tokens=8, seed=3)
    choice = r.choices[0]
    assert isinstance(choice.text, str) and choice.text
    assert choice.finish_reason in ("stop", "length")
    assert 1 <= r.usage.completion_tokens <= 8
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    # The same seed and prompt on the same miner give the same text; a stop sequence cuts.
    r = c.completions.create(model=MODEL, prompt="The", max_tokens=8, stop=[" "], temperature=0)
    assert " " not in r.choices[0].text


def test_chat_completions(gateway):
    base, _ = gateway
    c = client(base)
    r = c.chat.completions.create(model=MODEL, max_tokens=8, messages=[
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}])
    assert r.object == "chat.completion"
    assert r.choices[0].message.role == "assistant"
    content = r.choices[0].message.content
    assert isinstance(content, str)
    # Sampled answers may all be empty (the tiny models can draw end-of-text right after
    # "assistant:"); the ranking never prefers an empty one to text, and usage adds up.
    assert r.usage.completion_tokens >= 1 or content == "", (r.usage, content)
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens


def test_streaming(gateway):
    base, _ = gateway
    c = client(base)
    chunks = list(c.completions.create(model=MODEL, prompt="A", max_tokens=8, stream=True))
    assert chunks and chunks[-1].choices[0].finish_reason in ("stop", "length")
    assert all(ch.object == "text_completion" for ch in chunks)
    stream = c.chat.completions.create(model=MODEL, max_tokens=8, stream=True,
                                       stream_options={"include_usage": True},
                                       messages=[{"role": "user", "content": "Hi"}])
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    assert isinstance(text, str)
    # The usage chunk comes last, without choices. A sampled answer may be empty (the tiny
    # models can draw end-of-text first), so tokens are counted, not required.
    usage = chunks[-1].usage
    assert chunks[-1].choices == [] and usage.prompt_tokens >= 1, chunks[-1]
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens, usage
    assert usage.completion_tokens >= 1 or text == "", (usage, text)
    assert any(ch.choices and ch.choices[0].finish_reason for ch in chunks)


def test_bad_key_and_bad_field(gateway):
    base, _ = gateway
    with pytest.raises(openai.AuthenticationError):
        client(base, "wrong-key").completions.create(model=MODEL, prompt="A", max_tokens=2)
    with pytest.raises(openai.BadRequestError) as e:
        client(base).completions.create(model=MODEL, prompt="A", max_tokens=2, temperature=5)
    assert e.value.param == "temperature"
    with pytest.raises(openai.BadRequestError) as e:
        client(base).chat.completions.create(model=MODEL, max_tokens=2,
                                             messages=[{"role": "robot", "content": "x"}])
    assert e.value.param == "messages[0].role"
    with pytest.raises(openai.NotFoundError):
        client(base).completions.create(model="gpt-4", prompt="A", max_tokens=2)


def test_clients_that_disconnect_leave_the_gateway_healthy(gateway):
    base, _ = gateway
    c = client(base)
    # Mid-stream: read one chunk, then close the response.
    stream = c.completions.create(model=MODEL, prompt="The", max_tokens=16, stream=True)
    next(iter(stream))
    stream.close()
    # Before the answer: send a streaming request and hang up at once.
    host, port = base.removeprefix("http://").split(":")
    body = json.dumps({"model": MODEL, "prompt": "The", "max_tokens": 16, "stream": True})
    with socket.create_connection((host, int(port))) as s:
        s.sendall((f"POST /v1/completions HTTP/1.1\r\nHost: {host}\r\n"
                   f"Authorization: Bearer {KEY}\r\nContent-Type: application/json\r\n"
                   f"Content-Length: {len(body)}\r\n\r\n{body}").encode())
    time.sleep(0.5)
    assert get_json(f"{base}/health")[0] == 200
    r = c.completions.create(model=MODEL, prompt="The", max_tokens=4)
    # Served (a sampled answer may end at once with the end-of-text token: the text can be
    # empty, the completion is still a valid one).
    assert r.id and r.choices[0].finish_reason in ("stop", "length")
    assert isinstance(r.choices[0].text, str) and r.usage.prompt_tokens >= 1


def test_map_reflects_the_requests(gateway):
    base, _ = gateway
    status, m = get_json(f"{base}/map")
    assert status == 200
    miners = m["1"]
    assert sum(v["successes"] for v in miners.values()) >= 5
    for v in miners.values():
        assert v["addr"].startswith("127.0.0.1:")
        assert v["failures"] == 0


def test_non_streaming_answers_are_ranked_by_the_reference(gateway):
    base, work = gateway
    r = client(base).completions.create(model=MODEL, prompt="The", max_tokens=8, seed=9)
    assert r.choices[0].text
    log = (work / "gateway.log").read_text(errors="replace")
    assert "reference scores (mean log-prob per token)" in log


def test_stcli_subnet_map_reads_the_gateway(gateway):
    base, _ = gateway
    stcli = built_binary("stcli", "subtensor-cli", "STCLI_BIN")
    out = subprocess.run([stcli, "--json", "subnet", "map", "--gateway", base],
                         capture_output=True, text=True, timeout=30, check=True)
    assert json.loads(out.stdout) == get_json(f"{base}/map")[1] or "1" in json.loads(out.stdout)
    out = subprocess.run([stcli, "subnet", "map", "--gateway", base],
                         capture_output=True, text=True, timeout=30, check=True)
    lines = out.stdout.splitlines()
    assert lines[0].split()[:3] == ["NETUID", "UID", "HOTKEY"]
    assert len(lines) == 4, out.stdout  # header, rule, two miners
