"""Open a page in headless Chromium and ask it what it showed, over the DevTools protocol.

The protocol runs over a pair of pipes (`--remote-debugging-pipe`: commands on
the browser's fd 3, answers on its fd 4, each message JSON ended by a NUL), so
no port, no WebSocket library and no downloaded browser are needed: Debian's
`chromium` package is enough. Console errors, uncaught exceptions and
browser log errors (a blocked or failed load among them) are collected.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Visit", "chromium", "visit"]

_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-pipe",
)


def chromium() -> str | None:
    """The Chromium executable on this machine, if any."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if found := shutil.which(name):
            return found
    return None


@dataclass
class Visit:
    """What the browser saw: errors it reported, values read from the page, a screenshot."""

    errors: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    screenshot: bytes = b""


def visit(page: Path, expressions: dict[str, str], width: int = 1280, timeout: float = 60) -> Visit:
    """Load `page`, evaluate each JavaScript expression, screenshot the whole page."""
    executable = chromium()
    if executable is None:
        raise FileNotFoundError("no chromium executable on PATH")
    with tempfile.TemporaryDirectory(prefix="sim-chromium-") as profile:
        to_browser_r, to_browser_w = os.pipe()
        from_browser_r, from_browser_w = os.pipe()

        def wire_pipes() -> None:  # in the child: the pipes become its fds 3 and 4
            high_in = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)
            high_out = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            os.dup2(high_in, 3)
            os.dup2(high_out, 4)

        process = subprocess.Popen(
            [executable, *_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(3, 4),
            preexec_fn=wire_pipes,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        session = _Session(to_browser_w, from_browser_r, time.monotonic() + timeout)
        try:
            return session.run(page, expressions, width)
        finally:
            os.close(to_browser_w)
            os.close(from_browser_r)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class _Session:
    def __init__(self, write_fd: int, read_fd: int, deadline: float) -> None:
        self.write_fd, self.read_fd, self.deadline = write_fd, read_fd, deadline
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict] = []

    def run(self, page: Path, expressions: dict[str, str], width: int) -> Visit:
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        attached = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})
        sid = attached["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable", session=sid)
        metrics = {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False}
        self.call("Emulation.setDeviceMetricsOverride", metrics, session=sid)
        self.call("Page.navigate", {"url": page.resolve().as_uri()}, session=sid)
        self.wait_for("Page.loadEventFired", sid)
        visit = Visit()
        for name, expression in expressions.items():
            answer = self.call(
                "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=sid
            )
            if "exceptionDetails" in answer:
                visit.errors.append(f"evaluating {name}: {answer['exceptionDetails']}")
            visit.values[name] = answer["result"].get("value")
        size = self.call("Page.getLayoutMetrics", session=sid)["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": width, "height": size["height"], "scale": 1}
        shot = self.call(
            "Page.captureScreenshot",
            {"format": "png", "clip": clip, "captureBeyondViewport": True},
            session=sid,
        )
        visit.screenshot = base64.b64decode(shot["data"])
        visit.errors += [_describe(event) for event in self.events if _is_error(event)]
        self.send({"id": self._id(), "method": "Browser.close"})
        return visit

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id

    def send(self, message: dict) -> None:
        os.write(self.write_fd, json.dumps(message).encode() + b"\0")

    def call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        ident = self._id()
        message: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.send(message)
        while True:
            reply = self.receive()
            if reply.get("id") == ident:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def wait_for(self, method: str, session: str) -> dict:
        for event in self.events:
            if event.get("method") == method and event.get("sessionId") == session:
                return event
        while True:
            event = self.receive()
            self.events.append(event)
            if event.get("method") == method and event.get("sessionId") == session:
                return event

    def receive(self) -> dict:
        while b"\0" not in self.buffer:
            left = self.deadline - time.monotonic()
            if left <= 0 or not select.select([self.read_fd], [], [], left)[0]:
                raise TimeoutError("chromium did not answer in time")
            chunk = os.read(self.read_fd, 1 << 16)
            if not chunk:
                raise ConnectionError("chromium closed the DevTools pipe")
            self.buffer += chunk
        message, _, self.buffer = self.buffer.partition(b"\0")
        return json.loads(message)


def _is_error(event: dict) -> bool:
    method, params = event.get("method"), event.get("params", {})
    if method == "Runtime.exceptionThrown":
        return True
    if method == "Runtime.consoleAPICalled":
        return params.get("type") in ("error", "assert")
    if method == "Log.entryAdded":
        return params.get("entry", {}).get("level") == "error"
    return False


def _describe(event: dict) -> str:
    params = event.get("params", {})
    if "entry" in params:
        entry = params["entry"]
        return f"{entry.get('source')}: {entry.get('text')} {entry.get('url', '')}".strip()
    if "exceptionDetails" in params:
        return f"exception: {params['exceptionDetails'].get('text')}"
    args = params.get("args", [])
    return "console: " + " ".join(str(arg.get("value", arg.get("description"))) for arg in args)
