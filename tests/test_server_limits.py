"""The receiver against hostile senders, over real sockets: bodies too large or too deep,
hostile codenames, connections that never finish, and a slow-connection flood.

The big versions (1,100 connections under ``ulimit -n 1024``, a 1 GB body) are in
tests/soak/; these are the same checks at a size the normal suite can afford.
"""

from __future__ import annotations

import json
import socket
import threading
import time

import httpx
import pytest

from kontent_ssg.content.webhooks import sign_webhook
from kontent_ssg.incremental.state import BuildState, state_path
from kontent_ssg.server import (
    NotificationWorker,
    ServerLimits,
    serve_in_thread,
    webhook_app,
)
from tests.support.receiver import SECRET, Recorder, signed, v2_body, wait_for
from tests.support.receiver_process import FloodProcess, ReceiverProcess


@pytest.fixture
def start(tmp_path):
    """Start a receiver in this process: ``start(max_body=..., limits=...)``."""
    handles: list = []

    def run(*, max_body: int | None = None, limits: ServerLimits | None = None):
        state = BuildState(state_path(tmp_path / f"site{len(handles)}"))
        recorder = Recorder()
        logged: list[str] = []
        worker = NotificationWorker(state, recorder, debounce=0.05, log=logged.append)
        extra = {} if max_body is None else {"max_body": max_body}
        app = webhook_app(state, worker, path="/hook", secret=SECRET, **extra)
        handle = serve_in_thread(app, limits=limits)
        handles.append(handle)
        return handle, state, recorder, logged

    yield run
    for handle in handles:
        handle.stop()


