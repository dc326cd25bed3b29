"""Workflow notices reach a local webhook receiver: retried while it fails, never delaying the action."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.notify import Notifier
from api.settings import Settings
from tests.api.test_incidents import act, grid_point, report

WAIT_SECONDS = 30  # how long a test waits for a delivery before failing (not a measured time)


class Receiver:
    """A robot's endpoint on 127.0.0.1: fails the first `failures` posts with 500, then answers {"errcode": 0};
    while `gate` is closed it holds each post until the gate opens."""

    def __init__(self, failures: int = 0) -> None:
        self.failures, self.attempts, self.bodies = failures, 0, []
        self.gate, self.arrived, self.delivered = threading.Event(), threading.Event(), threading.Event()
        self.gate.set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.arrived.set()
                receiver.gate.wait(WAIT_SECONDS)
                receiver.attempts += 1
                if receiver.attempts <= receiver.failures:
                    self.send_response(500)
                    self.end_headers()
                    return
                receiver.bodies.append(body)
                answer = b'{"errcode": 0, "errmsg": "ok"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
                receiver.delivered.set()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cgi-bin/webhook/send?key=test"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.gate.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(request: pytest.FixtureRequest) -> Iterator[Receiver]:
    found = Receiver(failures=getattr(request, "param", 0))
    yield found
    found.stop()


def _client(settings: Settings, hooks: dict[str, str]) -> TestClient:
    return TestClient(create_app(settings.model_copy(update={"webhooks": hooks, "webhook_backoff_seconds": 0.05})))


@pytest.mark.parametrize("receiver", [2], indirect=True)
def test_a_failing_robot_is_retried_until_it_accepts(settings, store, auth, users, receiver) -> None:
    with _client(settings, {"urban_management": receiver.url}) as client:
        lon, lat = grid_point(store, users["worker"][1])
        cid = report(client, auth("worker"), lon, lat)["id"]
        for username, action in [("worker", "escalate"), ("leader_c", "escalate")]:
            assert act(client, auth(username), cid, action).status_code == 200
        assert not receiver.arrived.is_set()  # the department hears nothing before the case is dispatched to it
        assert act(client, auth("leader_s"), cid, "dispatch", note="请尽快处置").status_code == 200
        assert receiver.delivered.wait(WAIT_SECONDS)
    assert receiver.attempts == 3  # two 500s, then accepted
    [body] = receiver.bodies
    assert body["msgtype"] == "text" and f"案件 {cid}" in body["text"]["content"]
    assert "派遣部门" in body["text"]["content"] and "请尽快处置" in body["text"]["content"]


def test_the_action_answers_while_the_robot_is_still_busy(settings, store, auth, users, receiver) -> None:
    receiver.gate.clear()  # the robot holds every post until the test lets it go
    street = users["leader_s"][1]
    with _client(settings, {street: receiver.url}) as client:
        lon, lat = grid_point(store, users["worker"][1])
        cid = report(client, auth("worker"), lon, lat)["id"]
        answer = act(client, auth("worker"), cid, "accept")
        assert answer.status_code == 200 and answer.json()["status"] == "accepted"
        assert receiver.arrived.wait(WAIT_SECONDS)  # the notice is on its way ...
        assert not receiver.delivered.is_set()  # ... and still held, yet the action has answered
        second = act(client, auth("worker"), cid, "handle")
        assert second.status_code == 200 and second.json()["status"] == "handled"
        receiver.gate.set()
        assert receiver.delivered.wait(WAIT_SECONDS)
    texts = [b["text"]["content"] for b in receiver.bodies]
    assert len(texts) == 2 and "受理" in texts[0] and "处置" in texts[1]


def test_a_robot_that_never_accepts_is_given_up(receiver) -> None:
    receiver.failures = 10**6
    notifier = Notifier(retries=2, backoff_seconds=0.01, timeout_seconds=5)
    notifier.send(receiver.url, {"msgtype": "text", "text": {"content": "测试"}})
    notifier.flush()
    notifier.close()
    assert receiver.attempts == 3 and receiver.bodies == []
