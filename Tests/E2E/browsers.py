"""Real browsers for end-to-end tests: a loopback-only network namespace, headless Chromium driven
over the DevTools protocol (pipe transport), and headless Firefox ESR reporting to a local collector.

Python 3 standard library only. Everything started here is stopped on exit, error or timeout.
"""
import atexit
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

CHROMIUM = "/usr/lib/chromium/chromium"


def in_namespace():
    return os.environ.get("VR_E2E_NETNS") is not None


def reexec_in_namespace(argv):
    """Creates a namespace with only `lo`, runs this script again inside it, deletes the namespace."""
    name = f"vr-e2e-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True)
        env = dict(os.environ, VR_E2E_NETNS=name)
        return subprocess.run(["ip", "netns", "exec", name, sys.executable] + argv, env=env).returncode
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=False)


class Processes:
    """Tracks child processes and temporary directories and ends them all once."""

    def __init__(self):
        self.children = []
        self.dirs = []
        atexit.register(self.stop_all)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: (self.stop_all(), sys.exit(130)))

    def start(self, args, **kwargs):
        process = subprocess.Popen(args, start_new_session=True, **kwargs)
        self.children.append(process)
        return process

    def tempdir(self, prefix):
        path = tempfile.mkdtemp(prefix=prefix)
        self.dirs.append(path)
        return path

    def stop(self, process, timeout=5):
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=timeout)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait()

    def stop_all(self):
        for process in reversed(self.children):
            self.stop(process)
        self.children = []
        for path in self.dirs:
            shutil.rmtree(path, ignore_errors=True)
        self.dirs = []


def fcntl_dup_high(fd):
    """Duplicates `fd` to a descriptor number of at least 100."""
    import fcntl
    return fcntl.fcntl(fd, fcntl.F_DUPFD, 100)


def wait_http(url, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


class Chromium:
    """One headless Chromium with one page, driven over --remote-debugging-pipe (fds 3 and 4)."""

    def __init__(self, processes, url, name, uid=None, extra_args=()):
        """`uid`: run Chromium as this (unnamed) user id, so nft rules matching `meta skuid` apply to
        this browser alone (see `block_udp_for`)."""
        self.name = name
        self.next_id = 0
        self.buffer = b""
        to_chrome_r, to_chrome_w = os.pipe()
        from_chrome_r, from_chrome_w = os.pipe()
        # Move the child's ends out of the way so they can become fds 3 and 4 without collisions.
        child_read = fcntl_dup_high(to_chrome_r)
        child_write = fcntl_dup_high(from_chrome_w)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        to_chrome_r, from_chrome_w = child_read, child_write
        profile = processes.tempdir(f"vr-chromium-{name}-")

        env = None
        if uid is not None:
            os.chown(profile, uid, uid)
            env = dict(os.environ, HOME=profile)

        def child_fds():
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)
            if uid is not None:
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)

        self.log_path = os.path.join(profile, "stderr.log")
        self.log = open(self.log_path, "wb")
        self.process = processes.start(
            [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--use-fake-device-for-media-stream",
             "--use-fake-ui-for-media-stream", "--allow-loopback-in-peer-connection",
             "--autoplay-policy=no-user-gesture-required", "--no-first-run", "--mute-audio",
             f"--user-data-dir={profile}", "--remote-debugging-pipe", *extra_args, "about:blank"],
            preexec_fn=child_fds, pass_fds=(3, 4), stdout=subprocess.DEVNULL, stderr=self.log, env=env)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.write_fd = to_chrome_w
        self.read_fd = from_chrome_r
        targets = self.call("Target.getTargets")["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self.session = self.call("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True})["sessionId"]
        self.call("Page.enable", session=True)
        self.call("Page.navigate", {"url": url}, session=True)

    def call(self, method, params=None, session=False, timeout=30):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        os.write(self.write_fd, json.dumps(message).encode() + b"\0")
        deadline = time.time() + timeout
        while time.time() < deadline:
            while b"\0" not in self.buffer:
                chunk = os.read(self.read_fd, 1 << 16)
                if not chunk:
                    raise RuntimeError(f"{self.name}: Chromium closed the DevTools pipe")
                self.buffer += chunk
            raw, self.buffer = self.buffer.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{self.name}: {method}: {reply['error']}")
                return reply.get("result", {})
        raise TimeoutError(f"{self.name}: {method} timed out")

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True},
                           session=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{self.name}: {expression}: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def stats(self):
        return self.evaluate("window.visitRelay ? visitRelay.stats() : null")

    def state(self):
        return self.evaluate("window.visitRelay ? visitRelay.state() : null")

    def screenshot(self, path):
        import base64
        data = self.call("Page.captureScreenshot", {"format": "png"}, session=True)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))