def raw_request(port: int, head: bytes, *, timeout: float = 10.0) -> bytes:
    """Send ``head`` (request line and headers, no body) and read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head)
        return read_all(sock)


def read_all(sock: socket.socket) -> bytes:
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    return data


def closed_by_server(sock: socket.socket, timeout: float) -> bool:
    """True when the server closes ``sock`` (EOF or reset) within ``timeout`` seconds."""
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        pass
    return True


# -- bodies ------------------------------------------------------------------------------------


def test_content_length_over_the_limit_is_413_without_reading_the_body(start):
    handle, state, _, _ = start()
    answer = raw_request(
        handle.port,
        b"POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000000000\r\n\r\n",
    )
    # Answered (and the connection closed) although not one byte of the body was sent.
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"body larger than 1048576 bytes" in answer
    assert state.queue_counts()["pending"] == 0


def test_chunked_body_growing_past_the_limit_is_413_as_soon_as_it_does(start):
    handle, state, _, _ = start(max_body=100_000)
    sent = {"bytes": 0}

    with socket.create_connection(("127.0.0.1", handle.port), timeout=10) as sock:

        def send() -> None:
            sock.sendall(
                b"POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
            chunk = b"[" * 10_000
            try:
                for _ in range(1000):  # up to 10 MB, far past the limit
                    sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    sent["bytes"] += len(chunk)
            except OSError:
                pass  # the server answered and closed: the rest is never read

        sender = threading.Thread(target=send)
        sender.start()
        answer = read_all(sock)
        sender.join(30)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent["bytes"] < 10_000_000  # cut off, not read to the end
    assert state.queue_counts()["pending"] == 0


def test_body_of_exactly_the_limit_is_read_one_byte_more_is_not(start):
    body = v2_body("at_the_limit")
    padded = body[:-1] + b" " * 100 + body[-1:]
    handle, _, recorder, _ = start(max_body=len(padded))
    assert (
        httpx.post(f"{handle.url}/hook", content=padded, headers=signed(padded)).status_code == 202
    )
    over = padded[:-1] + b" " + padded[-1:]
    response = httpx.post(f"{handle.url}/hook", content=over, headers=signed(over))
    assert response.status_code == 413
    wait_for(lambda: recorder.codenames, what="the body at the limit applied")
    assert recorder.codenames == ["at_the_limit"]


def test_signed_body_nested_100k_deep_is_400_not_500(start):
    handle, state, _, _ = start()
    body = b"[" * 100_000 + b"]" * 100_000
    response = httpx.post(f"{handle.url}/hook", content=body, headers=signed(body), timeout=30)
    assert response.status_code == 400
    assert "nested deeper" in response.json()["error"]
    unclosed = b'{"notifications": ' + b"[" * 100_000
    response = httpx.post(f"{handle.url}/hook", content=unclosed, headers=signed(unclosed))
    assert response.status_code == 400
    assert state.queue_counts()["pending"] == 0


def test_unsigned_body_is_refused_before_it_is_parsed(start):
    handle, _, _, _ = start()
    body = b"[" * 100_000  # would be a 400 if it were parsed
    assert httpx.post(f"{handle.url}/hook", content=body).status_code == 401


# -- hostile codenames -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "codename", ["a?b", "a#b", "../../languages", "a/b", "Gamma", "a\x1b[2Jb", "x" * 61, "1abc"]
)
def test_signed_webhook_with_a_hostile_codename_is_400_and_queues_nothing(start, codename):
    handle, state, recorder, _ = start()
    body = v2_body(codename)
    response = httpx.post(f"{handle.url}/hook", content=body, headers=signed(body))
    assert response.status_code == 400
    assert "is not a Kontent.ai codename" in response.json()["error"]
    assert state.queue_counts() == {"pending": 0, "done": 0}
    later = v2_body("later_item")
    assert httpx.post(f"{handle.url}/hook", content=later, headers=signed(later)).status_code == 202
    wait_for(lambda: recorder.codenames, what="the next webhook applied")
    assert recorder.codenames == ["later_item"]


def test_mixed_body_queues_the_valid_notifications_and_logs_the_others(start):
    handle, _state, recorder, logged = start()
    good = json.loads(v2_body("good_one"))["notifications"][0]
    bad = json.loads(v2_body("bad?one"))["notifications"][0]
    body = json.dumps({"notifications": [bad, good]}).encode()
    response = httpx.post(f"{handle.url}/hook", content=body, headers=signed(body))
    assert response.status_code == 202
    wait_for(lambda: recorder.codenames, what="the valid notification applied")
    assert recorder.codenames == ["good_one"]
    assert any("ignored a notification" in line and "'bad?one'" in line for line in logged)


def test_legacy_body_with_a_hostile_codename_is_400(start):
    handle, state, _, _ = start()
    body = json.dumps(
        {
            "message": {"type": "content_item_variant", "operation": "publish"},
            "data": {"items": [{"codename": "../x", "language": "en-US"}], "taxonomies": []},
        }
    ).encode()
    headers = {"X-KC-Signature": sign_webhook(body, SECRET)}
    assert httpx.post(f"{handle.url}/hook", content=body, headers=headers).status_code == 400
    assert state.queue_counts()["pending"] == 0


# -- slow connections --------------------------------------------------------------------------


def test_connection_that_never_finishes_its_headers_is_closed(start):
    handle, _, _, _ = start(limits=ServerLimits(header_timeout=0.5))
    with socket.create_connection(("127.0.0.1", handle.port), timeout=10) as sock:
        sock.sendall(b"POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        closed = False
        for _ in range(100):  # one header byte every 0.1 s: each byte alone is in time
            try:
                sock.sendall(b"X")
            except OSError:
                closed = True
                break
            if closed_by_server(sock, 0.1):
                closed = True
                break
        assert closed


def test_silent_connection_is_closed(start):
    handle, _, _, _ = start(limits=ServerLimits(header_timeout=0.5))
    with socket.create_connection(("127.0.0.1", handle.port), timeout=10) as sock:
        assert closed_by_server(sock, 10.0)


def test_body_that_stalls_is_closed_and_nothing_is_queued(start):
    handle, state, _, _ = start(limits=ServerLimits(body_timeout=0.5))
    with socket.create_connection(("127.0.0.1", handle.port), timeout=10) as sock:
        sock.sendall(
            b"POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n" + b"{" * 10
        )
        assert closed_by_server(sock, 10.0)
    assert state.queue_counts()["pending"] == 0


def test_keep_alive_connection_serves_a_second_request(start):
    handle, _, recorder, _ = start(limits=ServerLimits(header_timeout=0.5))
    with httpx.Client(timeout=10) as client:
        for name in ("first_one", "second_one"):
            body = v2_body(name)
            response = client.post(f"{handle.url}/hook", content=body, headers=signed(body))
            assert response.status_code == 202
            time.sleep(0.7)  # longer than the header deadline: idle is not "slow headers"
    wait_for(lambda: len(recorder.codenames) == 2, what="both applied")


def test_at_the_connection_cap_the_slowest_senders_make_room_for_a_new_client(start):
    handle, _, recorder, _ = start(limits=ServerLimits(max_connections=20, header_timeout=60))
    slow = []
    try:
        for _ in range(50):
            sock = socket.create_connection(("127.0.0.1", handle.port), timeout=10)
            sock.sendall(b"POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            slow.append(sock)
        body = v2_body("gets_in")
        response = httpx.post(f"{handle.url}/hook", content=body, headers=signed(body), timeout=10)
        assert response.status_code == 202
        # The server holds at most 20 connections: at least 30 of the 50 were shed (the
        # oldest first), although none of them reached its header deadline.
        shed = sum(closed_by_server(sock, 0.05) for sock in slow)
        assert shed >= 30
        assert not closed_by_server(slow[-1], 0.05)  # the newest slow one is still open
    finally:
        for sock in slow:
            sock.close()
    wait_for(lambda: recorder.codenames, what="applied")


def test_webhook_gets_its_202_during_a_slow_connection_flood_under_a_low_file_limit(tmp_path):
    """300 slowloris connections against a receiver limited to 256 open files: without a
    connection cap it could not accept anything more; with it, a signed webhook gets in
    (and the receiver never runs out of files: it would stop accepting for a second)."""
    receiver = ReceiverProcess(
        tmp_path, "--secret", SECRET, "--nofile", "256", "--max-connections", "60"
    )
    flood = None
    try:
        flood = FloodProcess(receiver.port, 300)
        time.sleep(1.0)  # the flood is established (and re-established as it is shed)
        body = v2_body("during_the_flood")
        started = time.perf_counter()
        response = httpx.post(
            f"{receiver.url}/hook", content=body, headers=signed(body), timeout=30
        )
        took = time.perf_counter() - started
        assert response.status_code == 202, response.text
        print(f"legitimate webhook during a 300-connection flood: {took * 1000:.1f} ms")
        wait_for(lambda: receiver.applied(), what="applied during the flood")
        counts = flood.stop()
        flood = None
        assert counts["closed_by_server"] > 0, counts
        assert receiver.applied() == ["during_the_flood"]
        assert "Too many open files" not in receiver.stderr.read_text()
    finally:
        if flood is not None:
            flood.stop()
        receiver.stop()
