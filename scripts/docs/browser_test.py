#!/usr/bin/env python3
"""Opens the built documentation site in headless Chromium and checks what a reader sees
(`make docs-browser-test`): the index loads with its title and sidebar; on a page with
language tabs, clicking another tab (a real mouse click) shows that language's code and
hides the first; the search finds a page from a typed query; and no console error, uncaught
exception or failed resource load happened on the way. No network: the site is served from
127.0.0.1 by this script, and Chromium is driven over the DevTools protocol with a minimal
websocket client from the standard library.

Usage: browser_test.py SITE_DIR    (CHROMIUM=/path/to/chromium overrides the browser)
"""

from __future__ import annotations

import base64
import functools
import http.server
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional


class WebSocket:
    """Just enough of RFC 6455 for the DevTools protocol: text frames, masked client frames,
    fragmented and large server frames, ping/pong."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        assert url.startswith("ws://"), url
        hostport, _, path = url[len("ws://"):].partition("/")
        host, _, port = hostport.partition(":")
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise ConnectionError("websocket handshake: connection closed")
            head += chunk
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError(f"websocket handshake refused: {head.decode(errors='replace')}")

    def _exact(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("websocket closed")
            data += chunk
        return data

    def send(self, text: str) -> None:
        payload = text.encode()
        header = bytes([0x81])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def _control(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        self.sock.sendall(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask
                          + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def recv(self) -> str:
        message = b""
        while True:
            b0, b1 = self._exact(2)
            opcode, n = b0 & 0x0F, b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._exact(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._exact(8))[0]
            payload = self._exact(n)
            if opcode == 0x9:
                self._control(0xA, payload)
                continue
            if opcode == 0x8:
                raise ConnectionError("websocket closed by the browser")
            if opcode in (0x0, 0x1, 0x2):
                message += payload
                if b0 & 0x80:
                    return message.decode()


class DevTools:
    def __init__(self, ws_url: str) -> None:
        self.ws = WebSocket(ws_url)
        self.next_id = 0
        self.events: List[Dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> Dict[str, Any]:
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluate {expression!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, what: str, timeout: float = 15.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what} ({expression})")

    def navigate(self, url: str) -> None:
        self.call("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete' && location.href === " + json.dumps(url),
                      f"{url} to load")

    def click(self, selector: str) -> None:
        """A real mouse click at the element's centre (after scrolling it into view)."""
        box = self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)}); if (!e) return null;"
            " e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
            " return [r.left + r.width / 2, r.top + r.height / 2]; })()")
        if not box:
            raise AssertionError(f"nothing to click at {selector}")
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)


def serve(site: Path) -> http.server.ThreadingHTTPServer:
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def find_browser() -> str:
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name) or name
    raise SystemExit("browser_test: no chromium found (scripts/deps.sh docs: apt-get install chromium)")


def start_browser(profile: Path) -> subprocess.Popen[bytes]:
    args = [find_browser(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--metrics-recording-only",
            "--remote-debugging-port=0", f"--user-data-dir={profile}", "--window-size=1280,900",
            "about:blank"]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def page_ws_url(profile: Path, browser: subprocess.Popen[bytes]) -> str:
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 30
    while not port_file.exists() or not port_file.read_text().strip():
        if browser.poll() is not None or time.monotonic() > deadline:
            err = browser.stderr.read().decode(errors="replace") if browser.stderr else ""
            raise SystemExit(f"browser_test: chromium did not start:\n{err}")
        time.sleep(0.1)
    port = int(port_file.read_text().split()[0])
    deadline = time.monotonic() + 15
    while True:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as resp:
            pages = [t for t in json.load(resp) if t.get("type") == "page"]
        if pages:
            return str(pages[0]["webSocketDebuggerUrl"])
        if time.monotonic() > deadline:
            raise SystemExit("browser_test: chromium shows no page")
        time.sleep(0.1)


def console_errors(events: List[Dict[str, Any]]) -> List[str]:
    errors = []
    for e in events:
        p = e.get("params", {})
        if e["method"] == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            errors.append(f"uncaught exception: {d.get('exception', {}).get('description') or d.get('text')}")
        elif e["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            errors.append("console." + p["type"] + ": " + " ".join(str(a.get("value", a.get("description", "")))
                                                                    for a in p.get("args", [])))
        elif e["method"] == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            entry = p["entry"]
            errors.append(f"{entry.get('source')}: {entry.get('text')} {entry.get('url', '')}".strip())
    return errors


