"""A headless Chromium session through chromedriver's WebDriver API (Debian's `chromium` and
`chromium-driver`), for the scripts that time or photograph the dashboard: open a URL, run a
script in the page, take a screenshot."""

import base64
import json
import socket
import subprocess
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Chromium:
    def __init__(self, width=1400, height=1500):
        self.port = free_port()
        self.driver = subprocess.Popen(["chromedriver", f"--port={self.port}"],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port)).close()
                break
            except OSError:
                time.sleep(0.05)
        args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                f"--window-size={width},{height}", "--disable-background-networking", "--no-first-run",
                "--disable-component-update", "--disable-sync"]
        session = self.call("POST", "/session", {"capabilities": {"alwaysMatch": {
            "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": args}}}})
        self.session = f"/session/{session['sessionId']}"

    def call(self, method, path, body=None):
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method,
                                         data=json.dumps(body).encode() if body is not None else None,
                                         headers={"Content-Type": "application/json"})
        return json.loads(urllib.request.urlopen(request, timeout=120).read())["value"]

    def open(self, url):
        self.call("POST", f"{self.session}/url", {"url": url})

    def run(self, script):
        """What `script` (a function body) returns in the page."""
        return self.call("POST", f"{self.session}/execute/sync", {"script": script, "args": []})

    def until(self, script, within=60):
        """Seconds until `script` returns something true, polled every 10 ms."""
        started = time.perf_counter()
        while not self.run(script):
            if time.perf_counter() - started > within:
                raise TimeoutError(script)
            time.sleep(0.01)
        return time.perf_counter() - started

    def screenshot(self, out):
        open(out, "wb").write(base64.b64decode(self.call("GET", f"{self.session}/screenshot")))

    def close(self):
        try:
            self.call("DELETE", self.session)
        finally:
            self.driver.kill()
            self.driver.wait()
