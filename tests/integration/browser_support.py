"""A real headless browser for the end-to-end tests: Debian's chromium, driven through its
DevTools protocol over a pipe (`--remote-debugging-pipe`: JSON messages ended by a NUL byte,
commands on the browser's fd 3, replies on its fd 4), so no driver or client library is
needed. `chromium_binary` installs the package where it is missing and the test may (root with
apt-get); elsewhere the test skips, or fails with CI=true, as tests/integration/test_slurm.py
does for SLURM.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

PACKAGE = "chromium"


def chromium_binary() -> str:
    """The chromium executable, installed with apt-get if missing."""
    found = shutil.which("chromium")
    if found:
        return found
    reason = None
    if os.geteuid() != 0:
        reason = "needs root to install Debian's chromium package"
    elif shutil.which("apt-get") is None:
        reason = "needs apt-get to install Debian's chromium package"
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser test must run in CI, but it {reason}")
        pytest.skip(reason)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"],
                    ["apt-get", "install", "-y", "--no-install-recommends", PACKAGE]):
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1200)
        assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stderr[-3000:]}"
    found = shutil.which("chromium")
    assert found, "apt-get installed chromium but it is not on PATH"
    return found


def _above_four(fd: int) -> int:
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


class Browser:
    """One headless chromium and one page in it."""

    def __init__(self, binary: str, profile: Path, timeout: float = 60) -> None:
        self.timeout = timeout
        # the child's ends numbered above 4, so that placing them on fd 3 and 4 moves no other
        commands_read, self._commands = os.pipe()
        self._replies, replies_write = os.pipe()
        commands_read, replies_write = (_above_four(commands_read), _above_four(replies_write))
        profile.mkdir(parents=True, exist_ok=True)
        arguments = [binary, "--headless", "--no-sandbox", "--disable-gpu",
                     "--remote-debugging-pipe", f"--user-data-dir={profile}",
                     # the paper links files beside it: let the page read them as a reader would
                     "--allow-file-access-from-files", "--no-first-run",
                     "--no-default-browser-check", "about:blank"]
        # the shell puts the two pipe ends where chromium expects them, fd 3 and fd 4
        self._log = (profile / "chromium.log").open("w")
        self.process = subprocess.Popen(
            ["bash", "-c", f'exec "$0" "$@" 3<&{commands_read} {commands_read}<&- '
                           f'4>&{replies_write} {replies_write}>&-', *arguments],
            pass_fds=(commands_read, replies_write), stdin=subprocess.DEVNULL,
            stdout=self._log, stderr=subprocess.STDOUT)
        os.close(commands_read)
        os.close(replies_write)
        self._buffer = b""
        self._last_id = 0
        target = self.command("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.command("Target.attachToTarget",
                                    {"targetId": target, "flatten": True})["sessionId"]
        self.command("Page.enable", session=self.session)

    def _message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([self._replies], [], [], max(remaining, 0))
            if not ready:
                raise TimeoutError("chromium did not answer in time")
            chunk = os.read(self._replies, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed its DevTools pipe (see chromium.log)")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def command(self, method: str, params: dict[str, Any] | None = None,
                session: str | None = None) -> dict[str, Any]:
        self._last_id += 1
        request: dict[str, Any] = {"id": self._last_id, "method": method, "params": params or {}}
        if session:
            request["sessionId"] = session
        os.write(self._commands, json.dumps(request).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._message(deadline)
            if reply.get("id") != self._last_id:
                continue  # an event, or the reply to nothing we wait for
            if "error" in reply:
                raise RuntimeError(f"{method}: {reply['error']}")
            return reply["result"]

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.command("Runtime.evaluate", {"expression": expression,
                                                   "returnByValue": True, "awaitPromise": True},
                              session=self.session)
        if "exceptionDetails" in result:
            raise RuntimeError(f"in the page: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url: str) -> None:
        """Navigate and wait until the page has loaded."""
        navigated = self.command("Page.navigate", {"url": url}, session=self.session)
        if navigated.get("errorText"):
            raise RuntimeError(f"{url}: {navigated['errorText']}")
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            state = self.evaluate("[location.href, document.readyState]")
            if state == [url, "complete"]:
                return
            time.sleep(0.1)
        raise TimeoutError(f"{url} did not finish loading")

    def close(self) -> None:
        try:
            self.command("Browser.close")
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._commands)
        os.close(self._replies)
        self._log.close()
