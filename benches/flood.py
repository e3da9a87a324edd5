#!/usr/bin/env python3
"""A flood of distinct numbers against the real `sportello serve` (issue #17).

Starts the release binary on a temporary data directory, with one comune (brusson) given a
WhatsApp phone number id and the app secret and a Graph token in the environment. The Graph
API is on loopback: by default a closed port (every reply's send is refused and retried
with back-off, every read receipt fails: a provider that is down or refuses), with
`--graph fake` a process of its own that accepts everything at once (a healthy provider).
Then sends validly signed webhooks from `--numbers` distinct numbers, each writing "ciao" or
"MI ISCRIVO" once, every third one twice, `--batch` messages a webhook, over
`--connections` keep-alive connections; a 503 (the server shedding) is sent again after
1 s, as Meta would. With `--passes 2` every number then writes again, in a shuffled order,
as a citizen already in the store. Each pass prints its webhooks a second (answered 200)
and the server's CPU time per message (until every message is stepped).

Every second it prints the server's VmRSS and VmHWM (/proc/<pid>/status), the webhooks
answered so far, and the latency of a probe: one webhook from a number outside the flood,
on a connection of its own. After the flood it keeps sampling for `--settle` seconds
(what is released once the attack stops), then stops the server with SIGTERM.

    cargo build --release
    python3 benches/flood.py --bin target/release/sportello --numbers 150000 [--graph fake]

Only the standard library; only 127.0.0.1 is contacted. Figures: BENCHMARKS.md, "A flood of
distinct numbers".
"""

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SECRET = "flood-app-secret"
PHONE_NUMBER_ID = "pn-flood"
TEXTS = ["ciao", "MI ISCRIVO"]


def status(pid):
    """VmRSS and VmHWM of `pid` in MB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":")
                out[key] = int(value.split()[0]) / 1024
    return out["VmRSS"], out["VmHWM"]


def cpu_seconds(pid):
    """User and system CPU time `pid` has used so far, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def webhook(messages):
    """A signed webhook body (bytes) and its X-Hub-Signature-256, as Meta sends them."""
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "waba", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "390000000000", "phone_number_id": PHONE_NUMBER_ID},
            "contacts": [{"profile": {"name": "Flood"}, "wa_id": messages[0]["from"]}],
            "messages": messages,
        }}]}],
    }
    raw = json.dumps(body, separators=(",", ":")).encode()
    sig = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return raw, sig


def messages_of(i, now, n):
    """Number i's messages in pass n: "ciao" or "MI ISCRIVO", every third number both."""
    number = f"39{3_000_000_000 + i}"
    texts = TEXTS if i % 3 == 0 else [TEXTS[i % 2]]
    return [{"from": number, "id": f"wamid.flood.{n}.{i}.{j}", "timestamp": str(now), "type": "text",
             "text": {"body": t}} for j, t in enumerate(texts)]


