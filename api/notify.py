"""Sends workflow notices to webhooks from one background thread, retrying with exponential backoff, so that
the request that caused a notice never waits for it (geogrid.incidents.notices decides who hears what)."""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import BackgroundTasks, Request

from geogrid.incidents import notices
from geogrid.incidents.taxonomy import Taxonomy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """One notice for one webhook."""

    url: str
    body: dict[str, Any]


class Notifier:
    """A queue of deliveries and the daemon thread that posts them (started on the first notice)."""

    def __init__(self, retries: int = 5, backoff_seconds: float = 1.0, timeout_seconds: float = 5.0) -> None:
        self.retries, self.backoff, self.timeout = retries, backoff_seconds, timeout_seconds
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopped = threading.Event()

    def send(self, url: str, body: dict[str, Any]) -> None:
        """Queue a notice and return at once."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)
                self._thread.start()
        self._queue.put(Delivery(url, body))

    def flush(self) -> None:
        """Wait until every notice queued so far is sent or given up."""
        self._queue.join()

    def close(self) -> None:
        """Stop the thread once the notices queued so far are sent or given up (waits no longer than one
        delivery's timeout)."""
        self._stopped.set()
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(self.timeout)

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout) as client:
            while (delivery := self._queue.get()) is not None:
                try:
                    self._deliver(client, delivery)
                finally:
                    self._queue.task_done()

    def _deliver(self, client: httpx.Client, delivery: Delivery) -> bool:
        """Post one notice, retrying after backoff, 2 x backoff, 4 x backoff, ... seconds; True once accepted."""
        for attempt in range(self.retries + 1):
            if attempt and self._stopped.wait(self.backoff * 2 ** (attempt - 1)):
                break
            try:
                answer = client.post(delivery.url, json=delivery.body)
            except httpx.HTTPError as exc:
                log.warning("webhook %s: attempt %d failed: %s", delivery.url, attempt + 1, exc)
                continue
            if answer.is_success and _robot_accepted(answer):
                return True
            log.warning("webhook %s: attempt %d answered %d %s", delivery.url, attempt + 1, answer.status_code,
                        answer.text[:200])
        log.error("webhook %s: gave up after %d attempts", delivery.url, self.retries + 1)
        return False


def _robot_accepted(answer: httpx.Response) -> bool:
    """WeCom and DingTalk answer 200 with {"errcode": 0} when they took the message; other receivers may answer
    anything with a 2xx."""
    try:
        payload = answer.json()
    except ValueError:
        return True
    return not isinstance(payload, dict) or payload.get("errcode", 0) == 0


def announce(request: Request, background: BackgroundTasks, case: notices.NoticeCase, action: str, username: str,
             note: str | None, taxonomy: Taxonomy) -> None:
    """Queue the notice of a step for the case's webhooks once the response has gone (after the commit)."""
    urls = notices.recipients(request.app.state.settings.webhooks, case)
    if not urls:
        return
    category = taxonomy.categories.get(case.category)
    body = notices.message(case, action, username, category.zh if category else case.category, note)
    notifier: Notifier = request.app.state.notifier
    for url in urls:
        background.add_task(notifier.send, url, body)
