"""A minimal W3C WebDriver client for Debian's chromium + chromedriver (no selenium needed).

Just what the HTML report test needs: open a file:// page headless, read the browser console,
run a probe script, check for an alert, take a screenshot and print to PDF.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
DRIVER_CANDIDATES = ("/usr/bin/chromedriver",)


#: set to 1 to skip the browser test (contributors without a browser; CI never sets it)
SKIP_ENV = "COLLAPSE_AUDIT_SKIP_BROWSER"


def find_browser() -> tuple[str | None, str | None, str]:
    """(chromium, chromedriver, reason-if-missing)."""
    chromium = next((p for p in CHROMIUM_CANDIDATES if os.access(p, os.X_OK)), None)
    driver = next((p for p in DRIVER_CANDIDATES if os.access(p, os.X_OK)), None) or shutil.which("chromedriver")
    if not chromium:
        return (
            None,
            None,
            "Debian's chromium is not installed (/usr/bin/chromium); run scripts/install-test-deps.sh as root, "
            f"or set {SKIP_ENV}=1 to skip the browser test",
        )
    if not driver:
        return (
            chromium,
            None,
            "chromedriver is not installed (Debian package chromium-driver); run scripts/install-test-deps.sh as "
            f"root, or set {SKIP_ENV}=1 to skip the browser test",
        )
    return chromium, driver, ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebDriverError(RuntimeError):
    def __init__(self, status: int, payload: dict):
        self.status = status
        self.error = (payload.get("value") or {}).get("error", "") if isinstance(payload.get("value"), dict) else ""
        super().__init__(f"HTTP {status}: {json.dumps(payload)[:500]}")


class Browser:
    def __init__(self, chromium: str, driver: str, width: int = 1280, height: int = 1400):
        self.port = _free_port()
        self.proc = subprocess.Popen(
            [driver, f"--port={self.port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 30
        while True:
            try:
                if self._call("GET", "/status").get("value", {}).get("ready"):
                    break
            except (OSError, WebDriverError):
                pass
            if time.time() > deadline:
                self.proc.kill()
                raise RuntimeError("chromedriver did not start within 30 s")
            time.sleep(0.2)
        caps = {
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": chromium,
                        "args": [
                            "--headless=new",
                            "--no-sandbox",
                            "--disable-gpu",
                            "--disable-dev-shm-usage",
                            "--hide-scrollbars",
                            "--no-first-run",
                            "--disable-extensions",
                            f"--window-size={width},{height}",
                        ],
                    },
                    "goog:loggingPrefs": {"browser": "ALL"},
                }
            }
        }
        try:
            self.session = self._call("POST", "/session", caps)["value"]["sessionId"]
        except Exception:
            self.proc.kill()
            raise

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else (b"{}" if method == "POST" else None)
        req = urllib.request.Request(
            self.base + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as exc:
            try:
                payload = json.loads(exc.read() or b"{}")
            except ValueError:
                payload = {}
            raise WebDriverError(exc.code, payload) from None

    def _s(self, method: str, path: str, body: dict | None = None) -> dict:
        return self._call(method, f"/session/{self.session}{path}", body)

    def open(self, path: Path) -> None:
        self._s("POST", "/url", {"url": path.resolve().as_uri()})

    def execute(self, script: str, *args):
        return self._s("POST", "/execute/sync", {"script": script, "args": list(args)})["value"]

    def console(self) -> list[dict]:
        """Browser console entries since the last call: [{level, message, source, timestamp}]."""
        return self._s("POST", "/se/log", {"type": "browser"})["value"]

    def alert_text(self) -> str | None:
        try:
            return self._s("GET", "/alert/text")["value"]
        except WebDriverError as exc:
            if exc.error == "no such alert":
                return None
            raise

    def resize(self, width: int, height: int) -> None:
        self._s("POST", "/window/rect", {"width": width, "height": height})

    def screenshot(self, out: Path) -> bytes:
        png = base64.b64decode(self._s("GET", "/screenshot")["value"])
        out.write_bytes(png)
        return png

    def print_pdf(self) -> bytes:
        return base64.b64decode(self._s("POST", "/print", {"background": True})["value"])

    def close(self) -> None:
        try:
            with contextlib.suppress(Exception):   # the session may already be gone
                self._s("DELETE", "")
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