def run(site: Path) -> List[str]:
    failures: List[str] = []
    server = serve(site)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    profile = Path(tempfile.mkdtemp(prefix="ycm-docs-chromium-"))
    browser = start_browser(profile)
    try:
        dt = DevTools(page_ws_url(profile, browser))
        for domain in ("Runtime.enable", "Log.enable", "Page.enable"):
            dt.call(domain)

        def check(name: str, fn: Any) -> None:
            started = time.monotonic()
            try:
                fn()
                print(f"browser_test: ok   {name} ({time.monotonic() - started:.1f} s)")
            except (AssertionError, RuntimeError) as e:
                print(f"browser_test: FAIL {name}: {e}", file=sys.stderr)
                failures.append(name)

        def index() -> None:
            dt.navigate(base + "index.html")
            title = dt.evaluate("document.title")
            assert "ycm" in title, f"title {title!r}"
            dt.wait_for("document.querySelectorAll('#mdbook-sidebar a[href], .sidebar a[href]').length > 20",
                        "the sidebar's table of contents")
            h1 = dt.evaluate("document.querySelector('main h1') && document.querySelector('main h1').textContent")
            assert h1 == "ycm", f"main heading {h1!r}"

        visible = ("(() => {{ const g = document.querySelector('.ycm-tabs');"
                   " const shown = [...g.querySelectorAll(':scope > [data-tab]')].filter(p => p.checkVisibility());"
                   " return shown.map(p => p.dataset.tab + '|' + p.innerText.slice(0, 4000)); }})()")

        def tabs() -> None:
            dt.navigate(base + "index.html")
            dt.evaluate("localStorage.clear()")
            dt.navigate(base + "concepts/errors.html")
            dt.navigate(base + "index.html")
            shown = dt.wait_for(visible.format(), "the tab bar")
            assert len(shown) == 1 and shown[0].startswith("C|"), f"first shown: {[s[:20] for s in shown]}"
            assert "ycm_client_new" in shown[0], "the C tab does not show the C code"
            dt.click(".ycm-tabs .ycm-tab-bar button[data-tab='Python']")
            shown = dt.wait_for(visible.format() + ".filter(s => s.startsWith('Python|'))", "the Python tab")
            shown = dt.evaluate(visible.format())
            assert len(shown) == 1 and shown[0].startswith("Python|"), f"after the click: {[s[:20] for s in shown]}"
            assert "ycm.Client(" in shown[0], "the Python tab does not show the Python code"
            # The choice is remembered: another page with tabs opens on Python too.
            dt.navigate(base + "concepts/errors.html")
            shown = dt.wait_for(visible.format(), "the tabs of concepts/errors.html")
            assert shown[0].startswith("Python|"), f"not remembered: {shown[0][:20]}"

        def search() -> None:
            dt.navigate(base + "index.html")
            dt.click("#mdbook-search-toggle")
            dt.wait_for("document.activeElement && document.activeElement.id === 'mdbook-searchbar'",
                        "the search bar to take the focus")
            dt.call("Input.insertText", text="gunicorn")
            for kind in ("keyDown", "keyUp"):
                dt.call("Input.dispatchKeyEvent", type=kind, key="n", code="KeyN", windowsVirtualKeyCode=78)
            hrefs = dt.wait_for(
                "(() => { const l = [...document.querySelectorAll('#mdbook-searchresults a')]"
                ".map(a => a.getAttribute('href')); return l.length ? l : null; })()",
                "search results for 'gunicorn'")
            assert any("gunicorn-uwsgi.html" in h for h in hrefs), f"results: {hrefs}"
            target = next(h for h in hrefs if "gunicorn-uwsgi.html" in h)
            dt.click(f"#mdbook-searchresults a[href='{target}']")
            dt.wait_for("location.pathname.endsWith('/cookbook/gunicorn-uwsgi.html')", "the result to open")

        check("index loads", index)
        check("language tabs switch on click", tabs)
        check("search finds a page", search)
        errors = console_errors(dt.events)
        if errors:
            for e in errors:
                print(f"browser_test: FAIL console: {e}", file=sys.stderr)
            failures.append("console")
        else:
            print(f"browser_test: ok   no console error ({len(dt.events)} events seen)")
    finally:
        browser.terminate()
        try:
            browser.wait(timeout=10)
        except subprocess.TimeoutExpired:
            browser.kill()
        server.shutdown()
        shutil.rmtree(profile, ignore_errors=True)
    return failures


def main(argv: List[str]) -> int:
    if len(argv) != 2 or not (Path(argv[1]) / "index.html").exists():
        print(__doc__, file=sys.stderr)
        return 2
    started = time.monotonic()
    failures = run(Path(argv[1]))
    print(f"browser_test: {'FAILED: ' + ', '.join(failures) if failures else 'passed'}"
          f" in {time.monotonic() - started:.1f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