def nft_table(family, name, hook, rule):
    """Adds nft table `family` `name` with one output chain (`hook`: "filter" or "nat") holding `rule`,
    replacing the table if it exists. The namespace goes away with its rules."""
    delete_nft_table(family, name)
    priority = -100 if hook == "nat" else 0
    rules = f"""
table {family} {name} {{
  chain output {{
    type {hook} hook output priority {priority}; policy accept;
    {rule}
  }}
}}
"""
    subprocess.run(["nft", "-f", "-"], input=rules.encode(), check=True)


def nft_counter(family, name):
    """Packets the counter of table `family` `name`'s rule has counted so far (0 without the table)."""
    out = subprocess.run(["nft", "list", "table", family, name], capture_output=True, text=True).stdout
    import re
    match = re.search(r"counter packets (\d+)", out)
    return int(match.group(1)) if match else 0


def delete_nft_table(family, name):
    subprocess.run(["nft", "delete", "table", family, name], check=False, stderr=subprocess.DEVNULL)


def block_udp_for(uid):
    """Drops every UDP datagram sent by processes of `uid` in this namespace (nft `meta skuid`), as a
    municipal firewall that blocks outbound UDP would."""
    nft_table("inet", "vr_e2e_block", "filter", f"meta skuid {uid} meta l4proto udp counter drop")


def blocked_udp_count():
    """Datagrams the `block_udp_for` rule has dropped so far."""
    return nft_counter("inet", "vr_e2e_block")


def unblock_udp():
    delete_nft_table("inet", "vr_e2e_block")


def bypass_for(uid, port, target):
    """Sends what processes of `uid` address to UDP 127.0.0.1:`port` to 127.0.0.1:`target` instead
    (nft DNAT; conntrack translates the replies back, so the browser sees its candidate answer). One
    browser then reaches the relay directly while the others cross the link emulator listening on
    `port`: staff on a clean municipal network, the citizen on 4G."""
    nft_table("ip", "vr_e2e_bypass", "nat", f"meta skuid {uid} udp dport {port} counter dnat to 127.0.0.1:{target}")


def bypassed_count():
    """Datagrams (new flows, as NAT rules see them) the `bypass_for` rule has redirected so far."""
    return nft_counter("ip", "vr_e2e_bypass")


def remove_bypass():
    delete_nft_table("ip", "vr_e2e_bypass")


class Collector:
    """A tiny HTTP server the Firefox page POSTs its stats to (?report=...)."""

    def __init__(self):
        self.latest = None
        collector = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                collector.latest = json.loads(self.rfile.read(length))
                self.send_response(204)
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()

            def do_OPTIONS(self):
                self.send_response(204)
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Access-Control-Allow-Headers", "Content-Type")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class Firefox:
    """Headless Firefox ESR with a fresh profile; its page reports stats to a Collector."""

    PREFS = {
        "media.navigator.streams.fake": True,
        "media.navigator.permission.disabled": True,
        "media.peerconnection.ice.loopback": True,
        "permissions.default.camera": 1,
        "permissions.default.microphone": 1,
        "media.autoplay.default": 0,
        "browser.shell.checkDefaultBrowser": False,
        "datareporting.policy.dataSubmissionEnabled": False,
        "toolkit.telemetry.reportingpolicy.firstRun": False,
    }

    def __init__(self, processes, url, name):
        self.name = name
        self.collector = Collector()
        profile = processes.tempdir(f"vr-firefox-{name}-")
        with open(os.path.join(profile, "user.js"), "w") as f:
            for key, value in self.PREFS.items():
                f.write(f'user_pref("{key}", {json.dumps(value)});\n')
        separator = "&" if "?" in url else "?"
        url = f"{url}{separator}report=http://127.0.0.1:{self.collector.port}/"
        env = dict(os.environ, HOME=profile, MOZ_HEADLESS="1")
        self.log_path = os.path.join(profile, "stderr.log")
        self.log = open(self.log_path, "wb")
        self.process = processes.start(["firefox-esr", "--headless", "--no-remote", "--profile", profile, url],
                                       env=env, stdout=subprocess.DEVNULL, stderr=self.log)

    def stats(self):
        return self.collector.latest["stats"] if self.collector.latest else None

    def state(self):
        return self.collector.latest["state"] if self.collector.latest else None