class Conn:
    """One keep-alive HTTP/1.1 connection to the server."""

    def __init__(self, port):
        self.port = port
        self.reader = self.writer = None

    async def post(self, raw, sig):
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        head = (f"POST /webhook/whatsapp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"X-Hub-Signature-256: {sig}\r\nContent-Length: {len(raw)}\r\n\r\n").encode()
        try:
            self.writer.write(head + raw)
            await self.writer.drain()
            line = await self.reader.readline()
            code = int(line.split()[1])
            length, close = 0, False
            while True:
                h = await self.reader.readline()
                if h in (b"\r\n", b""):
                    break
                name, _, value = h.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
                if name.lower() == "connection" and value.strip().lower() == "close":
                    close = True
            await self.reader.readexactly(length)
            if close:
                self.reset()
            return code
        except (OSError, IndexError, ValueError, asyncio.IncompleteReadError):
            self.reset()
            return 0

    def reset(self):
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def flood(args, counters, n):
    """Sends every number's messages; returns when all were answered 200. The first pass
    goes through the numbers in order; a later one writes again from every number, in a
    shuffled order, as citizens already in the store."""
    now = int(time.time())
    numbers = list(range(args.numbers))
    if n > 0:
        random.Random(n).shuffle(numbers)
    queue = []
    batch = []
    for i in numbers:
        batch.extend(messages_of(i, now, n))
        if len(batch) >= args.batch:
            queue.append(batch)
            batch = []
    if batch:
        queue.append(batch)
    queue.reverse()

    async def worker():
        conn = Conn(args.port)
        while queue:
            raw, sig = webhook(queue.pop())
            while True:
                code = await conn.post(raw, sig)
                if code == 200:
                    counters["ok"] += 1
                    counters["messages"] += json.loads(raw)["entry"][0]["changes"][0]["value"]["messages"].__len__()
                    break
                counters["retried"] += 1
                await asyncio.sleep(1)
        conn.reset()

    await asyncio.gather(*(worker() for _ in range(args.connections)))


async def probe(args, counters, done):
    """Every second, one webhook from a number outside the flood: its time to 200."""
    conn, n = Conn(args.port), 0
    while not done.is_set():
        n += 1
        msg = {"from": f"39{4_000_000_000 + n}", "id": f"wamid.probe.{n}", "timestamp": str(int(time.time())),
               "type": "text", "text": {"body": "ciao"}}
        raw, sig = webhook([msg])
        started = time.monotonic()
        code = await conn.post(raw, sig)
        ms = (time.monotonic() - started) * 1000
        counters["probe_ms"] = ms
        counters["probe_max_ms"] = max(counters["probe_max_ms"], ms)
        if code != 200:
            counters["probe_failed"] += 1
        try:
            await asyncio.wait_for(done.wait(), 1)
        except asyncio.TimeoutError:
            pass
    conn.reset()


async def stepped(port, limit=60):
    """Waits (at most `limit` s) until every message answered has been stepped: no citizen
    busy and an empty backlog in /metrics."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        text = (await reader.read()).decode()
        writer.close()
        if "\nsportello_citizens_busy 0\n" in text and "\nsportello_backlog 0\n" in text:
            return
        await asyncio.sleep(0.2)


async def sample(pid, counters, started, stop):
    while not stop.is_set():
        rss, hwm = status(pid)
        t = time.monotonic() - started
        print(f"t={t:6.1f}s webhooks={counters['ok']:7d} messages={counters['messages']:7d} "
              f"VmRSS={rss:6.1f}MB VmHWM={hwm:6.1f}MB probe={counters['probe_ms']:7.1f}ms", flush=True)
        try:
            await asyncio.wait_for(stop.wait(), 1)
        except asyncio.TimeoutError:
            pass


async def main(args, pid):
    counters = {"ok": 0, "messages": 0, "retried": 0, "probe_ms": 0.0, "probe_max_ms": 0.0, "probe_failed": 0}
    started = time.monotonic()
    stop, done = asyncio.Event(), asyncio.Event()
    sampler = asyncio.create_task(sample(pid, counters, started, stop))
    prober = asyncio.create_task(probe(args, counters, done))
    for n in range(args.passes):
        begun, ok, messages, cpu = time.monotonic(), counters["ok"], counters["messages"], cpu_seconds(pid)
        await flood(args, counters, n)
        elapsed = time.monotonic() - begun
        await stepped(args.port)
        ok, messages = counters["ok"] - ok, counters["messages"] - messages
        cpu = cpu_seconds(pid) - cpu
        rss, hwm = status(pid)
        print(f"pass {n + 1}: {ok} webhooks ({messages} messages from {args.numbers} numbers) "
              f"in {elapsed:.1f} s = {ok / elapsed:.0f} webhooks/s, {messages / elapsed:.0f} messages/s; "
              f"server CPU {cpu:.1f} s ({1000 * cpu / messages:.2f} ms a message); "
              f"{counters['retried']} sent again after a 503 or a lost connection; probe max "
              f"{counters['probe_max_ms']:.1f} ms, {counters['probe_failed']} probes not 200; "
              f"VmRSS {rss:.1f} MB, VmHWM {hwm:.1f} MB", flush=True)
    done.set()
    await prober
    await asyncio.sleep(args.settle)
    stop.set()
    await sampler
    rss, hwm = status(pid)
    print(f"after {args.settle} s more: VmRSS {rss:.1f} MB, VmHWM {hwm:.1f} MB", flush=True)


async def fake_graph(port):
    """A Graph API that accepts every request at once (`--graph fake`): replies leave."""
    sent = 0

    async def serve(reader, writer):
        nonlocal sent
        try:
            while True:
                length = 0
                line = await reader.readline()
                if not line:
                    break
                while True:
                    h = await reader.readline()
                    if h in (b"\r\n", b""):
                        break
                    name, _, value = h.decode().partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                await reader.readexactly(length)
                sent += 1
                body = json.dumps({"messages": [{"id": f"wamid.fake.{sent}"}], "success": True}).encode()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                             + str(len(body)).encode() + b"\r\n\r\n" + body)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(port, child):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if child.poll() is not None:
            sys.exit(f"sportello serve exited with {child.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit("sportello serve did not answer /healthz within 30 s")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bin", default="target/release/sportello", help="the sportello binary")
    p.add_argument("--numbers", type=int, default=150_000, help="distinct numbers")
    p.add_argument("--batch", type=int, default=1, help="messages a webhook")
    p.add_argument("--connections", type=int, default=32, help="client connections")
    p.add_argument("--passes", type=int, default=1,
                   help="passes over the numbers; the later ones write again as known citizens")
    p.add_argument("--settle", type=int, default=20, help="seconds sampled after the flood")
    p.add_argument("--graph", choices=["closed", "fake"], default="closed",
                   help="the Graph API: a closed port (every send refused, retried with back-off) or a "
                        "fake that accepts everything, in a process of its own")
    p.add_argument("--fake-graph", type=int, help=argparse.SUPPRESS)
    p.add_argument("--no-token", action="store_true",
                   help="no SPORTELLO_WHATSAPP_TOKEN: replies wait for credentials instead of being tried")
    args = p.parse_args()
    if args.fake_graph:
        asyncio.run(fake_graph(args.fake_graph))
        sys.exit(0)

    dir = tempfile.mkdtemp(prefix="sportello-flood-")
    args.port = free_port()
    graph, graph_url = None, "http://127.0.0.1:9/v23.0"
    if args.graph == "fake":
        graph_port = free_port()
        graph = subprocess.Popen([sys.executable, __file__, "--fake-graph", str(graph_port)])
        graph_url = f"http://127.0.0.1:{graph_port}/v23.0"
    with open(os.path.join(dir, "config.toml"), "w") as f:
        f.write(f'[server]\nbind = "127.0.0.1:{args.port}"\n\n'
                f'[whatsapp]\n# Loopback only: nothing leaves the machine.\ngraph_url = "{graph_url}"\n\n'
                f'[comuni.brusson]\nwhatsapp_phone_number_id = "{PHONE_NUMBER_ID}"\n')
    env = dict(os.environ, SPORTELLO_WHATSAPP_APP_SECRET=SECRET, SPORTELLO_LOG="warn")
    if not args.no_token:
        env["SPORTELLO_WHATSAPP_TOKEN"] = "flood-token"
    log = open(os.path.join(dir, "serve.log"), "w")
    child = subprocess.Popen([os.path.abspath(args.bin), "serve", "--config", "config.toml",
                              "--data", os.path.join(dir, "data")], cwd=dir, env=env,
                             stdout=log, stderr=log)
    try:
        wait_healthy(args.port, child)
        print(f"sportello serve pid {child.pid} on 127.0.0.1:{args.port}; {os.cpu_count()} cores; "
              f"{args.numbers} numbers, {args.batch} messages a webhook, {args.connections} connections",
              flush=True)
        asyncio.run(main(args, child.pid))
    finally:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(30)
        except subprocess.TimeoutExpired:
            child.kill()
        if graph is not None:
            graph.kill()
        shutil.rmtree(dir, ignore_errors=True)
