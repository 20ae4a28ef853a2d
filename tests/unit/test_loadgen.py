"""Tests for bench/loadgen.py against tiny real asyncio HTTP servers on 127.0.0.1.

Every test drives its own event loop with ``asyncio.run`` so nothing depends on
a conftest or on pytest-asyncio.  Timing bounds are deliberately generous so the
tests stay green on a busy 2-core machine.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import pytest

_LOADGEN_PATH = Path(__file__).resolve().parents[2] / "bench" / "loadgen.py"


def _load_loadgen() -> ModuleType:
    name = "bench_loadgen_under_test"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, _LOADGEN_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses need the module registered
    spec.loader.exec_module(module)
    return module


loadgen = _load_loadgen()

T = TypeVar("T")

OK_BODY = b'{"ok": true}'


def _ok_response(body: bytes = OK_BODY, extra: bytes = b"") -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + extra
        + b"Content-Length: %d\r\n\r\n" % len(body)
        + body
    )


def _chunked_response(pieces: list[bytes]) -> bytes:
    out = [b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"]
    out.append(b"Transfer-Encoding: chunked\r\n\r\n")
    for n, piece in enumerate(pieces):
        ext = b";name=value" if n == 0 else b""
        out.append(b"%X%s\r\n%s\r\n" % (len(piece), ext, piece))
    out.append(b"0\r\nX-Trailer: yes\r\n\r\n")
    return b"".join(out)


CHUNK_PIECES = [b'{"items": [', b"1, 2, 3, " * 3, b'"x"', b"], " + b'"pad": "' + b"p" * 300 + b'"}']


class MiniServer:
    """A minimal HTTP/1.1 server; ``mode`` selects the behaviour."""

    def __init__(self, mode: str = "ok", delay_s: float = 0.0) -> None:
        self.mode = mode
        self.delay_s = delay_s
        self.connections = 0
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self._server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> MiniServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    def _response(self) -> bytes:
        if self.mode == "error500":
            body = b'{"error": "boom"}'
            return b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: %d\r\n\r\n%s" % (
                len(body),
                body,
            )
        if self.mode == "chunked":
            return _chunked_response(CHUNK_PIECES)
        if self.mode == "close_header":
            return _ok_response(extra=b"Connection: close\r\n")
        return _ok_response()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    if line:
                        key, _, value = line.partition(":")
                        headers[key.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append((lines[0], headers, body))
                if self.mode == "hang":
                    await asyncio.sleep(3600)
                if self.delay_s:
                    await asyncio.sleep(self.delay_s)
                writer.write(self._response())
                await writer.drain()
                if self.mode in ("close_header", "abrupt_close"):
                    return  # finally closes the socket after every response
        finally:
            writer.close()


def run(coro_fn: Callable[[], Awaitable[T]]) -> T:
    async def wrapper() -> T:
        return await coro_fn()

    return asyncio.run(wrapper())


def _body(i: int) -> bytes:
    return json.dumps({"n": i}).encode()


def _headers(i: int) -> dict[str, str]:
    return {"Idempotency-Key": f"key-{i}"}


# --------------------------------------------------------------------------
# (1) open loop basic


def test_open_loop_sends_rate_times_duration_and_all_complete() -> None:
    async def scenario() -> tuple[Any, MiniServer]:
        async with MiniServer() as srv:
            res = await loadgen.open_loop(
                host="127.0.0.1",
                port=srv.port,
                method="POST",
                path="/orders",
                body_factory=_body,
                headers_factory=_headers,
                rate=200,
                duration_s=1.0,
                connections=10,
            )
            return res, srv

    res, srv = run(scenario)
    assert res.sent == 200
    assert res.completed == 200
    assert res.errors == {}
    assert len(res.latencies_ms) == 200
    assert all(lat >= 0 for lat in res.latencies_ms)
    # Requests were spread over ~1 s (the last one is scheduled at t0 + 0.995 s).
    assert 0.95 <= res.elapsed_s < 10.0
    assert res.throughput == pytest.approx(res.completed / res.elapsed_s)
    # The server really got the bodies / headers from the factories.
    assert len(srv.requests) == 200
    assert {r[0] for r in srv.requests} == {"POST /orders HTTP/1.1"}
    assert sorted(json.loads(r[2])["n"] for r in srv.requests) == list(range(200))
    assert {r[1]["idempotency-key"] for r in srv.requests} == {f"key-{i}" for i in range(200)}
    assert all(r[1]["content-type"] == "application/json" for r in srv.requests)
    assert all(r[1]["host"] == f"127.0.0.1:{srv.port}" for r in srv.requests)
    # Keep-alive: no more connections than the pool size, no reconnects.
    assert srv.connections <= 10
    assert res.reconnects == 0

    summary = res.summary()
    assert summary["count"] == 200
    assert summary["errors"] == 0
    for key in ("p50", "p95", "p99", "max", "mean", "throughput"):
        assert isinstance(summary[key], float)
    assert summary["p50"] <= summary["p95"] <= summary["p99"] <= summary["max"]
    json.dumps(summary)  # JSON-able


# --------------------------------------------------------------------------
# (2) coordinated omission is not hidden


def test_open_loop_latency_includes_queueing_behind_slow_server() -> None:
    # 100 req/s offered, but one connection to a server taking 50 ms per
    # request can only do ~20 req/s: requests queue up, and since latency is
    # measured from the *scheduled* time, it must grow roughly linearly
    # (request i waits ~ i * 40 ms).  A closed-loop-ish measurement would
    # report ~50 ms for every request.
    async def scenario() -> Any:
        async with MiniServer(delay_s=0.05) as srv:
            return await loadgen.open_loop(
                host="127.0.0.1",
                port=srv.port,
                method="POST",
                path="/slow",
                body_factory=_body,
                rate=100,
                duration_s=0.5,
                connections=1,
            )

    res = run(scenario)
    assert res.sent == 50
    assert res.completed == 50
    assert res.errors == {}
    assert min(res.latencies_ms) >= 45.0  # every request takes >= 50 ms service
    p99 = loadgen.percentile(res.latencies_ms, 99)
    assert p99 > 500.0  # >> 50 ms: the queueing shows up (ideal value ~2 s)
    assert max(res.latencies_ms) > 1000.0
    # Latency grows over the run: last tenth is far slower than the first tenth.
    first, last = res.latencies_ms[:5], res.latencies_ms[-5:]
    assert min(last) > max(first) + 500.0


# --------------------------------------------------------------------------
# (3) closed loop


def test_closed_loop_reports_throughput_and_no_errors() -> None:
    async def scenario() -> Any:
        async with MiniServer() as srv:
            return await loadgen.closed_loop(
                host="127.0.0.1",
                port=srv.port,
                method="GET",
                path="/health",
                body_factory=None,
                duration_s=0.5,
                connections=4,
            )

    res = run(scenario)
    assert res.errors == {}
    assert res.completed > 0
    assert res.sent == res.completed
    assert res.throughput > 0
    assert res.elapsed_s >= 0.5
    assert res.summary()["throughput"] > 0


# --------------------------------------------------------------------------
# (4) non-2xx counted by status code


def test_status_500_counted_as_errors_by_status_code() -> None:
    async def scenario() -> Any:
        async with MiniServer(mode="error500") as srv:
            return await loadgen.open_loop(
                host="127.0.0.1",
                port=srv.port,
                method="POST",
                path="/fail",
                body_factory=_body,
                rate=40,
                duration_s=0.5,
                connections=2,
            )

    res = run(scenario)
    assert res.sent == 20
    assert res.completed == 0
    assert res.errors == {"500": 20}
    assert res.latencies_ms == []
    summary = res.summary()
    assert summary["errors"] == 20
    assert summary["errors_by_kind"] == {"500": 20}
    assert summary["p99"] is None
    assert res.reconnects == 0  # error answers keep the connection alive


# --------------------------------------------------------------------------
# (5) chunked


def test_chunked_response_is_parsed() -> None:
    async def scenario() -> tuple[list[tuple[int, bytes]], Any, MiniServer]:
        async with MiniServer(mode="chunked") as srv:
            conn = loadgen.Connection("127.0.0.1", srv.port)
            req = b"GET /c HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            answers = [await conn.request(req) for _ in range(3)]  # same connection
            conn.close()
            res = await loadgen.open_loop(
                host="127.0.0.1",
                port=srv.port,
                method="GET",
                path="/c",
                body_factory=None,
                rate=100,
                duration_s=0.3,
                connections=1,
            )
            return answers, res, srv

    answers, res, srv = run(scenario)
    assert answers == [(200, b"".join(CHUNK_PIECES))] * 3
    # Each chunked body (incl. extension and trailer) was consumed exactly, so
    # the keep-alive connection stayed in sync for every following response.
    assert res.sent == 30
    assert res.completed == 30
    assert res.errors == {}
    assert res.reconnects == 0
    assert srv.connections == 2  # one for the direct requests, one for the run


# --------------------------------------------------------------------------
# (6) server closing the connection


@pytest.mark.parametrize("mode", ["close_header", "abrupt_close"])
def test_reconnects_when_server_closes_after_each_response(mode: str) -> None:
    async def scenario() -> tuple[Any, MiniServer]:
        async with MiniServer(mode=mode) as srv:
            res = await loadgen.open_loop(
                host="127.0.0.1",
                port=srv.port,
                method="POST",
                path="/once",
                body_factory=_body,
                rate=50,
                duration_s=0.5,
                connections=1,
            )
            return res, srv

    res, srv = run(scenario)
    assert res.sent == 25
    assert res.completed == 25
    assert res.errors == {}
    # The first request uses the pre-opened connection; every later one needs
    # a fresh connection, which is counted as a reconnect.
    assert res.reconnects == 24
    assert srv.connections == 25
    assert len(srv.requests) == 25  # the stale-connection retry never double-sends here


def test_closed_loop_survives_connection_close() -> None:
    async def scenario() -> Any:
        async with MiniServer(mode="abrupt_close") as srv:
            return await loadgen.closed_loop(
                host="127.0.0.1",
                port=srv.port,
                method="GET",
                path="/",
                body_factory=None,
                duration_s=0.3,
                connections=2,
            )

    res = run(scenario)
    assert res.errors == {}
    assert res.completed > 0
    assert res.reconnects >= res.completed - 2


# --------------------------------------------------------------------------
# timeouts and transport errors


def test_per_request_timeout_counts_as_error() -> None:
    async def scenario() -> Any:
        async with MiniServer(mode="hang") as srv:
            return await loadgen.open_loop(
                host="127.0.0.1",
                port=srv.port,
                method="POST",
                path="/hang",
                body_factory=_body,
                rate=20,
                duration_s=0.5,
                connections=2,
                timeout_s=0.3,
            )

    res = run(scenario)
    assert res.sent == 10
    assert res.completed == 0
    assert res.errors == {"TimeoutError": 10}
    assert res.elapsed_s < 5.0


def test_connection_refused_counted_by_exception_name() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nobody listens there

    async def scenario() -> Any:
        return await loadgen.open_loop(
            host="127.0.0.1",
            port=port,
            method="GET",
            path="/",
            body_factory=None,
            rate=20,
            duration_s=0.25,
            connections=2,
        )

    res = run(scenario)
    assert res.sent == 5
    assert res.completed == 0
    assert res.errors == {"ConnectionRefusedError": 5}


# --------------------------------------------------------------------------
# (7) percentile


def test_percentile_nearest_rank_known_values() -> None:
    # Nearest rank: value at 1-based rank ceil(q/100 * n) of the sorted list.
    data = [35.0, 20.0, 15.0, 50.0, 40.0]  # unsorted on purpose
    assert loadgen.percentile(data, 0) == 15.0
    assert loadgen.percentile(data, 5) == 15.0
    assert loadgen.percentile(data, 20) == 15.0
    assert loadgen.percentile(data, 30) == 20.0
    assert loadgen.percentile(data, 40) == 20.0
    assert loadgen.percentile(data, 50) == 35.0
    assert loadgen.percentile(data, 100) == 50.0

    hundred = [float(v) for v in range(100, 0, -1)]  # 1..100 reversed
    assert loadgen.percentile(hundred, 50) == 50.0
    assert loadgen.percentile(hundred, 95) == 95.0
    assert loadgen.percentile(hundred, 99) == 99.0
    assert loadgen.percentile(hundred, 99.5) == 100.0
    assert loadgen.percentile(hundred, 7) == 7.0  # no float-noise off-by-one

    thousand = [float(v) for v in range(1, 1001)]
    assert loadgen.percentile(thousand, 99.9) == 999.0

    assert loadgen.percentile([3.5], 0) == 3.5
    assert loadgen.percentile([3.5], 99) == 3.5
    assert data == [35.0, 20.0, 15.0, 50.0, 40.0]  # input not mutated


def test_percentile_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        loadgen.percentile([], 50)
    with pytest.raises(ValueError):
        loadgen.percentile([1.0], 101)
    with pytest.raises(ValueError):
        loadgen.percentile([1.0], -1)


def test_summary_uses_percentile() -> None:
    res = loadgen.RunResult(
        sent=12,
        completed=10,
        errors={"500": 1, "TimeoutError": 1},
        latencies_ms=[float(v) for v in range(10, 0, -1)],
        elapsed_s=2.0,
        throughput=5.0,
    )
    s = res.summary()
    assert s["count"] == 10
    assert s["errors"] == 2
    assert s["errors_by_kind"] == {"500": 1, "TimeoutError": 1}
    assert (s["p50"], s["p95"], s["p99"], s["max"]) == (5.0, 10.0, 10.0, 10.0)
    assert s["mean"] == 5.5
    assert s["throughput"] == 5.0


# --------------------------------------------------------------------------
# CLI


def test_cli_prints_json_summary(tmp_path: Path) -> None:
    body_file = tmp_path / "body.json"
    body_file.write_bytes(b'{"hello": "world"}')

    async def scenario() -> tuple[int, bytes, bytes, MiniServer]:
        async with MiniServer() as srv:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                str(_LOADGEN_PATH),
                "--url",
                f"http://127.0.0.1:{srv.port}/cli?x=1",
                "--rate",
                "50",
                "--duration",
                "0.4",
                "--connections",
                "3",
                "--body-file",
                str(body_file),
                "-H",
                "X-Test: 1",
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await asyncio.wait_for(proc.communicate(), 60)
            assert proc.returncode is not None
            return proc.returncode, out, err, srv

    code, out, err, srv = run(scenario)
    assert code == 0, err.decode()
    summary = json.loads(out)
    assert summary["count"] == 20
    assert summary["errors"] == 0
    assert summary["mode"] == "open"
    assert {r[0] for r in srv.requests} == {"POST /cli?x=1 HTTP/1.1"}
    assert {r[2] for r in srv.requests} == {b'{"hello": "world"}'}
    assert {r[1]["x-test"] for r in srv.requests} == {"1"}
