#!/usr/bin/env python3
"""End-to-end visits through visit-relay with real browsers, in a loopback-only network namespace.

Usage: python3 Tests/E2E/test_visit.py [--relay PATH] [--only NAME ...]
Scenarios: two_chromium, third_party (an interpreter joins, then staff leaves), firefox_chromium.
The last line is "N passed, N failed"; the exit code is non-zero on any failure.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import browsers  # noqa: E402
import speech  # noqa: E402

HTTP = "127.0.0.1:8080"
BASE = f"http://{HTTP}"
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def video_mids(page):
    """framesDecoded and packetsReceived per inbound stream, keyed by (kind, mid)."""
    stats = page.stats() or {"inbound": []}
    return {(s["kind"], s["mid"]): s for s in stats["inbound"]}


def totals(page):
    stats = page.stats() or {"inbound": []}
    frames = sum(s["framesDecoded"] for s in stats["inbound"] if s["kind"] == "video")
    audio = sum(s["packetsReceived"] for s in stats["inbound"] if s["kind"] == "audio")
    return frames, audio


def wait_for(condition, timeout, what):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def wait_joined(pages, timeout=20):
    for page in pages:
        wait_for(lambda: (page.state() or {}).get("joined"), timeout, f"{page.name} to join")


def first_frame_ms(page):
    state = page.evaluate("({j: visitRelay.joinedAt, f: visitRelay.firstRemoteFrameAt})") if hasattr(page, "evaluate") else None
    if state and state["j"] is not None and state["f"] is not None:
        return state["f"] - state["j"]
    return None


def require_progress(pages, frames_needed, audio_needed, timeout):
    """Each page's decoded video frames and received audio packets rise by the given amounts."""
    baseline = {page.name: totals(page) for page in pages}
    start = time.time()

    def done():
        for page in pages:
            frames, audio = totals(page)
            if frames - baseline[page.name][0] < frames_needed or audio - baseline[page.name][1] < audio_needed:
                return False
        return True

    try:
        wait_for(done, timeout, f"+{frames_needed} frames and +{audio_needed} audio packets on {[p.name for p in pages]}")
    except AssertionError:
        detail = {p.name: (totals(p)[0] - baseline[p.name][0], totals(p)[1] - baseline[p.name][1]) for p in pages}
        raise AssertionError(f"progress in {timeout} s (frames, audio packets): {detail}")
    return time.time() - start


def slot_progress(page, frames_needed, timeout):
    """Every occupied slot's video on this page decodes at least `frames_needed` more frames."""
    state = page.state()
    mids = [slot["videoMid"] for slot in state["slots"] if slot["participant"]]
    before = video_mids(page)

    def done():
        now = video_mids(page)
        return all(
            now.get(("video", mid), {}).get("framesDecoded", 0) - before.get(("video", mid), {}).get("framesDecoded", 0)
            >= frames_needed for mid in mids)

    wait_for(done, timeout, f"{page.name}: every occupied slot ({mids}) to decode {frames_needed} frames")
    return len(mids)


def start_relay(processes, relay, extra=(), env=None):
    log = open(os.path.join(processes.tempdir("vr-relay-"), "relay.log"), "wb")
    process = processes.start([relay, "--http", HTTP, "--udp", "127.0.0.1:40000", *extra], stdout=log, stderr=log,
                              env=dict(os.environ, **(env or {})))
    browsers.wait_http(f"{BASE}/healthz")
    return process


def traces_dir():
    """The repository's Traces/ (the same locator as TraceDirectory.swift), or VISITRELAY_TRACES."""
    for candidate in (os.environ.get("VISITRELAY_TRACES"), os.path.join(REPO, "Traces")):
        if candidate and os.path.isdir(candidate):
            return candidate
    raise AssertionError(f"no traces directory: {os.path.join(REPO, 'Traces')} is missing")


def start_emulator(processes, relay, profile, listen, target, extra=()):
    """Starts link-emulator (built next to visit-relay) and waits for its banner line."""
    emulator = os.path.join(os.path.dirname(relay), "link-emulator")
    directory = processes.tempdir("vr-emulator-")
    summary = os.path.join(directory, "summary.json")
    process = processes.start([emulator, "--listen", f"{listen}={target}", "--profile", profile,
                               "--traces-dir", traces_dir(),
                               "--summary", summary, *extra],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    banner = process.stdout.readline().decode()
    assert banner.startswith("link-emulator:"), f"link-emulator did not start: {banner}"
    return process, summary


def scenario_udp_through_emulator(processes, relay, results):
    """Plain UDP through link-emulator: delay, loss and NAT rebinding as configured."""
    import socket
    echo = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    echo.bind(("127.0.0.1", 45000))
    sources = []

    def serve():
        while True:
            try:
                data, address = echo.recvfrom(2048)
            except OSError:
                return
            sources.append(address)
            echo.sendto(data, address)

    import threading
    threading.Thread(target=serve, daemon=True).start()
    emulator, summary = start_emulator(processes, relay, "rural-4g", "127.0.0.1:45100", "127.0.0.1:45000")
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.settimeout(0.005)
    sent, received, rtts = 0, 0, []
    began = time.time()
    while time.time() - began < 6:
        client.sendto(str(time.time()).encode().ljust(200, b"x"), ("127.0.0.1", 45100))
        sent += 1
        try:
            while True:
                data, _ = client.recvfrom(2048)
                received += 1
                rtts.append(time.time() - float(data.split(b"x")[0]))
        except (socket.timeout, BlockingIOError):
            pass
        time.sleep(0.02)
    time.sleep(0.5)
    try:
        while True:
            client.recvfrom(2048)
            received += 1
    except (socket.timeout, BlockingIOError):
        pass
    ports_before = {port for _, port in sources}
    emulator.send_signal(signal.SIGUSR1)
    time.sleep(0.3)
    for _ in range(20):
        client.sendto(b"after-rebind", ("127.0.0.1", 45100))
        time.sleep(0.02)
    time.sleep(0.5)
    ports_after = {port for _, port in sources[-5:]}
    emulator.send_signal(signal.SIGTERM)
    emulator.wait(timeout=10)
    echo.close()
    rtts.sort()
    median = rtts[len(rtts) // 2] if rtts else 0
    loss = 1 - received / sent
    # rural-4g: 50 ms each way plus jitter; 2 % loss each way (about 4 % round trip).
    assert 0.095 < median < 0.3, f"median RTT {median:.3f} s"
    assert 0.0 < loss < 0.15, f"round-trip loss {loss:.3f}"
    assert ports_after and not (ports_after & ports_before), f"rebinding changed the source port: {ports_before} -> {ports_after}"
    with open(summary) as f:
        report = json.load(f)
    assert report["rebinds"] == 1 and report["clients"] == 1, report
    results["udp_through_emulator"] = {"median_rtt_ms": round(median * 1000, 1), "round_trip_loss": round(loss, 3),
                                       "uplink": report["uplink"]}


def scenario_rural_4g_visit(processes, relay, results):
    """Chromium citizen and staff, each behind its own rural-4g link through link-emulator."""
    start_relay(processes, relay, ["--announce-address", "127.0.0.1:41000"])
    _, summary = start_emulator(processes, relay, "rural-4g", "127.0.0.1:41000", "127.0.0.1:40000")
    citizen = browsers.Chromium(processes, f"{BASE}/r/rural?role=citizen", "citizen")
    staff = browsers.Chromium(processes, f"{BASE}/r/rural?role=staff", "staff")
    wait_joined([citizen, staff])
    elapsed = require_progress([citizen, staff], frames_needed=30, audio_needed=100, timeout=20)
    rtt = citizen.stats()["candidatePair"]["currentRoundTripTime"]
    assert rtt is not None and rtt >= 0.09, f"the RTT {rtt} shows the link's 2 × 50 ms"
    results["rural_4g_visit"] = {"progress_seconds": round(elapsed, 2), "rtt_ms": round(rtt * 1000),
                                 "first_frame_ms": {p.name: first_frame_ms(p) for p in (citizen, staff)}}


def prometheus():
    """GET /metrics as {series: value}."""
    status, text, headers = http("GET", "/metrics")
    assert status == 200 and headers.get("Content-Type", "").startswith("text/plain"), (status, headers)
    series = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            series[name] = float(value)
    return series


def scenario_two_chromium(processes, relay, results):
    start_relay(processes, relay)
    citizen = browsers.Chromium(processes, f"{BASE}/r/visit1?role=citizen", "citizen")
    staff = browsers.Chromium(processes, f"{BASE}/r/visit1?role=staff", "staff")
    wait_joined([citizen, staff])
    elapsed = require_progress([citizen, staff], frames_needed=100, audio_needed=200, timeout=10)
    for page in (citizen, staff):
        transport = page.stats()["transport"]
        assert transport["dtlsState"] == "connected", f"{page.name}: dtlsState {transport['dtlsState']}"
        assert transport["tlsVersion"] == "FEFD", f"{page.name}: tlsVersion {transport['tlsVersion']} is not DTLS 1.2"
        # The README says the visit runs on AEAD_AES_128_GCM (which our own SRTP transform serves).
        assert transport["srtpCipher"] == "SRTP_AEAD_AES_128_GCM", f"{page.name}: srtpCipher {transport['srtpCipher']}"
    relay_stats = json.loads(http("GET", "/api/stats")[1])["workers"][0]
    assert relay_stats["framesAssembled"] >= 100 and relay_stats["keyframesReceived"] >= 1, relay_stats
    metrics = prometheus()
    assert metrics.get("visitrelay_rtp_packets_forwarded_total", 0) >= 200, metrics
    assert metrics.get('visitrelay_participants{role="citizen"}') == 1 and metrics.get("visitrelay_rooms") == 1, metrics
    # Both browsers report on what the relay sends them (transport-cc), so the relay estimates both downlinks.
    assert metrics.get("visitrelay_transport_feedback_received_total", 0) > 10, metrics
    assert metrics.get("visitrelay_downlink_estimate_min_bps", 0) >= 100_000, metrics
    assert metrics.get('visitrelay_joins_total{outcome="joined"}') == 2, metrics
    assert metrics.get("visitrelay_bytes_received_total", 0) > 0 and "visitrelay_worker_loop_lag_seconds" in metrics
    results["two_chromium"] = {
        "relay_frames_assembled": relay_stats["framesAssembled"],
        "progress_seconds": round(elapsed, 2),
        "first_frame_ms": {p.name: first_frame_ms(p) for p in (citizen, staff)},
        "srtp": citizen.stats()["transport"]["srtpCipher"],
    }


def scenario_third_party(processes, relay, results):
    start_relay(processes, relay)
    citizen = browsers.Chromium(processes, f"{BASE}/r/visit2?role=citizen", "citizen")
    staff = browsers.Chromium(processes, f"{BASE}/r/visit2?role=staff", "staff")
    wait_joined([citizen, staff])
    require_progress([citizen, staff], frames_needed=30, audio_needed=50, timeout=10)
    interpreter = browsers.Chromium(processes, f"{BASE}/r/visit2?role=interpreter", "interpreter")
    wait_joined([interpreter])
    for page in (citizen, staff, interpreter):
        wait_for(lambda: sum(1 for s in page.state()["slots"] if s["participant"]) == 2, 10, f"{page.name} to see two others")
    for page in (citizen, staff, interpreter):
        assert slot_progress(page, 30, timeout=10) == 2
    staff.evaluate("document.getElementById('leave').click(), true")
    for page in (citizen, interpreter):
        wait_for(lambda: sum(1 for s in page.state()["slots"] if s["participant"]) == 1, 10, f"{page.name} to see staff leave")
        assert slot_progress(page, 30, timeout=10) == 1
    results["third_party"] = {"first_frame_ms": {p.name: first_frame_ms(p) for p in (citizen, interpreter)}}


def scenario_firefox_chromium(processes, relay, results):
    start_relay(processes, relay)
    citizen = browsers.Firefox(processes, f"{BASE}/r/visit3?role=citizen", "citizen-firefox")
    staff = browsers.Chromium(processes, f"{BASE}/r/visit3?role=staff", "staff-chromium")
    wait_joined([citizen, staff], timeout=30)
    elapsed = require_progress([citizen, staff], frames_needed=50, audio_needed=100, timeout=15)
    results["firefox_chromium"] = {"progress_seconds": round(elapsed, 2), "first_frame_ms": {"staff-chromium": first_frame_ms(staff)}}


BLOCKED_UID = 4242


def connect_ms(page):
    """Milliseconds to connectionState 'connected': from the start of the join (GET /api/config,
    camera, offer, POST) and from applying the answer (ICE checks and DTLS only)."""
    state = page.state()
    if state.get("connectedAt") is None or state.get("joinStartedAt") is None:
        return None
    return {"from_join": round(state["connectedAt"] - state["joinStartedAt"]),
            "from_answer": round(state["connectedAt"] - state["joinedAt"])}


def path_of(page):
    pair = page.stats()["candidatePair"] or {}
    return {k: pair.get(k) for k in ("localType", "localProtocol", "relayProtocol", "remoteProtocol", "remotePort")}


def scenario_udp_blocked_ice_tcp(processes, relay, results):
    """Staff's UDP is dropped by nft: its Chromium connects over the relay's ICE-TCP candidate."""
    start_relay(processes, relay)
    browsers.block_udp_for(BLOCKED_UID)
    try:
        citizen = browsers.Chromium(processes, f"{BASE}/r/tcp1?role=citizen", "citizen-udp")
        staff = browsers.Chromium(processes, f"{BASE}/r/tcp1?role=staff", "staff-tcp", uid=BLOCKED_UID)
        wait_joined([citizen, staff])
        elapsed = require_progress([citizen, staff], frames_needed=60, audio_needed=100, timeout=20)
        staff_path, citizen_path = path_of(staff), path_of(citizen)
        assert staff_path["localProtocol"] == "tcp" and staff_path["remoteProtocol"] == "tcp", staff_path
        assert citizen_path["remoteProtocol"] == "udp", citizen_path
        dropped = browsers.blocked_udp_count()
        assert dropped > 0, "the nft rule dropped none of staff's UDP: the block did not apply"
        tcp = json.loads(http("GET", "/api/stats")[1])["workers"][0]["iceTcp"]
        assert tcp["open"] >= 1 and tcp["datagramsSent"] > 100, tcp
        results["udp_blocked_ice_tcp"] = {
            "progress_seconds": round(elapsed, 2), "connect_ms": {"udp": connect_ms(citizen), "tcp": connect_ms(staff)},
            "staff_udp_datagrams_dropped": dropped, "relay_ice_tcp": tcp, "staff_path": staff_path,
        }
    finally:
        browsers.unblock_udp()


TURN_SECRET = "e2e-turn-shared-secret-0123456789"


def self_signed_certificate(directory, name):
    """A fresh P-256 certificate for 127.0.0.1, its key, and the SPKI pin a test browser trusts it by
    (`--ignore-certificate-errors-spki-list`), as it would trust a real certificate."""
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-subj", f"/CN={name}", "-addext", "subjectAltName=IP:127.0.0.1", "-days", "1",
                    "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    public_key = subprocess.run(["openssl", "x509", "-in", cert, "-pubkey", "-noout"], check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=public_key, check=True, capture_output=True).stdout
    import base64
    import hashlib
    return cert, key, base64.b64encode(hashlib.sha256(der).digest()).decode()


def scenario_https_visit(processes, relay, results):
    """Signaling, the web client and the events WebSocket over HTTPS (http.tls_certificate/tls_key)."""
    import ssl
    import urllib.request
    directory = processes.tempdir("vr-https-")
    cert, key, spki_pin = self_signed_certificate(directory, "visit.visitrelay.test")
    config = os.path.join(directory, "visit-relay.yaml")
    with open(config, "w") as f:
        f.write(f"http:\n  listen: 127.0.0.1:8443\n  tls_certificate: {cert}\n  tls_key: {key}\n")
    log = open(os.path.join(directory, "relay.log"), "wb")
    relay_process = processes.start([relay, "--config", config], stdout=log, stderr=log)
    context = ssl.create_default_context(cafile=cert)
    wait_for(lambda: _https_ok("https://127.0.0.1:8443/healthz", context), 15, "the relay to answer over HTTPS")
    try:
        urllib.request.urlopen("http://127.0.0.1:8443/healthz", timeout=2).read()
        raise AssertionError("plain HTTP answered on the HTTPS port")
    except OSError:
        pass
    base = "https://127.0.0.1:8443"
    pin = [f"--ignore-certificate-errors-spki-list={spki_pin}"]
    citizen = browsers.Chromium(processes, f"{base}/r/secure?role=citizen", "citizen", extra_args=pin)
    staff = browsers.Chromium(processes, f"{base}/r/secure?role=staff", "staff", extra_args=pin)
    wait_joined([citizen, staff])
    elapsed = require_progress([citizen, staff], frames_needed=30, audio_needed=50, timeout=15)
    wait_for(lambda: all(s["participant"] for s in citizen.state()["slots"][:1]), 5, "room events over WSS")
    # Certificate renewal: new files in place, SIGHUP; a new connection gets the new certificate while
    # the relay, the visit and its established WSS connections go on.
    first = _der_sha256(cert)
    assert _served_sha256(8443) == first
    renewed_dir = processes.tempdir("vr-https-renewed-")
    renewed_cert, renewed_key, _ = self_signed_certificate(renewed_dir, "visit.visitrelay.test")
    renewed = _der_sha256(renewed_cert)
    assert renewed != first
    os.replace(renewed_key, key)
    os.replace(renewed_cert, cert)
    relay_process.send_signal(signal.SIGHUP)
    wait_for(lambda: _served_sha256(8443) == renewed, 10, "a new HTTPS connection to get the renewed certificate")
    assert relay_process.poll() is None, "the relay exited on SIGHUP"
    after = require_progress([citizen, staff], frames_needed=30, audio_needed=50, timeout=10)
    assert all((page.state() or {}).get("reconnects", 0) == 0 for page in (citizen, staff)), "a client rejoined"
    with open(os.path.join(directory, "relay.log"), errors="replace") as f:
        reloaded = [line for line in f if "configuration reloaded" in line]
    assert reloaded and "tls_certificate_serial=" in reloaded[-1], reloaded
    results["https_visit"] = {"progress_seconds": round(elapsed, 2), "secure_context": citizen.evaluate("isSecureContext"),
                              "renewed_certificate_served": True, "progress_after_reload_seconds": round(after, 2)}


def _der_sha256(pem_file):
    import hashlib
    import ssl
    with open(pem_file) as f:
        return hashlib.sha256(ssl.PEM_cert_to_DER_cert(f.read())).hexdigest()


def _served_sha256(port):
    """SHA-256 of the certificate a new TLS connection to 127.0.0.1:port is served (not verified)."""
    import hashlib
    import socket
    import ssl
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock, context.wrap_socket(sock) as tls:
        return hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest()


def _https_ok(url, context):
    import urllib.request
    try:
        with urllib.request.urlopen(url, context=context, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def start_coturn(processes):
    """coturn on TLS 127.0.0.1:5349 with a fresh self-signed certificate, in use-auth-secret mode."""
    directory = processes.tempdir("vr-coturn-")
    cert, key, spki_pin = self_signed_certificate(directory, "turn.visitrelay.test")
    log = os.path.join(directory, "turnserver.log")
    processes.start(["turnserver", "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1",
                     "--listening-port=3478", "--tls-listening-port=5349", "--cert", cert, "--pkey", key,
                     "--use-auth-secret", f"--static-auth-secret={TURN_SECRET}", "--realm=visitrelay.test",
                     "--allow-loopback-peers", "--no-cli", "--no-dtls", "--fingerprint", "--min-port=49160",
                     "--max-port=49200", "--simple-log", f"--log-file={log}"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import socket
    wait_for(lambda: socket.socket().connect_ex(("127.0.0.1", 5349)) == 0, 10, "coturn to listen on 5349")
    secret_file = os.path.join(directory, "turn-secret")
    with open(secret_file, "w") as f:
        f.write(TURN_SECRET + "\n")
    return secret_file, log, spki_pin


def scenario_turn_tls(processes, relay, results):
    """Staff's UDP is dropped and its Chromium may use only relayed candidates: it reaches the relay
    through coturn over TLS (TURN credentials issued by the relay); the citizen uses UDP."""
    secret_file, turn_log, spki_pin = start_coturn(processes)
    start_relay(processes, relay, ["--tcp", "off", "--turn-url", "turns:127.0.0.1:5349?transport=tcp",
                                   "--turn-secret-file", secret_file])
    config = json.loads(http("GET", "/api/config")[1])
    server = config["iceServers"][0]
    assert server["urls"] == ["turns:127.0.0.1:5349?transport=tcp"] and ":" in server["username"], config
    browsers.block_udp_for(BLOCKED_UID)
    try:
        citizen = browsers.Chromium(processes, f"{BASE}/r/turn1?role=citizen", "citizen-udp")
        staff = browsers.Chromium(processes, f"{BASE}/r/turn1?role=staff&policy=relay", "staff-turn", uid=BLOCKED_UID,
                                 extra_args=[f"--ignore-certificate-errors-spki-list={spki_pin}",
                                             "--enable-logging=stderr", "--vmodule=*/p2p/*=1"])
        wait_joined([citizen, staff])
        try:
            elapsed = require_progress([citizen, staff], frames_needed=60, audio_needed=100, timeout=25)
        except AssertionError:
            with open(turn_log, errors="replace") as f:
                print("coturn log tail:\n" + "".join(f.readlines()[-30:]), file=sys.stderr)
            with open(staff.log_path, errors="replace") as f:
                print("staff chromium log (turn lines):\n" + "".join([l for l in f.readlines() if "urn" in l][-40:]), file=sys.stderr)
            raise
        staff_path = path_of(staff)
        assert staff_path["localType"] == "relay" and staff_path["relayProtocol"] == "tls", staff_path
        results["turn_tls"] = {
            "progress_seconds": round(elapsed, 2), "connect_ms": {"udp": connect_ms(citizen), "turn_tls": connect_ms(staff)},
            "staff_path": staff_path,
        }
    finally:
        browsers.unblock_udp()


def http(method, path, body=b"", headers=None):
    import urllib.error
    import urllib.request
    request = urllib.request.Request(f"{BASE}{path}", data=body if method in ("POST", "PATCH") else None,
                                     method=method, headers=headers or {"Content-Type": "application/sdp"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


def scenario_signaling_errors(processes, relay, results):
    """Bad input gets a clear 4xx JSON answer and changes nothing: malformed and oversized offers,
    a full room, and a join flood from one client address with the default join limits (429 with
    Retry-After for the flooder; every join from another address admitted)."""
    start_relay(processes, relay)
    cases = [
        ("POST", "/api/rooms/bad%20room/participants?role=citizen", b"v=0", 400, "bad-room"),
        ("POST", "/api/rooms/r1/participants?role=king", b"v=0", 400, "bad-role"),
        ("POST", "/api/rooms/r1/participants?role=staff", b"v=0\r\nm=video", 400, "bad-offer"),
        ("POST", "/api/rooms/r1/participants?role=staff", b"x" * (64 * 1024 + 1), 413, "offer-too-large"),
        ("DELETE", "/api/sessions/nosuchsession", b"", 404, "no-session"),
        ("PATCH", "/api/sessions/nosuchsession", b"v=0", 404, "no-session"),
    ]
    for method, path, body, status, code in cases:
        got, text, _ = http(method, path, body)
        assert got == status, f"{method} {path}: {got} {text}"
        assert json.loads(text)["error"] == code, f"{method} {path}: {text}"
    got, text, _ = http("POST", "/api/rooms/r1/participants?role=staff", b"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n")
    assert got == 400 and "ice-ufrag" in json.loads(text)["message"], text
    # Too many participants: the fifth real offer (Chromium's, captured) into a room of four gets 409.
    with open(os.path.join(REPO, "Tests", "Fixtures", "chromium-audio-video-offer.sdp"), "rb") as f:
        offer = f.read()
    statuses = [http("POST", "/api/rooms/full/participants?role=staff", offer)[0] for _ in range(4)]
    got, text, _ = http("POST", "/api/rooms/full/participants?role=citizen", offer)
    assert statuses == [201] * 4 and got == 409 and json.loads(text)["error"] == "room-full", (statuses, got, text)
    # A join flood through a proxy on loopback, from one client address, for 3 s with the default
    # limits (30 a minute per address, 20 a second for the relay), while a second address joins
    # every 0.5 s from 0.5 s on. Its offer is "v=0": a join past every limit gets 400 bad-offer.
    time.sleep(1.1)  # the relay-wide budget spent by the joins above has refilled
    flood, other, began = flood_joins(seconds=3.0, flooder="203.0.113.7", other="203.0.113.8")
    statuses = [status for status, _, _ in flood]
    limited = [(status, text, headers) for status, text, headers in flood if status == 429]
    admitted = statuses.count(400)
    assert len(flood) >= 300 and set(statuses) <= {400, 429}, (len(flood), sorted(set(statuses)))
    # The flooder's burst: 20 fit the relay's 20 at once; past its 30 it gets one every 2 s. With four
    # requests in flight the 21st is sent only after 17 answers, so the first 16 answers are all 400.
    assert statuses[:16] == [400] * 16 and 20 <= admitted <= 30 + 2, (statuses[:40], admitted)
    assert json.loads(limited[0][1])["error"] == "rate-limited" and int(limited[0][2]["Retry-After"]) >= 1, limited[0]
    assert len(other) == 5 and all(status == 400 for status, _ in other), f"the flood disturbed another client: {other}"
    assert f'visitrelay_joins_total{{outcome="rate-limited"}} {len(limited)}' in http("GET", "/metrics")[1]
    stats = json.loads(http("GET", "/api/stats")[1])
    assert stats["workers"][0]["rtpForwarded"] == 0
    results["signaling_errors"] = {"cases": len(cases) + 1, "room_full": got, "flood_requests": len(flood),
                                   "flood_429": len(limited), "flood_admitted": admitted,
                                   "other_admitted_at_s": [round(t - began, 2) for _, t in other]}


def flood_joins(seconds, flooder, other):
    """Joins from `flooder` on four threads for `seconds`, and one from `other` every 0.5 s from 0.5 s
    on. Returns the flood's (status, body, headers) in the order sent, the other's (status, time), and
    the start time."""
    import threading
    headers = {"Content-Type": "application/sdp"}
    began = time.time()
    deadline = began + seconds
    flood, lock = [], threading.Lock()

    def flood_worker():
        while time.time() < deadline:
            answer = http("POST", "/api/rooms/r2/participants?role=staff", b"v=0", dict(headers, **{"X-Forwarded-For": flooder}))
            with lock:
                flood.append(answer)

    threads = [threading.Thread(target=flood_worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    other_answers = []
    for i in range(1, int(seconds / 0.5)):
        time.sleep(max(0.0, began + 0.5 * i - time.time()))
        status = http("POST", "/api/rooms/r2/participants?role=staff", b"v=0", dict(headers, **{"X-Forwarded-For": other}))[0]
        other_answers.append((status, time.time()))
    for thread in threads:
        thread.join()
    return flood, other_answers, began


TOKEN_SECRET = b"e2e-join-token-secret-of-32-bytes-or-more"


def join_token(room, role, expires_in=600, secret=TOKEN_SECRET):
    """An HS256 JWT (RFC 7519) built with the standard library, as a scheduling system would."""
    import base64
    import hashlib
    import hmac

    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=")
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps({"room": room, "role": role, "exp": int(time.time()) + expires_in}).encode())
    signature = b64(hmac.new(secret, head + b"." + body, hashlib.sha256).digest())
    return (head + b"." + body + b"." + signature).decode()


def scenario_join_tokens(processes, relay, results):
    """With a token key configured: refusals with 401/403 and a clear code; two Chromiums with
    tokens in their invitation links' fragments join and decode."""
    directory = processes.tempdir("vr-tokens-")
    secret_file = os.path.join(directory, "token-secret")
    with open(secret_file, "wb") as f:
        f.write(TOKEN_SECRET + b"\n")
    config = os.path.join(directory, "visit-relay.yaml")
    with open(config, "w") as f:
        f.write(f"tokens:\n  hs256_secret_file: {secret_file}\n")
    start_relay(processes, relay, ["--config", config])
    offer = b"v=0"
    cases = [
        (None, 401, "token-missing"),
        ("Basic abc", 401, "token-malformed"),
        ("Bearer " + join_token("tok1", "citizen", secret=b"not-the-relays-secret-not-the-relays"), 401, "token-invalid"),
        ("Bearer " + join_token("tok1", "citizen", expires_in=-30), 401, "token-expired"),
        ("Bearer " + join_token("elsewhere", "citizen"), 403, "token-wrong-room"),
        ("Bearer " + join_token("tok1", "staff"), 403, "token-wrong-role"),
        ("Bearer " + join_token("tok1", "citizen"), 400, "bad-offer"),  # the token passes; the offer does not
    ]
    for authorization, status, code in cases:
        headers = {"Content-Type": "application/sdp"}
        if authorization:
            headers["Authorization"] = authorization
        got, text, response_headers = http("POST", "/api/rooms/tok1/participants?role=citizen", offer, headers)
        assert got == status and json.loads(text)["error"] == code, f"{authorization!r:.40}: {got} {text}"
        if status == 401:
            assert "Bearer" in (response_headers.get("WWW-Authenticate") or ""), response_headers
        # The configuration (with TURN credentials, when configured) takes the same token check.
        got, text, _ = http("GET", "/api/config?room=tok1&role=citizen", None, {k: v for k, v in headers.items() if k == "Authorization"})
        if status == 400:
            assert got == 200 and "iceServers" in json.loads(text), (got, text)
        else:
            assert got == status and json.loads(text)["error"] == code, f"/api/config {authorization!r:.40}: {got} {text}"
    got, text, _ = http("GET", "/api/config", None, {"Authorization": "Bearer " + join_token("tok1", "citizen")})
    assert got == 400 and json.loads(text)["error"] == "bad-room", (got, text)
    citizen = browsers.Chromium(processes, f"{BASE}/r/tok1?role=citizen#token={join_token('tok1', 'citizen')}", "citizen")
    staff = browsers.Chromium(processes, f"{BASE}/r/tok1?role=staff#token={join_token('tok1', 'staff')}", "staff")
    wait_joined([citizen, staff])
    require_progress([citizen, staff], frames_needed=30, audio_needed=50, timeout=15)
    results["join_tokens"] = {"refusal_cases": len(cases) - 1}


ADMIN_TOKEN = "e2e-admin-token-0123456789abcdef"


def admin(method, path, body=None, token=ADMIN_TOKEN):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else b""
    import urllib.error
    import urllib.request
    request = urllib.request.Request(f"{BASE}/admin/v1{path}", data=data if method == "PUT" else None, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read().decode() or "null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read().decode() or "null")


def video_send_kbps(page, seconds=3.0):
    """The page's outbound video rate over `seconds`, from bytesSent in getStats()."""
    def sent():
        return sum(s["bytesSent"] for s in page.stats()["outbound"] if s["kind"] == "video")
    before, began = sent(), time.time()
    time.sleep(seconds)
    return (sent() - before) * 8 / 1000 / (time.time() - began)


def start_relay_with_admin(processes, relay, limits="limits:\n  ceiling_kbps: 5000\n", extra=()):
    """The relay with the admin API on (ADMIN_TOKEN) and, unless told otherwise, a 5 Mbit/s ceiling."""
    directory = processes.tempdir("vr-admin-")
    token_file = os.path.join(directory, "admin-token")
    with open(token_file, "w") as f:
        f.write(ADMIN_TOKEN + "\n")
    config = os.path.join(directory, "visit-relay.yaml")
    with open(config, "w") as f:
        f.write(f"admin:\n  token_file: {token_file}\n{limits}")
    return start_relay(processes, relay, ["--config", config, *extra])


def scenario_admin_limits(processes, relay, results):
    """The admin API: 401 without its token; rooms with rates; a citizen up limit set live reaches
    the citizen's Chromium as REMB and its video rate drops below the cap; lifting it lets it rise."""
    start_relay_with_admin(processes, relay)
    for token in (None, "not-the-admin-token-at-all-no"):
        status, body = admin("GET", "/rooms", token=token)
        assert status == 401 and body["error"] == "admin-unauthorized", (token, status, body)
    citizen = browsers.Chromium(processes, f"{BASE}/r/adm1?role=citizen", "citizen")
    staff = browsers.Chromium(processes, f"{BASE}/r/adm1?role=staff", "staff")
    wait_joined([citizen, staff])
    require_progress([citizen, staff], frames_needed=30, audio_needed=50, timeout=15)
    before = video_send_kbps(citizen)

    status, rooms = admin("GET", "/rooms")
    assert status == 200 and len(rooms) == 1 and rooms[0]["room"] == "adm1", rooms
    by_role = {p["role"]: p for p in rooms[0]["participants"]}
    assert set(by_role) == {"citizen", "staff"} and all(p["connected"] for p in by_role.values()), by_role
    assert by_role["citizen"]["bitrateInKbps"] > 50 and by_role["staff"]["bitrateOutKbps"] > 50, by_role
    assert by_role["citizen"]["rttMs"] is not None, by_role

    for path, body, status_wanted in [
        ("/limits", {"roles": {"king": {"upKbps": 100}}}, 400),
        ("/limits", {"roles": {"citizen": {"upKbps": 5}}}, 400),
        ("/rooms/adm1/limits", "not json", 400),
        ("/participants/999999/limits", {"upKbps": 100}, 404),
    ]:
        status, answer = admin("PUT", path, body)
        assert status == status_wanted, (path, status, answer)

    cap = 120
    citizen_id = by_role["citizen"]["id"]
    status, policy = admin("PUT", f"/participants/{citizen_id}/limits", {"upKbps": cap})
    assert status == 200 and policy["participants"][citizen_id]["upKbps"] == cap, policy
    applied = time.time()
    wait_for(lambda: video_send_kbps(citizen, 1.0) < cap * 1.15, 15, f"the citizen's video to fall under {cap} kbit/s")
    took = time.time() - applied
    capped = video_send_kbps(citizen)
    assert capped < cap * 1.15, capped
    status, rooms = admin("GET", "/rooms")
    citizen_row = next(p for p in rooms[0]["participants"] if p["role"] == "citizen")
    assert citizen_row["senderCapKbps"] == cap and citizen_row["limits"]["upKbps"] == cap, citizen_row
    assert prometheus().get("visitrelay_rembs_sent_total", 0) >= 1
    require_progress([staff], frames_needed=20, audio_needed=20, timeout=10)  # still decoding, at the cap

    status, _ = admin("PUT", f"/participants/{citizen_id}/limits", {})
    assert status == 200
    # Lifted: the relay's REMB follows staff's downlink estimate again at once (our part), and the
    # citizen's video rises past the whole former cap, which it could not reach under it (audio
    # shares the cap). How far Chromium then climbs is its own estimator and the fake camera's
    # content (about 200 kbit/s settled), so the bar is the cap, not the rate before it.
    lifted, trace = time.time(), []
    while True:
        sent = video_send_kbps(citizen, 1.0)
        status, rooms = admin("GET", "/rooms")
        rows = {p["role"]: p for p in rooms[0]["participants"]} if status == 200 and rooms else {}
        relay_cap = (rows.get("citizen") or {}).get("senderCapKbps")
        trace.append({"t": round(time.time() - lifted, 1), "sent_kbps": round(sent),
                      "relay_cap_kbps": relay_cap and round(relay_cap),
                      "staff_estimate_kbps": (rows.get("staff") or {}).get("downlinkEstimateKbps")})
        if len(trace) == 2:
            assert relay_cap is None or relay_cap > 2 * cap, f"the relay still caps the citizen: {trace}"
        if sent > cap and len(trace) >= 2:
            break
        assert time.time() - lifted < 20, f"the citizen's video did not rise past the former cap within 20 s: {trace}"
    results["admin_limits"] = {"before_kbps": round(before), "cap_kbps": cap, "capped_kbps": round(capped),
                               "seconds_to_cap": round(took, 1), "seconds_to_rise": trace[-1]["t"],
                               "relay_cap_after_kbps": trace[1]["relay_cap_kbps"]}


def encoding_send_kbps(page, seconds=3.0):
    """The page's outbound video rate per simulcast rid over `seconds`, from getStats()."""
    def sent():
        return {s["rid"]: s["bytesSent"] for s in page.stats()["outbound"] if s["kind"] == "video"}
    before, began = sent(), time.time()
    time.sleep(seconds)
    after = sent()
    return {rid: (after[rid] - before.get(rid, 0)) * 8 / 1000 / (time.time() - began) for rid in after}


def inbound_video(page):
    return next(s for s in page.stats()["inbound"] if s["kind"] == "video" and s["framesDecoded"] > 0)


def received_layers(name):
    status, rooms = admin("GET", "/rooms")
    assert status == 200, rooms
    return next(p for p in rooms[0]["participants"] if p["role"] == name)["receivedLayers"]


def scenario_simulcast(processes, relay, results):
    """Staff's Chromium sends two simulcast encodings (l at half resolution, h at full). The citizen
    gets h; an admin down limit between the two rates makes the relay forward l (the citizen's
    decoder goes on, at 320 pixels wide, without a rejoin); lifting the limit brings h back."""
    start_relay_with_admin(processes, relay)
    citizen = browsers.Chromium(processes, f"{BASE}/r/sim1?role=citizen", "citizen")
    staff = browsers.Chromium(processes, f"{BASE}/r/sim1?role=staff", "staff")
    wait_joined([citizen, staff])
    require_progress([citizen, staff], frames_needed=30, audio_needed=50, timeout=15)
    status, rooms = admin("GET", "/rooms")
    by_role = {p["role"]: p for p in rooms[0]["participants"]}
    assert by_role["staff"]["simulcastLayers"] == ["l", "h"] and by_role["citizen"]["simulcastLayers"] == [], by_role
    rates = wait_for(lambda: (lambda r: r if r.get("l", 0) > 30 and r.get("h", 0) > 1.4 * r["l"] else None)(
        encoding_send_kbps(staff, 1.5)), 30, "staff's Chromium to send both encodings, h well above l")
    wait_for(lambda: received_layers("citizen") == ["h"], 20, "the citizen to receive h")
    wait_for(lambda: inbound_video(citizen)["frameWidth"] == 640, 10, "640-wide frames at the citizen")

    # Room for l and audio (about 40 kbit/s with overhead) but not for h.
    cap = int(rates["l"] + 50 + (rates["h"] - rates["l"]) / 3)
    switched_at = time.time()
    status, _ = admin("PUT", f"/participants/{by_role['citizen']['id']}/limits", {"downKbps": cap})
    assert status == 200
    wait_for(lambda: received_layers("citizen") == ["l"], 10, f"the citizen to receive l under {cap} kbit/s")
    wait_for(lambda: inbound_video(citizen)["frameWidth"] == 320, 10, "320-wide frames at the citizen")
    down_seconds = time.time() - switched_at
    require_progress([citizen], frames_needed=30, audio_needed=50, timeout=10)
    before = inbound_video(citizen)["bytesReceived"]
    time.sleep(3)
    low_kbps = (inbound_video(citizen)["bytesReceived"] - before) * 8 / 1000 / 3
    assert low_kbps < cap, (low_kbps, cap)

    lifted_at = time.time()
    status, _ = admin("PUT", f"/participants/{by_role['citizen']['id']}/limits", {})
    assert status == 200
    wait_for(lambda: received_layers("citizen") == ["h"], 20, "the citizen to receive h again")
    wait_for(lambda: inbound_video(citizen)["frameWidth"] == 640, 10, "640-wide frames at the citizen again")
    up_seconds = time.time() - lifted_at
    require_progress([citizen, staff], frames_needed=30, audio_needed=50, timeout=10)
    assert (citizen.state() or {}).get("reconnects") == 0, "the citizen rejoined"
    switches = prometheus().get("visitrelay_simulcast_layer_switches_total", 0)
    assert switches >= 2, switches
    results["simulcast"] = {"sent_kbps": {k: round(v) for k, v in rates.items()}, "cap_kbps": cap,
                            "received_low_kbps": round(low_kbps), "seconds_down": round(down_seconds, 1),
                            "seconds_up": round(up_seconds, 1), "layer_switches": switches}


class NotifySocket:
    """A fake systemd: the AF_UNIX datagram socket a service's sd_notify messages go to."""

    def __init__(self, processes):
        import socket
        self.path = os.path.join(processes.tempdir("vr-notify-"), "notify.sock")
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind(self.path)
        self.socket.settimeout(0.2)
        self.messages = []

    def wait(self, assignment, timeout):
        """Waits for a message containing `assignment` (e.g. "READY=1"); returns seconds waited."""
        start = time.time()
        while time.time() - start < timeout:
            try:
                message = self.socket.recv(4096).decode()
            except OSError:
                continue
            self.messages.append((time.time(), message))
            if assignment in message.split("\n"):
                return time.time() - start
        raise AssertionError(f"no {assignment} within {timeout} s; got {[m for _, m in self.messages]}")


def scenario_systemd_lifecycle(processes, relay, results):
    """Type=notify behaviour on a fake NOTIFY_SOCKET: READY=1, watchdog pings, RELOADING=1/READY=1 on
    SIGHUP, then SIGTERM under a live visit: STOPPING=1, joins refused, the client told, exit within
    the grace period."""
    notify = NotifySocket(processes)
    directory = processes.tempdir("vr-systemd-")
    config = os.path.join(directory, "visit-relay.yaml")
    with open(config, "w") as f:
        f.write("shutdown:\n  grace_seconds: 2\nlogging:\n  level: info\n")
    log = open(os.path.join(directory, "relay.log"), "wb")
    env = dict(os.environ, NOTIFY_SOCKET=notify.path, WATCHDOG_USEC="1000000")
    process = processes.start([relay, "--config", config, "--http", HTTP], stdout=log, stderr=log, env=env)
    ready = notify.wait("READY=1", 15)
    watchdog = notify.wait("WATCHDOG=1", 3)
    # Reload: the log level changes at runtime; the file is read again.
    with open(config, "w") as f:
        f.write("shutdown:\n  grace_seconds: 2\nlogging:\n  level: debug\n")
    process.send_signal(signal.SIGHUP)
    notify.wait("RELOADING=1", 5)
    notify.wait("READY=1", 5)
    # A broken file on reload keeps the running configuration (and says so).
    with open(config, "w") as f:
        f.write("media:\n  workers: many\n")
    process.send_signal(signal.SIGHUP)
    notify.wait("READY=1", 5)
    citizen = browsers.Chromium(processes, f"{BASE}/r/drain?role=citizen", "citizen")
    wait_joined([citizen])
    process.send_signal(signal.SIGTERM)
    stopping_at = time.time()
    notify.wait("STOPPING=1", 5)
    import urllib.error
    try:
        status, text, _ = http("POST", "/api/rooms/drain/participants?role=staff", b"v=0")
        assert status == 503 and json.loads(text)["error"] == "draining", (status, text)
    except urllib.error.URLError:
        pass  # the listener is already closed: no new joins either way
    wait_for(lambda: (citizen.state() or {}).get("lastBye") == "draining", 5, "the citizen to be told the relay drains")
    process.wait(timeout=15)
    exited = time.time() - stopping_at
    assert exited <= 2 + 5, f"exit took {exited:.1f} s with a 2 s grace period"
    with open(os.path.join(directory, "relay.log"), errors="replace") as f:
        relay_log = f.read()
    assert "configuration reload failed" in relay_log and "media.workers" in relay_log, relay_log[-2000:]
    assert "<7>" in relay_log, "after the first reload the log level is debug"
    results["systemd_lifecycle"] = {"ready_seconds": round(ready, 2), "first_watchdog_seconds": round(watchdog, 2),
                                    "exit_after_sigterm_seconds": round(exited, 2)}


def freeze_stats(page):
    video = [s for s in page.stats()["inbound"] if s["kind"] == "video"]
    keys = ("framesDecoded", "freezeCount", "totalFreezesDuration", "nackCount", "pliCount", "packetsLost")
    return {k: sum(s.get(k, 0) or 0 for s in video) for k in keys}


def on_and_off(run_mode):
    """Runs `run_mode(processes, mode)` for "on" then "off", each with its own processes (stopped after
    it), and returns {mode: figures}: a feature and its absence measured in the same run."""
    figures = {}
    for mode in ("on", "off"):
        run = browsers.Processes()
        try:
            figures[mode] = run_mode(run, mode)
        finally:
            run.stop_all()
    return figures


def scenario_relay_repair(processes, relay, results):
    """Citizen uplink with 5 % loss and 30 ms jitter: the staff's freezes with relay NACK on vs off."""
    def repair_run(run, mode):
        start_relay(run, relay, ["--announce-address", "127.0.0.1:41000", "--relay-nack", mode])
        start_emulator(run, relay, "lossy-uplink", "127.0.0.1:41000", "127.0.0.1:40000", ["--seed", "7"])
        citizen = browsers.Chromium(run, f"{BASE}/r/repair{mode}?role=citizen", "citizen")
        staff = browsers.Chromium(run, f"{BASE}/r/repair{mode}?role=staff", "staff")
        wait_joined([citizen, staff])
        require_progress([staff], frames_needed=10, audio_needed=20, timeout=15)
        before = freeze_stats(staff)
        time.sleep(20)  # the measuring window, not synchronisation
        after = freeze_stats(staff)
        figures = {k: round(after[k] - before[k], 3) for k in after}
        relay_stats = json.loads(http("GET", "/api/stats")[1])["workers"][0]
        figures["relayNacksSent"] = relay_stats["nacksSent"]
        figures["relayRecovered"] = relay_stats["recoveredByRetransmission"]
        return figures
    figures = on_and_off(repair_run)
    results["relay_repair"] = figures
    on, off = figures["on"], figures["off"]
    assert on["relayRecovered"] > 0, f"relay repair recovered nothing: {on}"
    assert on["totalFreezesDuration"] * 2 <= off["totalFreezesDuration"], f"freezes not halved: on {on}, off {off}"


CAPPED_PROFILES = {
    "capped-500k": {
        "description": "A 4G uplink held at 500 kbit/s with a bloated modem buffer (about 1.6 s), 20 ms each way",
        "uplink": {"rateBps": 500000, "queuePackets": 100, "delayMs": 20},
        "downlink": {"rateBps": 20000000, "queuePackets": 1000, "delayMs": 20},
    }
}


def busy_camera(directory, width=640, height=360, frames=90):
    """A Y4M file (YUV 4:2:0, 30 fps) for --use-file-for-fake-video-capture: a gradient with a
    textured square gliding across it and a block of fresh noise in every frame, so the encoder has
    real work at every rate (Chromium's own fake camera is too simple to fill 500 kbit/s)."""
    import random
    rng = random.Random(7)
    texture = bytes(rng.randrange(256) for _ in range(128 * 128))
    background = bytearray((x + y) % 256 for y in range(height) for x in range(width))
    chroma = bytes([128]) * (width * height // 2)
    path = os.path.join(directory, "busy.y4m")
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode())
        for n in range(frames):
            luma = bytearray(background)
            left, top = (n * 6) % (width - 128), 60 + (n * 3) % (height - 188)
            for row in range(128):
                start = (top + row) * width + left
                luma[start:start + 128] = texture[row * 128:(row + 1) * 128]
            noise = os.urandom(64 * 64)
            nx, ny = 400 + (n % 30) * 4, 40
            for row in range(64):
                start = (ny + row) * width + nx
                luma[start:start + 64] = noise[row * 64:(row + 1) * 64]
            f.write(b"FRAME\n" + bytes(luma) + chroma)
    return path


def capped_uplink_run(processes, relay, directory, mode):
    """One visit with the citizen's uplink capped; returns what the citizen's Chromium sent."""
    profiles = os.path.join(directory, "profiles.json")
    with open(profiles, "w") as f:
        json.dump(CAPPED_PROFILES, f)
    start_relay(processes, relay, ["--announce-address", "127.0.0.1:41000", "--transport-feedback", mode])
    start_emulator(processes, relay, "capped-500k", "127.0.0.1:41000", "127.0.0.1:40000", ["--profiles", profiles, "--seed", "3"])
    # Chromium's built-in fake camera compresses to about 250 kbit/s whatever the estimate: the busy
    # camera lets the encoder use what the estimator allows, as a real room on a tablet would.
    camera = busy_camera(directory)
    citizen = browsers.Chromium(processes, f"{BASE}/r/capped{mode}?role=citizen", "citizen",
                                extra_args=[f"--use-file-for-fake-video-capture={camera}"])
    staff = browsers.Chromium(processes, f"{BASE}/r/capped{mode}?role=staff", "staff")
    wait_joined([citizen, staff])
    wait_for(lambda: (citizen.stats()["candidatePair"] or {}).get("bytesSent"), 15, "the citizen to send")
    samples = []  # (seconds since connected, bytesSent, rtt, estimate)
    began = time.time()
    while time.time() - began < 26:
        pair = citizen.stats()["candidatePair"] or {}
        samples.append((time.time() - began, pair.get("bytesSent", 0), pair.get("currentRoundTripTime"),
                        pair.get("availableOutgoingBitrate")))
        time.sleep(1)
    require_progress([staff], frames_needed=30, audio_needed=30, timeout=10)
    rates = [((b2 - b1) * 8 / (t2 - t1), t2) for (t1, b1, *_), (t2, b2, *_) in zip(samples, samples[1:])]
    settled = [rate for rate, t in rates if t >= 11]
    rtts = sorted(r for t, _, r, _ in samples if r is not None and t >= 11)
    figures = {
        "settled_kbps": round(sum(settled) / len(settled) / 1000),
        "per_second_kbps": [round(rate / 1000) for rate, _ in rates],
        "rtt_base_ms": round(min(r for _, _, r, _ in samples if r is not None) * 1000),
        "rtt_p95_ms": round(rtts[int(0.95 * (len(rtts) - 1))] * 1000),
        "estimate_kbps": [round(e / 1000) if e else None for *_, e in samples][::3],
        "transport_feedback_sent": prometheus().get("visitrelay_transport_feedback_sent_total", 0),
    }
    return figures


def scenario_capped_uplink(processes, relay, results):
    """The citizen's uplink is held at 500 kbit/s. With the relay's transport-cc feedback, Chromium's
    own estimator settles within 10 s at 70-100 % of the cap, RTT p95 within base + 200 ms; without
    it (same run, for comparison) Chromium's loss-based estimator fills the modem buffer: its RTT p95
    is at least 300 ms worse."""
    cap_kbps = 500

    def check(figures):
        on, off = figures["on"], figures["off"]
        assert on["transport_feedback_sent"] > 0 and off["transport_feedback_sent"] == 0, figures
        assert 0.70 * cap_kbps <= on["settled_kbps"] <= 1.02 * cap_kbps, f"settled at {on['settled_kbps']} kbit/s: {on}"
        assert on["rtt_p95_ms"] <= on["rtt_base_ms"] + 200, f"RTT p95 {on['rtt_p95_ms']} ms over base {on['rtt_base_ms']} ms: {on}"
        # The comparison means something only if feedback is what makes the difference.
        assert off["rtt_p95_ms"] >= on["rtt_p95_ms"] + 300, f"without feedback the RTT p95 is not worse: on {on}, off {off}"
    # One more pair on a miss: a stalled worker or browser on a loaded machine looks like queueing
    # to Chromium's delay-based estimator (the arrival times in our feedback are when the worker
    # read each datagram), which then backs off far under the cap.
    figures = on_and_off_again_if(lambda run, mode: capped_uplink_run(run, relay, processes.tempdir("vr-capped-"), mode), check)
    results["capped_uplink"] = dict(cap_kbps=cap_kbps, **figures)
    check(figures)


RURAL_DOWNLINK_PROFILES = {
    "rural-downlink": {
        "description": "rural-4g's downlink (RFC 8867 1 Mbit/s trace, 100 KB queue, 50 ms, jitter, 2 % loss) behind a fast uplink",
        "uplink": {"rateBps": 20000000, "queuePackets": 1000, "delayMs": 20},
        "downlink": {"trace": "synthetic/rfc8867-tc5.1-1mbps.mm", "queueBytes": 100000, "delayMs": 50, "jitterMs": 8,
                     "loss": 0.02},
    }
}


def rural_downlink_run(processes, relay, directory, mode):
    """Staff with a busy camera and the citizen, each behind a fast uplink and rural-4g's downlink.
    Returns what the link-emulator saw on the downlinks and what the citizen decoded."""
    import signal
    profiles = os.path.join(directory, "profiles.json")
    with open(profiles, "w") as f:
        json.dump(RURAL_DOWNLINK_PROFILES, f)
    start_relay(processes, relay, ["--downlink-estimation", mode, "--announce-address", "127.0.0.1:41000"])
    emulator, summary = start_emulator(processes, relay, "rural-downlink", "127.0.0.1:41000", "127.0.0.1:40000",
                                       ["--profiles", profiles, "--seed", "5"])
    camera = busy_camera(directory)
    staff = browsers.Chromium(processes, f"{BASE}/r/downlink{mode}?role=staff", "staff",
                              extra_args=[f"--use-file-for-fake-video-capture={camera}"])
    citizen = browsers.Chromium(processes, f"{BASE}/r/downlink{mode}?role=citizen", "citizen")
    wait_joined([citizen, staff])
    require_progress([citizen], frames_needed=10, audio_needed=20, timeout=20)
    began = time.time()

    def sample():
        """(seconds, frames the citizen decoded, the width it decodes at, and per staff encoding
        (rid; None without simulcast) its frames sent and width)."""
        outbound = (staff.stats() or {"outbound": []})["outbound"]
        sent = {s["rid"]: (s.get("framesSent", 0), s.get("frameWidth") or 0) for s in outbound if s["kind"] == "video"}
        inbound = [i for i in citizen.stats()["inbound"] if i["kind"] == "video" and i["framesDecoded"] > 0]
        width = max((i.get("frameWidth") or 0 for i in inbound), default=0)
        return time.time() - began, totals(citizen)[0], width, sent
    samples = []
    while time.time() - began < 24:
        samples.append(sample())
        time.sleep(2)
    window = [row for row in samples if row[0] >= samples[-1][0] - 10.5]
    decoded_last_10s = window[-1][1] - window[0][1]
    sent_by_rid = {str(rid): count - window[0][3].get(rid, (0, 0))[0] for rid, (count, _) in window[-1][3].items()}
    # The most of any encoding: with simulcast each layer sends the camera's frames (a lower one
    # may skip some).
    sent_last_10s = max(sent_by_rid.values(), default=0)
    # What was sent of the encoding the citizen was shown: per 2 s step, the encoding whose width is
    # nearest the one the citizen decodes at either end of the step (a layer switch inside a step
    # counts the larger of the two). A high layer can run at a third of the low one's frame rate, so
    # judging against the most of any encoding reads a choppy high layer as frames lost.
    sent_shown = 0
    for (_, _, width_a, sent_a), (_, _, width_b, sent_b) in zip(window, window[1:]):
        def nearest(width):
            return min(sent_b, key=lambda rid: abs(sent_b[rid][1] - width)) if sent_b else None
        steps = [sent_b[rid][0] - sent_a.get(rid, (sent_b[rid][0], 0))[0] for rid in {nearest(width_a), nearest(width_b)} if rid in sent_b]
        sent_shown += max(steps, default=0)
    staff_estimate = round(((staff.stats()["candidatePair"] or {}).get("availableOutgoingBitrate") or 0) / 1000)
    # What repair did over the whole run, to tell lost frames' causes apart (measured, not asserted):
    # the citizen's requests and freezes (summed over its video streams, an idle slot's padding-only
    # stream included), and the relay's keyframe requests, retransmissions and layer switches.
    video_in = [i for i in citizen.stats()["inbound"] if i["kind"] == "video"]
    repair = {key: round(sum(i[key] for i in video_in), 2)
              for key in ("nackCount", "pliCount", "freezeCount", "totalFreezesDuration", "packetsLost", "packetsReceived")}
    repair["relay"] = {name.replace("visitrelay_", ""): value for name, value in prometheus().items()
                       if any(word in name for word in ("keyframe", "simulcast", "nack", "retransmi", "rtx", "pace", "padding", "unreachable", "pauses"))}
    emulator.send_signal(signal.SIGTERM)  # it writes its summary on exit
    emulator.wait(timeout=10)
    with open(summary) as f:
        report = json.load(f)
    return {"downlink": report["downlink"], "frames_decoded_last_10s": decoded_last_10s,
            "frames_sent_last_10s": sent_last_10s, "staff_estimate_kbps": staff_estimate, "repair": repair,
            "frames_sent_last_10s_by_rid": sent_by_rid, "frames_sent_shown_last_10s": sent_shown,
            "decoded_width": window[-1][2]}


def scenario_rural_downlink(processes, relay, results):
    """Both browsers sit behind a fast uplink and rural-4g's downlink; staff sends a busy camera.
    With the relay's downlink estimation, staff is capped by REMB at what the citizen's link carries:
    the downlink queue stays short and the citizen keeps decoding. Without it (same run, for
    comparison) staff sends at its fast uplink's rate into the citizen's 1 Mbit/s link."""
    def check(figures):
        on = figures["on"]
        # Judged against what staff sent in the same 10 s of the encoding the citizen was shown: how
        # fast staff's encoder runs depends on the machine's load (runs beside a CPU load: 6-13 frames
        # a second, on and off alike) and on the layer (a bandwidth-limited `h` ran at 10 frames a
        # second beside `l` at 30); what is lost between the two is the relay's and the link's.
        for mode in ("on", "off"):
            run = figures[mode]
            run["decoded_of_sent"] = round(run["frames_decoded_last_10s"] / max(run["frames_sent_shown_last_10s"], 1), 2)
        assert on["frames_sent_last_10s"] >= 30, f"staff sent too little video to judge: {figures}"
        assert on["decoded_of_sent"] >= 0.5, f"the citizen stopped decoding: {figures}"
        # Fits the link: no standing queue and no loss beyond the link's 2 %. The p95 is looser than the
        # median: a keyframe (after a PLI on a lost packet) arrives from staff's pacer at 2.5 times its
        # rate; before the relay paced what it forwards, it queued for up to a few hundred ms on the
        # 1 Mbit/s link (runs: p95 39-219 ms on; about 800 ms, with half the packets lost, off; with
        # the relay's pacer 20-41 ms on).
        assert on["downlink"]["queueDelayMs"]["p50"] <= 50, f"the relay overfilled the downlink: {figures}"
        assert on["downlink"]["queueDelayMs"]["p95"] <= 400, f"the relay overfilled the downlink: {figures}"
        assert on["downlink"]["loss"] <= 0.05, f"loss beyond the link's 2 %: {figures}"
        # Without the estimate (same run) nothing holds staff to the citizen's link. How badly that goes
        # depends on how fast staff's encoder runs (runs: p95 798 ms with 32-48 % loss and nothing
        # decoded; or a short queue but 40 % fewer frames decoded), so off must be clearly worse on at
        # least one of the three measures.
        off = figures["off"]
        worse = {
            "queue_p95": off["downlink"]["queueDelayMs"]["p95"] >= 2 * on["downlink"]["queueDelayMs"]["p95"],
            "loss": off["downlink"]["loss"] >= on["downlink"]["loss"] + 0.05,
            "frames": off["frames_decoded_last_10s"] <= 0.8 * on["frames_decoded_last_10s"],
        }
        figures["off_worse_by"] = [name for name, bad in worse.items() if bad]
        assert any(worse.values()), f"without downlink estimation the visit is no worse: {figures}"
    # One more pair on a miss: on a loaded machine staff's encoder or the citizen's decoder can stall
    # for seconds (a run beside other work decoded nothing in the last 10 s at a 120 kbit/s estimate).
    figures = on_and_off_again_if(
        lambda run, mode: rural_downlink_run(run, relay, processes.tempdir("vr-downlink-"), mode), check)
    results["rural_downlink"] = figures
    check(figures)


def stun_request(username, password, transaction=None):
    """A Binding request with USERNAME, PRIORITY, ICE-CONTROLLING, MESSAGE-INTEGRITY (keyed with
    `password`) and FINGERPRINT (RFC 8489), as an attacker who knows the ufrags but not the password
    would build it."""
    import hashlib
    import hmac
    import struct
    import zlib
    transaction = transaction or os.urandom(12)

    def attribute(kind, value):
        return struct.pack("!HH", kind, len(value)) + value + b"\0" * (-len(value) % 4)
    body = attribute(0x0006, username.encode()) + attribute(0x0024, struct.pack("!I", 0x6E0001FF))
    body += attribute(0x802A, os.urandom(8))
    header = struct.pack("!HHI", 0x0001, len(body) + 24, 0x2112A442) + transaction
    mac = hmac.new(password.encode(), header + body, hashlib.sha1).digest()
    body += attribute(0x0008, mac)
    header = struct.pack("!HHI", 0x0001, len(body) + 8, 0x2112A442) + transaction
    crc = (zlib.crc32(header + body) ^ 0x5354554E) & 0xFFFFFFFF
    return header + body + attribute(0x8028, struct.pack("!I", crc))


def udp_kernel_drops(port):
    """Datagrams the kernel dropped for the UDP socket bound to `port` (receive buffer full)."""
    with open("/proc/net/udp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if int(fields[1].split(":")[1], 16) == port:
                return int(fields[-1])
    return 0


def relay_rss_kib(process):
    with open(f"/proc/{process.pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def scenario_hostile_traffic(processes, relay, results):
    """During a Chromium visit, 64 source ports send garbage, STUN with bad integrity or unknown
    users, ClientHello-looking DTLS, RTP/RTCP with valid headers and bad tags, and replays: the visit
    keeps decoding, nothing injected is forwarded, memory stays flat, every drop is counted by reason."""
    import random
    import socket
    import struct
    relay_process = start_relay(processes, relay)
    citizen = browsers.Chromium(processes, f"{BASE}/r/hostile?role=citizen", "citizen")
    staff = browsers.Chromium(processes, f"{BASE}/r/hostile?role=staff", "staff")
    wait_joined([citizen, staff])
    require_progress([citizen, staff], frames_needed=20, audio_needed=50, timeout=15)
    descriptions = citizen.evaluate("visitRelay.descriptions()")

    def ufrag(sdp):
        return next(line.split(":", 1)[1].strip() for line in sdp.splitlines() if line.startswith("a=ice-ufrag:"))
    relay_ufrag, citizen_ufrag = ufrag(descriptions["remote"]), ufrag(descriptions["local"])

    def sent_by_browsers(not_before_ms=0):
        """packetsSent of both browsers, from stats measured at `not_before_ms` (wall clock) or later:
        Chromium caches getStats briefly, and a stale count would race the relay's."""
        def fresh():
            outbound = [o for page in (citizen, staff) for o in page.stats()["outbound"]]
            if outbound and all(o["timestamp"] >= not_before_ms for o in outbound):
                return [sum(o["packetsSent"] for o in outbound)]
        return wait_for(fresh, 5, "browser stats measured after the relay's")[0]
    # The browsers' count is read before the relay's at the start and after it at the end, so the
    # packets the browsers sent in the window include every one the relay could forward in it.
    before_sent = sent_by_browsers()
    before_metrics, before_rss = prometheus(), relay_rss_kib(relay_process)
    before_kernel = udp_kernel_drops(40000)
    rng = random.Random(11)
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(64)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    target = ("127.0.0.1", 40000)
    kinds = {}

    def rtp_like(rtcp=False):
        header = struct.pack("!BBHII", 0x80 | (0 if rtcp else 0x10), 200 if rtcp else 96, rng.randrange(65536),
                             rng.randrange(1 << 32), rng.randrange(1 << 32))
        return header + os.urandom(rng.randrange(40, 1100))
    makers = {
        "random": lambda: os.urandom(rng.randrange(1, 1400)),
        "short": lambda: os.urandom(rng.randrange(1, 4)),
        "stun_bad_integrity": lambda: stun_request(f"{relay_ufrag}:{citizen_ufrag}", "not-the-relay-password-00"),
        "stun_unknown_user": lambda: stun_request(f"nosuchufrag:{citizen_ufrag}", "whatever-password-000000"),
        "stun_truncated": lambda: stun_request(f"{relay_ufrag}:{citizen_ufrag}", "x")[:rng.randrange(20, 60)],
        "dtls_client_hello": lambda: bytes([22, 0xFE, 0xFD]) + os.urandom(rng.randrange(60, 300)),
        "srtp_bad_tag": lambda: rtp_like(),
        "srtcp_bad_tag": lambda: rtp_like(rtcp=True),
    }
    # Built before the clock starts, so a loaded machine's Python spends the 8 s sending, not
    # hashing (each goes out about six times; the relay judges every copy afresh).
    pool = []
    for _ in range(8000):
        kind = rng.choice(list(makers))
        pool.append((kind, makers[kind](), rng.choice(sockets)))
    began = time.time()
    sent = 0
    while time.time() - began < 8:
        for kind, data, sock in pool[sent % len(pool):sent % len(pool) + 100]:
            sock.sendto(data, target)
            kinds[kind] = kinds.get(kind, 0) + 1
            sent += 1
        ahead = sent / 6000 - (time.time() - began)  # about 6,000 a second, no more
        if ahead > 0:
            time.sleep(ahead)
    elapsed = time.time() - began
    # The per-source bound below can fail only if the 64 ports offer more than their budgets
    # (64 x 50 a second): the README claims at least 4,000 a second, so assert that.
    assert sent / elapsed >= 4000, f"offered {sent / elapsed:.0f} datagrams a second, under the 4,000 the scenario claims"
    require_progress([citizen, staff], frames_needed=30, audio_needed=50, timeout=10)  # the visit goes on
    after_metrics, after_rss = prometheus(), relay_rss_kib(relay_process)
    after_sent = sent_by_browsers(not_before_ms=time.time() * 1000)
    kernel_drops = udp_kernel_drops(40000) - before_kernel
    for sock in sockets:
        sock.close()

    def delta(name):
        return after_metrics.get(name, 0) - before_metrics.get(name, 0)
    drops = {key.split('"')[1]: delta(key) for key in after_metrics if key.startswith("visitrelay_dropped_total{")}
    drops = {reason: count for reason, count in drops.items() if count}
    forwarded = delta("visitrelay_rtp_packets_forwarded_total")
    results["hostile_traffic"] = {
        "datagrams": sent, "per_second": round(sent / elapsed), "drops": drops, "forwarded": forwarded,
        "sent_by_browsers": after_sent - before_sent, "rss_growth_kib": after_rss - before_rss,
        "kernel_receive_buffer_drops": kernel_drops,
    }
    assert forwarded <= after_sent - before_sent, f"the relay forwarded more than the browsers sent: {results['hostile_traffic']}"
    # Every hostile datagram the kernel handed the relay is dropped and counted under some reason
    # (the browsers' own traffic adds a few drops too, e.g. no_receiver); a flood beyond what the
    # worker reads is dropped by the kernel, counted there.
    counted = sum(drops.values())
    assert counted + kernel_drops >= sent * 0.995, f"hostile datagrams not all counted: {counted} + {kernel_drops} of {sent}: {drops}"
    expected = {"stun_bad_integrity", "stun_unknown_username", "stun_malformed", "dtls_before_ice", "unknown_address",
                "unknown_kind", "too_short", "rate_limited"}
    assert expected <= set(drops), f"reasons missing: {expected - set(drops)}: {drops}"
    # The per-source limit holds: past it, each of the 64 ports got at most its burst (100) and 50
    # datagrams a second examined (a second of slack; the browsers' own few drops ride along).
    # (Datagrams under 4 bytes are refused before the limit: no work is spent on them.)
    examined = counted - drops.get("rate_limited", 0) - drops.get("too_short", 0)
    bound = 64 * (100 + 50 * (elapsed + 1)) + 500
    results["hostile_traffic"]["examined"] = examined
    assert examined <= bound, f"per-source limit exceeded: {examined} examined > {bound}: {drops}"
    assert after_rss - before_rss < 20 * 1024, f"relay memory grew by {after_rss - before_rss} KiB"


def scenario_load_smoke(processes, relay, results):
    """relay-load for 10 s with two simulated visits (real ICE, DTLS, SRTP, VP8, Opus): every packet
    forwarded arrives, none lost or altered, the sampled receiver decodes 640x360 VP8 without an
    error, relay-added latency measured. The relay runs as the load scripts run it, its media worker
    on SCHED_RR (media.realtime_priority): the metric and the kernel agree the thread got it."""
    relay_process = start_relay(processes, relay, env={"VISITRELAY_MEDIA_REALTIME_PRIORITY": "10"})
    assert prometheus()["visitrelay_workers_realtime"] == 1, "make test runs as root: SCHED_RR is granted"
    policies = {}
    for task in os.listdir(f"/proc/{relay_process.pid}/task"):
        with open(f"/proc/{relay_process.pid}/task/{task}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        policies[task] = (int(fields[37]), int(fields[38]))  # proc(5): rt_priority, policy (fields 40, 41)
    assert sorted(policies.values()).count((10, 2)) == 1, policies  # one worker thread on SCHED_RR (2) at 10
    output = os.path.join(processes.tempdir("vr-load-"), "load.json")
    load = subprocess.run([os.path.join(os.path.dirname(relay), "relay-load"), "--http", HTTP, "--visits", "2", "--seconds", "10",
                           "--relay-pid", str(relay_process.pid), "--json", output],
                          capture_output=True, text=True, timeout=120)
    assert load.returncode == 0, load.stdout[-2000:] + load.stderr[-2000:]
    with open(output) as f:
        report = json.load(f)[0]
    results["load_smoke"] = {k: report[k] for k in ("forwardedPerSecond", "forwardedMbps", "loss", "undelivered", "latencyMs",
                                                    "cpuMicrosecondsPerForwardedPacket", "corrupted", "sampleVideo")}
    video = report["sampleVideo"]
    assert report["corrupted"] == 0, report
    assert video["decoded"] >= 200 and video["errors"] == 0 and (video["width"], video["height"]) == (640, 360), report
    assert report["received"] > 4000, report  # 4 participants receive about 130 packets/s each
    assert report["loss"] < 0.01 and abs(report["forwarded"] - report["received"]) <= report["forwarded"] * 0.01, report
    assert report["undelivered"] < 0.01, report  # what the senders sent reached the other participant
    assert report["latencyMs"]["p50"] < 20, report


def scenario_handover(processes, relay, results):
    """Both Chromiums reach the relay through link-emulator, which gives every client a new source
    port (a 4G handover or NAT rebinding) mid-visit: media resumes both ways within 1 s, no signaling."""
    start_relay(processes, relay, ["--announce-address", "127.0.0.1:41000"])
    emulator, _ = start_emulator(processes, relay, "wired", "127.0.0.1:41000", "127.0.0.1:40000")
    citizen = browsers.Chromium(processes, f"{BASE}/r/handover?role=citizen", "citizen")
    staff = browsers.Chromium(processes, f"{BASE}/r/handover?role=staff", "staff")
    wait_joined([citizen, staff])
    require_progress([citizen, staff], frames_needed=30, audio_needed=50, timeout=15)

    def received(page):
        return sum(s["packetsReceived"] for s in page.stats()["inbound"])
    baseline = {page.name: received(page) for page in (citizen, staff)}
    emulator.send_signal(signal.SIGUSR1)
    rebound = time.time()
    resumed = {}
    # About 80 packets a second reach each page; 40 more than before the rebind cannot be what was
    # already in flight on a 1 ms link.
    while len(resumed) < 2 and time.time() - rebound < 10:
        for page in (citizen, staff):
            if page.name not in resumed and received(page) > baseline[page.name] + 40:
                resumed[page.name] = round(time.time() - rebound, 2)
        time.sleep(0.05)
    latches = prometheus().get("visitrelay_address_latches_total", 0)
    results["handover"] = {"resumed_seconds": resumed, "address_latches": latches}
    assert len(resumed) == 2, f"media did not resume on both sides: {resumed}"
    assert max(resumed.values()) < 1.0, f"media resumed after {resumed} s"
    assert latches >= 2, f"the relay did not move both participants by SRTP: {latches}"
    require_progress([citizen, staff], frames_needed=30, audio_needed=50, timeout=10)


def scenario_reconnect(processes, relay, results):
    """The relay is killed (-9) and restarted under a live visit: both web clients rejoin by themselves."""
    first = start_relay(processes, relay)
    citizen = browsers.Chromium(processes, f"{BASE}/r/again?role=citizen", "citizen")
    staff = browsers.Chromium(processes, f"{BASE}/r/again?role=staff", "staff")
    wait_joined([citizen, staff])
    require_progress([citizen, staff], frames_needed=30, audio_needed=50, timeout=10)
    first.kill()
    first.wait()
    killed = time.time()
    start_relay(processes, relay)
    for page in (citizen, staff):
        wait_for(lambda: (page.state() or {}).get("reconnects", 0) >= 1 and page.state().get("joined"), 15,
                 f"{page.name} to rejoin")
        wait_for(lambda: any(s["participant"] for s in page.state()["slots"]), 15, f"{page.name} to see the other again")
    rejoined = time.time() - killed
    require_progress([citizen, staff], frames_needed=30, audio_needed=50, timeout=10)
    results["reconnect"] = {"rejoined_seconds": round(rejoined, 2), "media_again_seconds": round(time.time() - killed, 2)}


def scenario_ice_restart(processes, relay, results):
    """An ICE restart through signaling (PATCH with a new offer): new credentials on both sides, the
    same DTLS session and slots, media on both ways without a rejoin."""
    start_relay(processes, relay)
    citizen = browsers.Chromium(processes, f"{BASE}/r/restart?role=citizen", "citizen")
    staff = browsers.Chromium(processes, f"{BASE}/r/restart?role=staff", "staff")
    wait_joined([citizen, staff])
    require_progress([citizen, staff], frames_needed=20, audio_needed=50, timeout=10)

    def ufrags():
        descriptions = citizen.evaluate("visitRelay.descriptions()")
        return tuple(next(line.split(":", 1)[1] for line in descriptions[side].splitlines() if line.startswith("a=ice-ufrag:"))
                     for side in ("local", "remote"))
    before = ufrags()
    began = time.time()
    assert citizen.evaluate("visitRelay.restartIce()") is True
    after = ufrags()
    assert before[0] != after[0] and before[1] != after[1], f"the ICE credentials did not change: {before} -> {after}"
    elapsed = require_progress([citizen, staff], frames_needed=30, audio_needed=50, timeout=10)
    state = citizen.state()
    assert state["iceRestarts"] == 1 and state["reconnects"] == 0 and citizen.stats()["transport"]["dtlsState"] == "connected", state
    results["ice_restart"] = {"media_after_seconds": round(time.time() - began, 2), "progress_seconds": round(elapsed, 2)}


def scenario_downlink_dip(processes, relay, results):
    """Both downlinks fall to 50 kbit/s for 14 s and come back. The relay pauses video towards each
    receiver (the web client shows it) while audio goes on, probes, and resumes video when the link
    recovers; the browsers never rejoin."""
    import signal
    directory = processes.tempdir("vr-dip-")
    trace = os.path.join(directory, "dip.mm")
    with open(trace, "w") as f:
        t, times = 1.0, []
        while t < 120_000:
            times.append(int(t))
            t += 240.0 if 12_000 <= t < 26_000 else 12.0  # 1 Mbit/s, 50 kbit/s from 12 s to 26 s, 1 Mbit/s
        f.write("\n".join(str(x) for x in times) + "\n")
    profiles = os.path.join(directory, "profiles.json")
    with open(profiles, "w") as f:
        json.dump({"dip": {
            "description": "a fast uplink; a 1 Mbit/s downlink that falls to 50 kbit/s from 12 s to 26 s",
            "uplink": {"rateBps": 20000000, "queuePackets": 1000, "delayMs": 30},
            "downlink": {"trace": os.path.relpath(trace, traces_dir()), "queueBytes": 30000, "delayMs": 30},
        }}, f)
    start_relay(processes, relay, ["--announce-address", "127.0.0.1:41000"])
    emulator, _ = start_emulator(processes, relay, "dip", "127.0.0.1:41000", "127.0.0.1:40000", ["--profiles", profiles])
    began = time.time()
    citizen = browsers.Chromium(processes, f"{BASE}/r/dip?role=citizen", "citizen")
    staff = browsers.Chromium(processes, f"{BASE}/r/dip?role=staff", "staff")
    wait_joined([citizen, staff])
    require_progress([citizen], frames_needed=30, audio_needed=50, timeout=10)
    timeline = []  # (seconds since the emulator started, paused on the citizen's page, frames, audio packets)
    # Until 45 s, then on (to 65 s at most) until video has been back for 30 frames: how long the
    # estimate takes to climb back is measured here, not assumed (README "Pausing video").
    while time.time() - began < 65:
        state = citizen.state() or {}
        paused = any(slot.get("participant") and slot.get("videoPaused") for slot in state.get("slots", []))
        timeline.append((round(time.time() - began, 1), paused, *totals(citizen)))
        last_paused = max((t for t, p, *_ in timeline if p), default=None)
        back = [f for t, _, f, _ in timeline if last_paused is not None and t > last_paused]
        if time.time() - began >= 45 and len(back) >= 2 and back[-1] - back[0] >= 30:
            break
        time.sleep(1)
    metrics = prometheus()
    emulator.send_signal(signal.SIGTERM)
    paused_at = [t for t, paused, *_ in timeline if paused]
    assert paused_at, f"video never paused in the dip: {timeline}"
    during = [(t, a) for t, paused, _, a in timeline if paused]
    assert during[-1][1] - during[0][1] >= 5 * max(1, len(during) - 1), f"audio stopped while video was paused: {timeline}"
    resumed = [(t, f) for t, paused, f, _ in timeline if t > paused_at[-1]]
    assert resumed and resumed[-1][1] - resumed[0][1] >= 30, f"video did not come back after the dip: {timeline}"
    assert (citizen.state() or {}).get("reconnects") == 0, "the citizen rejoined"
    assert metrics.get("visitrelay_padding_probes_sent_total", 0) > 0 and metrics.get("visitrelay_video_resumes_total", 0) >= 1, metrics
    results["downlink_dip"] = {"paused_from_s": paused_at[0], "paused_until_s": paused_at[-1],
                               "resumed_after_link_s": round(paused_at[-1] - 26, 1),
                               "frames_after": resumed[-1][1] - resumed[0][1],
                               "probes": metrics.get("visitrelay_padding_probes_sent_total")}


def scenario_dead_sessions(processes, relay, results):
    """Four joins with a captured Chromium offer fill a 4-seat room and never connect: the fifth gets
    409, and the relay frees the seats by itself (never connected within 30 s of the answer), so a
    new join is admitted within 45 s. Then, while one client address floods joins for 3 s, every join
    from a second address is admitted (201): the relay-wide budget is spent only by requests that pass
    their own address's budget. Default join limits throughout."""
    import threading
    start_relay(processes, relay)
    with open(os.path.join(REPO, "Tests", "Fixtures", "chromium-audio-video-offer.sdp"), "rb") as f:
        offer = f.read()
    sdp = {"Content-Type": "application/sdp"}
    began = time.time()
    statuses = [http("POST", "/api/rooms/dead/participants?role=citizen", offer, sdp)[0] for _ in range(4)]
    full, text, _ = http("POST", "/api/rooms/dead/participants?role=staff", offer, sdp)
    assert statuses == [201] * 4 and full == 409 and json.loads(text)["error"] == "room-full", (statuses, full, text)
    admitted_after = None
    while time.time() - began < 45:
        time.sleep(2)  # 30 join attempts a minute from one address is the default limit
        status, text, _ = http("POST", "/api/rooms/dead/participants?role=staff", offer, sdp)
        if status == 201:
            admitted_after = time.time() - began
            break
        assert status == 409, (status, text)
    assert admitted_after is not None, "no join admitted within 45 s of four dead sessions"
    ended = prometheus().get('visitrelay_sessions_ended_total{reason="never-connected"}', 0)
    assert ended == 4 and admitted_after >= 29, f"seats freed after {admitted_after:.1f} s, {ended} ended"
    # A rejoin that names its predecessor takes its seat at once: the room is full again (the join just
    # admitted plus three more), and a join replacing one of them is admitted; the replaced one is gone.
    locations = [http("POST", "/api/rooms/dead/participants?role=citizen", offer, sdp)[2]["Location"] for _ in range(3)]
    assert http("POST", "/api/rooms/dead/participants?role=citizen", offer, sdp)[0] == 409
    token = locations[0].rsplit("/", 1)[1]
    status, text, _ = http("POST", f"/api/rooms/dead/participants?role=citizen&replaces={token}", offer, sdp)
    assert status == 201, (status, text)
    assert http("DELETE", locations[0])[0] == 404, "the replaced session is still there"
    assert prometheus().get('visitrelay_sessions_ended_total{reason="replaced"}', 0) == 1

    flood_until = time.time() + 3
    flood_statuses = []

    def flood():
        while time.time() < flood_until:
            flood_statuses.append(http("POST", "/api/rooms/flood/participants?role=staff", b"v=0",
                                       dict(sdp, **{"X-Forwarded-For": "203.0.113.7"}))[0])
    flooders = [threading.Thread(target=flood) for _ in range(4)]
    for thread in flooders:
        thread.start()
    other = []
    for n in range(3):
        time.sleep(0.8)
        other.append(http("POST", f"/api/rooms/other{n}/participants?role=citizen", offer,
                          dict(sdp, **{"X-Forwarded-For": "203.0.113.8"}))[0])
    for thread in flooders:
        thread.join()
    refused = sum(1 for s in flood_statuses if s == 429)
    results["dead_sessions"] = {"admitted_after_s": round(admitted_after, 1), "flood_requests": len(flood_statuses),
                                "flood_429": refused, "other_address": other}
    # Past its 30 attempts a minute the flooding address is refused (its budget refills by one every 2 s).
    assert len(flood_statuses) - refused <= 30 + 3 and refused > 100, results["dead_sessions"]
    assert other == [201, 201, 201], f"the other address was refused during the flood: {results['dead_sessions']}"


def scenario_rejoin_backoff(processes, relay, results):
    """The citizen's page meets a full room (two seats held by sessions that never connect): it says
    so in plain Danish, keeps trying with back-off, and joins as soon as a seat is free."""
    start_relay(processes, relay, ["--max-participants", "2"])
    with open(os.path.join(REPO, "Tests", "Fixtures", "chromium-audio-video-offer.sdp"), "rb") as f:
        offer = f.read()
    held = [http("POST", "/api/rooms/busy/participants?role=staff", offer)[2]["Location"] for _ in range(2)]
    citizen = browsers.Chromium(processes, f"{BASE}/r/busy?role=citizen", "citizen")
    wait_for(lambda: len((citizen.state() or {}).get("refusals", [])) >= 2, 20, "the page to retry the full room")
    status = citizen.evaluate("document.getElementById('status').textContent")
    assert status == "Der er ikke plads i besøget lige nu. Vi prøver igen om lidt…", status
    assert all(code == 409 for code in citizen.state()["refusals"]), citizen.state()["refusals"]
    # The next try is seconds away (the back-off has doubled twice); the browser reporting the network
    # back makes it try at once.
    wait_for(lambda: len(citizen.state()["refusals"]) >= 3, 10, "a third try")
    tries = len(citizen.state()["refusals"])
    citizen.evaluate("window.dispatchEvent(new Event('online')), true")
    retried = time.time()
    wait_for(lambda: len(citizen.state()["refusals"]) > tries, 1.5, "a try at once on 'online'")
    online_retry_s = round(time.time() - retried, 2)
    freed = time.time()
    assert http("DELETE", held[0])[0] == 204
    wait_joined([citizen], timeout=20)
    results["rejoin_backoff"] = {"refusals": citizen.state()["refusals"], "online_retry_s": online_retry_s,
                                 "joined_after_free_s": round(time.time() - freed, 1)}


def scenario_audio_only(processes, relay, results):
    """A citizen whose tablet has no camera (Chromium's fake devices with no video device) still
    joins with sound: the staff hears it, sees a calm tile with the citizen's role and that the camera
    is off, and the relay forwards nothing into that slot's video; the citizen still sees the staff."""
    start_relay(processes, relay)
    citizen = browsers.Chromium(processes, f"{BASE}/r/nocam?role=citizen", "citizen",
                                extra_args=["--use-fake-device-for-media-stream=device-count=0"])
    staff = browsers.Chromium(processes, f"{BASE}/r/nocam?role=staff", "staff")
    wait_joined([citizen, staff])
    assert citizen.state().get("missingMedia") == "video", citizen.state()
    wait_for(lambda: any(s["participant"] for s in staff.state()["slots"]), 10, "the staff to see the citizen")
    slot = next(s for s in staff.state()["slots"] if s["participant"])
    assert slot["participant"]["role"] == "citizen" and slot["participant"]["camera"] is False, slot

    def slot_stats(page, mid, kind):
        return next((s for s in page.stats()["inbound"] if s["kind"] == kind and s["mid"] == mid), {})
    before = slot_stats(staff, slot["audioMid"], "audio").get("packetsReceived", 0)
    require_progress([citizen], frames_needed=30, audio_needed=50, timeout=15)
    time.sleep(2)
    audio = slot_stats(staff, slot["audioMid"], "audio").get("packetsReceived", 0) - before
    video = slot_stats(staff, slot["videoMid"], "video")
    tile = staff.evaluate(f"(() => {{ const t = document.getElementById('slot-{slot['slot']}'); "
                          "return {cls: t.className, text: t.querySelector('.camera-off').textContent, "
                          "hidden: t.querySelector('.camera-off').hidden, name: t.querySelector('.name').textContent}; })()")
    results["audio_only"] = {"staff_audio_packets": audio, "staff_video_packets": video.get("packetsReceived", 0), "tile": tile}
    assert audio >= 100, f"the staff does not hear the citizen: {results['audio_only']}"
    assert video.get("packetsReceived", 0) == 0 and video.get("framesDecoded", 0) == 0, results["audio_only"]
    assert "camera-off" in tile["cls"] and not tile["hidden"] and tile["name"] == "Borger", tile
    assert tile["text"] == "Kameraet er slået fra. I kan stadig tale sammen.", tile


AUDIO_LOSS_PROFILES = {
    "bursty-4g": {
        "description": "A rural 4G link both ways: 45 ms, 10 ms jitter, Gilbert-Elliott loss of about 5 % in bursts",
        "uplink": {"rateBps": 20000000, "queuePackets": 1000, "delayMs": 45, "jitterMs": 10,
                   "gilbertElliott": {"goodToBad": 0.02, "badToGood": 0.33, "lossInGood": 0.002, "lossInBad": 0.8}},
        "downlink": {"rateBps": 20000000, "queuePackets": 1000, "delayMs": 45, "jitterMs": 10,
                     "gilbertElliott": {"goodToBad": 0.02, "badToGood": 0.33, "lossInGood": 0.002, "lossInBad": 0.8}},
    }
}
AUDIO_KEYS = ("totalSamplesReceived", "concealedSamples", "silentConcealedSamples", "jitterBufferDelay",
              "jitterBufferEmittedCount", "packetsReceived", "packetsLost", "nackCount", "fecPacketsReceived",
              "packetsDiscarded")


def audio_totals(page):
    """The page's received audio summed over its slots' inbound streams, and the codecs they use."""
    stats = page.stats()
    audio = [s for s in stats["inbound"] if s["kind"] == "audio"]
    totals = {k: sum(s.get(k, 0) or 0 for s in audio) for k in AUDIO_KEYS}
    totals["codecs"] = sorted({stats.get("codecs", {}).get(s["codecId"], "?") for s in audio if s.get("packetsReceived")})
    totals["sending"] = sorted({stats.get("codecs", {}).get(s["codecId"], "?") for s in stats["outbound"] if s["kind"] == "audio"})
    return totals


def audio_window(before, after):
    """What was heard between two `audio_totals`: the concealed share and the jitter buffer's mean delay."""
    delta = {k: after[k] - before[k] for k in AUDIO_KEYS}
    samples = max(1, delta["totalSamplesReceived"])
    return {"concealed": round(delta["concealedSamples"] / samples, 4),
            "jitter_buffer_ms": round(1000 * delta["jitterBufferDelay"] / max(1, delta["jitterBufferEmittedCount"]), 1),
            "packets": delta["packetsReceived"], "lost": delta["packetsLost"], "nacks": delta["nackCount"],
            "fec_packets": delta["fecPacketsReceived"], "discarded": delta["packetsDiscarded"],
            "silent_concealed": round(delta["silentConcealedSamples"] / samples, 4),
            "codecs": after["codecs"], "sending": after["sending"]}


CLEAN_STAFF_UID = 4244


def talking_microphone(processes):
    """Chromium arguments that make its fake microphone talk (`speech.py`) instead of beeping once a
    second: the file lives in a directory every browser user may read."""
    directory = processes.tempdir("vr-speech-")
    os.chmod(directory, 0o755)
    path = os.path.join(directory, "speech.wav")
    speech.write_speech_wav(path)
    os.chmod(path, 0o644)
    return [f"--use-file-for-fake-audio-capture={path}"]


def audio_repair_run(processes, relay, directory, mode, seconds=30, staff_lossy=True):
    """Citizen and staff hear each other for `seconds`. The citizen is behind a bursty-loss 4G link
    both ways; so is staff when `staff_lossy` (both reach the relay through the emulator's address),
    else staff's datagrams to that address go to the relay directly (a clean municipal network)."""
    profiles = os.path.join(directory, "profiles.json")
    with open(profiles, "w") as f:
        json.dump(AUDIO_LOSS_PROFILES, f)
    start_relay(processes, relay, ["--announce-address", "127.0.0.1:41000", "--audio-repair", mode])
    emulator, summary = start_emulator(processes, relay, "bursty-4g", "127.0.0.1:41000", "127.0.0.1:40000",
                                       ["--profiles", profiles, "--seed", "11"])
    if not staff_lossy:
        browsers.bypass_for(CLEAN_STAFF_UID, 41000, 40000)
    talking = talking_microphone(processes)
    citizen = browsers.Chromium(processes, f"{BASE}/r/audio{mode}?role=citizen", "citizen", extra_args=talking)
    staff = browsers.Chromium(processes, f"{BASE}/r/audio{mode}?role=staff", "staff",
                              uid=None if staff_lossy else CLEAN_STAFF_UID, extra_args=talking)
    wait_joined([citizen, staff])
    require_progress([citizen, staff], frames_needed=10, audio_needed=100, timeout=20)
    time.sleep(3)  # the first receiver reports set the redundancy; then the measuring window
    before = {p.name: audio_totals(p) for p in (citizen, staff)}
    trace, last = [], dict(before)
    for _ in range(seconds // 3):  # the measuring window, sampled every 3 s
        time.sleep(3)
        now = {p.name: audio_totals(p) for p in (citizen, staff)}
        trace.append({name: audio_window(last[name], now[name])["concealed"] for name in now})
        last = now
    figures = {p.name: audio_window(before[p.name], last[p.name]) for p in (citizen, staff)}
    figures["concealed_every_3s"] = trace
    workers = json.loads(http("GET", "/api/stats")[1])["workers"]
    for key in ("audioRecoveredByRedundancy", "audioRecoveredByRetransmission", "audioRedundantBlocksSent",
                "audioRetransmissionsSent", "audioInbandFECReceived", "nacksSent"):
        figures[key] = sum(w[key] for w in workers)
    figures["relay_drops"] = {k: sum(w["drops"].get(k, 0) for w in workers) for k in workers[0]["drops"]}
    emulator.send_signal(signal.SIGTERM)  # it writes its summary on exit
    emulator.wait(timeout=10)
    with open(summary) as f:
        report = json.load(f)
    figures["link_loss"] = {"uplink": report["uplink"]["loss"], "downlink": report["downlink"]["loss"]}
    if not staff_lossy:
        figures["staff_bypassed_flows"] = browsers.bypassed_count()
        browsers.remove_bypass()
    return figures


def scenario_audio_repair(processes, relay, results):
    """Real Chromium citizen and staff, each behind about 5 % bursty loss both ways (45 ms, 10 ms
    jitter), so each way of the conversation crosses two lossy hops; both talk (`speech.py`). Audio
    repair (RED from the citizen unwrapped at the relay, RED from the relay by each receiver's loss,
    audio NACK both ways), then the same run without it. Asserted: with repair each side conceals at
    most half of what it conceals without, and its jitter buffer holds at most 60 ms more (see `assert_audio_repair`). The
    issue's goals (at most 1 % concealed, at most 40 ms more delay) are only reported (README)."""
    figures = on_and_off_again_if(
        lambda run, mode: audio_repair_run(run, relay, processes.tempdir("vr-audio-"), mode), assert_audio_repair)
    results["audio_repair"] = figures
    assert_audio_repair(figures)


def on_and_off_again_if(run_mode, check):
    """`on_and_off(run_mode)`, and if `check` fails on it, one more pair, whose figures are returned
    with the first pair's (and its failure) under "missed": real browsers on a loaded two-core
    machine can stall for most of a second, and NetEq then holds far more than the repair ever
    makes it. The second pair is judged on its own; a feature that misses twice fails."""
    figures = on_and_off(run_mode)
    try:
        check(figures)
        return figures
    except AssertionError as miss:
        print(f"  missed once, one more on/off pair: {str(miss)[:300]}", flush=True)
        again = on_and_off(run_mode)
        again["missed"] = {"figures": figures, "failure": str(miss)[:500]}
        return again


def assert_audio_repair(figures, halved=("citizen", "staff")):
    """Repair at least halves the concealment of each side in `halved` and lowers the others', adds
    at most 60 ms (or a third of the delay without repair, if more) to each side's jitter buffer, repaired uplink loss from the citizen's RED, and
    sent RED only when on."""
    on, off = figures["on"], figures["off"]
    for side in ("citizen", "staff"):
        bound = 0.5 * off[side]["concealed"] if side in halved else off[side]["concealed"]
        assert on[side]["concealed"] <= bound, f"{side}: repair concealed more than {bound:.2%}: {figures}"
        # 60 ms, or a third of what NetEq holds without repair when that is more: on a loaded machine
        # it holds 200-300 ms, and a late retransmission moves it in proportion.
        extra = max(60, off[side]["jitter_buffer_ms"] / 3)
        assert on[side]["jitter_buffer_ms"] <= off[side]["jitter_buffer_ms"] + extra, f"{side}: repair delays audio: {figures}"
    assert on["audioRecoveredByRedundancy"] > 0, f"no uplink loss repaired from the citizen's RED: {figures}"
    assert on["audioRedundantBlocksSent"] > 0 and off["audioRedundantBlocksSent"] == 0, figures


def scenario_audio_repair_clean_staff(processes, relay, results):
    """The visit as municipalities run it: the citizen behind about 5 % bursty loss both ways (45 ms,
    10 ms jitter), staff on a clean network (its datagrams reach the relay directly), both talking;
    repair on, then off. Each way of the conversation crosses one lossy hop: the citizen's uplink
    (Chromium's RED, one repeat, and the relay's NACK) or its downlink (the relay's RED and its
    answers to NACKs). Asserted: what the citizen hears (the downlink hop) is concealed at most half
    as much with repair, what staff hears (the uplink hop) less; the jitter buffers and RED as for
    `audio_repair`. Without repair Chromium's Opus adds in-band FEC, with RED it adds none, so on
    the uplink hop repair competes with that FEC: measured 1.2-2.1 % concealed against 2.8-5.0 %."""
    def check(figures):
        assert_audio_repair(figures, halved=("citizen",))
        for mode in ("on", "off"):
            assert figures[mode]["staff_bypassed_flows"] > 0, f"staff's datagrams crossed the emulator: {figures}"

    figures = on_and_off_again_if(
        lambda run, mode: audio_repair_run(run, relay, processes.tempdir("vr-audio-"), mode, staff_lossy=False), check)
    results["audio_repair_clean_staff"] = figures
    check(figures)


# Each sample is stamped with the time its stats were gathered (the report's own timestamp, ms since
# the epoch), not the time the promise resolved: on a loaded machine getStats can take 100 ms and more.
AUDIO_TRACE_JS = """(() => { window.__audioTrace = []; setInterval(async () => {
  const s = await visitRelay.stats(); let total = 0, concealed = 0, at = 0, held = 0, emitted = 0;
  for (const i of s.inbound) if (i.kind === 'audio') {
    total += i.totalSamplesReceived; concealed += i.concealedSamples; at = Math.max(at, i.timestamp || 0);
    held += i.jitterBufferDelay; emitted += i.jitterBufferEmittedCount; }
  window.__audioTrace.push([(at || Date.now()) / 1000, total, concealed, held, emitted]); }, 25); return true; })()"""


def concealed_share(samples):
    """The concealed share of what played between the first and last of `samples` (trace rows), or
    None where nothing played."""
    if len(samples) < 2 or samples[-1][1] <= samples[0][1]:
        return None
    return (samples[-1][2] - samples[0][2]) / (samples[-1][1] - samples[0][1])


def concealment_profile(trace, start, stop, step=0.1):
    """The concealed share of what played in each `step` seconds from `start` to `stop` (None where
    nothing played): what a failure message shows of the audio around an outage."""
    profile, t = [], start
    while t < stop - 1e-9:
        share = concealed_share([sample for sample in trace if t <= sample[0] <= t + step])
        profile.append(None if share is None else round(share, 2))
        t += step
    return profile


def heard_again_after(trace, end):
    """Seconds from `end` until the first 25 ms sample window after it that played mostly real audio
    (under half of its samples concealed), or None."""
    for (t0, total0, concealed0, *_), (t1, total1, concealed1, *_) in zip(trace, trace[1:]):
        if t0 < end or total1 <= total0:
            continue
        if (concealed1 - concealed0) < 0.5 * (total1 - total0):
            return t1 - end
    return None


def jitter_buffer_before(trace, start, seconds=1.0):
    """The page's mean jitter-buffer delay (s) over the `seconds` before `start`, or None."""
    window = [sample for sample in trace if start - seconds <= sample[0] <= start]
    if len(window) < 2 or window[-1][4] <= window[0][4]:
        return None
    return (window[-1][3] - window[0][3]) / (window[-1][4] - window[0][4])


def scenario_audio_after_outages(processes, relay, results):
    """Citizen and staff behind `rural-4g-outages` (a 1.5 s outage of both directions every 20 s, the
    first at 10 s, 2 % bursty loss), audio repair on. Sampled every 25 ms in each page: how long after
    each outage's end the page plays real audio again. The issue's goal is 300 ms; it is measured,
    not asserted (see the README). Asserted: the outage was heard and the audio came back within 3 s
    of its end. "Heard": over half concealed from one jitter-buffer delay (measured in the second
    before the outage) after the link dropped until it came back, since what NetEq holds plays on
    into the outage; on a loaded machine that delay grows to a second and more. An outage shorter
    than 200 ms beyond the buffer is recorded as masked, not judged."""
    start_relay(processes, relay, ["--announce-address", "127.0.0.1:41000"])
    start_emulator(processes, relay, "rural-4g-outages", "127.0.0.1:41000", "127.0.0.1:40000", ["--seed", "13"])
    # The emulator's clock starts as it binds its sockets, just before the banner start_emulator
    # waited for: outages are timed from here, give or take a few milliseconds.
    origin = time.time()
    citizen = browsers.Chromium(processes, f"{BASE}/r/outages?role=citizen", "citizen")
    staff = browsers.Chromium(processes, f"{BASE}/r/outages?role=staff", "staff")
    wait_joined([citizen, staff])
    require_progress([citizen, staff], frames_needed=5, audio_needed=50, timeout=9)
    for page in (citizen, staff):
        page.evaluate(AUDIO_TRACE_JS)
    outages = [(origin + start, origin + start + 1.5) for start in (10.0, 30.0)]
    time.sleep(max(0.0, outages[-1][1] + 2.5 - time.time()))  # until 2.5 s after the second outage ends
    figures, judged = {}, 0
    for page in (citizen, staff):
        trace = page.evaluate("window.__audioTrace")
        back, buffered = [], []
        for start, end in outages:
            held = jitter_buffer_before(trace, start)
            assert held is not None, f"{page.name}: no audio sampled before the outage at {start}"
            buffered.append(round(held * 1000))
            if end - (start + held) < 0.2:
                back.append(None)  # masked by the jitter buffer
                continue
            during = [sample for sample in trace if start + held <= sample[0] <= end]
            assert len(during) >= 2, f"{page.name}: no samples during the outage ending at {end}"
            concealed = concealed_share(during) or 0.0
            assert concealed > 0.5, (f"{page.name}: the outage was not heard ({concealed:.0%} concealed, jitter buffer "
                                     f"{held * 1000:.0f} ms): clocks apart? concealed per 100 ms from 2 s before its "
                                     f"end: {concealment_profile(trace, end - 2, end + 1)}")
            seconds = heard_again_after(trace, end)
            assert seconds is not None and seconds <= 3.0, f"{page.name}: audio not back within 3 s: {seconds}"
            back.append(round(seconds * 1000))
            judged += 1
        figures[f"{page.name}_heard_again_ms"] = back
        figures[f"{page.name}_jitter_buffer_ms"] = buffered
    results["audio_after_outages"] = figures
    assert judged > 0, f"every outage was masked by the jitter buffer, none judged: {figures}"


def fnv1a_worker(room, workers):
    """The media worker SessionDirectory pins a new room to (FNV-1a of its name, modulo workers)."""
    value = 0xcbf29ce484222325
    for byte in room.encode():
        value = ((value ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return value % workers


def scenario_two_workers(processes, relay, results):
    """media.workers 2: two visits whose rooms live on different workers, each decoding both ways,
    and each worker forwarding its own room's media."""
    start_relay(processes, relay, ["--workers", "2"])
    rooms = {}
    for n in range(100):
        rooms.setdefault(fnv1a_worker(f"wrk{n}", 2), f"wrk{n}")
        if len(rooms) == 2:
            break
    pages = []
    for worker in (0, 1):
        room = rooms[worker]
        pages.append(browsers.Chromium(processes, f"{BASE}/r/{room}?role=citizen", f"citizen-w{worker}"))
        pages.append(browsers.Chromium(processes, f"{BASE}/r/{room}?role=staff", f"staff-w{worker}"))
    wait_joined(pages, timeout=30)
    elapsed = require_progress(pages, frames_needed=30, audio_needed=50, timeout=20)
    workers = json.loads(http("GET", "/api/stats")[1])["workers"]
    forwarded = {w["worker"]: w["rtpForwarded"] for w in workers}
    results["two_workers"] = {"rooms": rooms, "rtp_forwarded": forwarded, "progress_seconds": round(elapsed, 2)}
    assert len(workers) == 2 and all(count > 200 for count in forwarded.values()), results["two_workers"]
    metrics = prometheus()
    assert metrics.get("visitrelay_rooms") == 2, metrics


CHAOS_UID = 4243


def udp_ports_of(uid):
    """Local ports of this namespace's UDP sockets owned by `uid` (from /proc/net/udp and udp6)."""
    ports = set()
    for path in ("/proc/net/udp", "/proc/net/udp6"):
        with open(path) as f:
            next(f)
            for line in f:
                fields = line.split()
                if int(fields[7]) == uid:
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def cut_udp_of(uid):
    """Cuts one browser's media path in both directions (the kernel has no netem): nothing it sends
    over UDP leaves (`meta skuid`), and nothing reaches the UDP ports it has open now. New ports it
    opens during the cut are unknown to the relay (their checks never arrive), so nothing is sent there."""
    ports = udp_ports_of(uid)
    assert ports, f"uid {uid} has no UDP socket to cut"
    port_list = ", ".join(str(p) for p in sorted(ports))
    rules = f"""
table inet vr_e2e_cut {{
  chain output {{
    type filter hook output priority 0; policy accept;
    meta skuid {uid} meta l4proto udp counter drop
    udp dport {{ {port_list} }} counter drop
  }}
}}
"""
    subprocess.run(["nft", "-f", "-"], input=rules.encode(), check=True)
    return ports


def restore_udp():
    subprocess.run(["nft", "delete", "table", "inet", "vr_e2e_cut"], check=True)


def media_flowing(pages, since, timeout, frames=3, audio=10):
    """Seconds from `since` until each page has decoded `frames` more video frames and received
    `audio` more audio packets than in its first sample (a new PeerConnection, after a rejoin,
    starts its counts again: a drop re-bases)."""
    base, done = {}, {}
    while time.time() - since < timeout and len(done) < len(pages):
        for page in pages:
            if page.name in done:
                continue
            frames_now, audio_now = totals(page)
            old = base.get(page.name)
            if old is None or frames_now < old[0] or audio_now < old[1]:
                base[page.name] = (frames_now, audio_now)
            elif frames_now - old[0] >= frames and audio_now - old[1] >= audio:
                done[page.name] = round(time.time() - since, 2)
        time.sleep(0.1)
    return done


def room_participants(room):
    status, rooms = admin("GET", "/rooms")
    assert status == 200, rooms
    return sorted(p["role"] for r in rooms if r["room"] == room for p in r["participants"]), rooms


def scenario_chaos(processes, relay, results):
    """The citizen's media path is cut in both directions for 10 s, 45 s and 120 s, then restored,
    and then its Chromium is frozen for 60 s (SIGSTOP, SIGCONT: a sleeping laptop). Each time media
    flows both ways again within 3 s of the link's return (or SIGCONT), and the relay's room view
    holds exactly the two real participants (no session left behind)."""
    start_relay_with_admin(processes, relay, limits="", extra=["--tcp", "off"])
    citizen = browsers.Chromium(processes, f"{BASE}/r/chaos?role=citizen", "citizen", uid=CHAOS_UID)
    staff = browsers.Chromium(processes, f"{BASE}/r/chaos?role=staff", "staff")
    wait_joined([citizen, staff])
    require_progress([citizen, staff], frames_needed=30, audio_needed=50, timeout=15)
    timeline = {}
    failures = []
    for seconds in (10, 45, 120):
        cut_udp_of(CHAOS_UID)
        time.sleep(seconds)
        restore_udp()
        back = time.time()
        flowing = media_flowing([citizen, staff], back, timeout=15)
        roles, rooms = room_participants("chaos")
        metrics = prometheus()
        timeline[f"cut_{seconds}s"] = {"media_back_s": flowing, "participants": roles,
                                       "reconnects": citizen.state().get("reconnects"),
                                       "ice_restarts": citizen.state().get("iceRestarts"),
                                       "video_pauses": metrics.get("visitrelay_video_pauses_total", 0)}
        print(f"  chaos: cut {seconds} s: {timeline[f'cut_{seconds}s']}", flush=True)
        if len(flowing) < 2 or max(flowing.values()) > 3.0:
            failures.append(f"cut {seconds} s: media both ways {flowing} (wanted both within 3 s)")
        if roles != ["citizen", "staff"]:
            failures.append(f"cut {seconds} s: room view {rooms}")
        if len(flowing) < 2:
            require_progress([citizen, staff], frames_needed=10, audio_needed=20, timeout=30)
    os.killpg(citizen.process.pid, signal.SIGSTOP)
    time.sleep(60)
    os.killpg(citizen.process.pid, signal.SIGCONT)
    woke = time.time()
    flowing = media_flowing([citizen, staff], woke, timeout=15)
    roles, rooms = room_participants("chaos")
    ended = {name: value for name, value in prometheus().items() if name.startswith("visitrelay_sessions_ended_total")}
    timeline["sleep_60s"] = {"media_back_s": flowing, "participants": roles, "last_bye": citizen.state().get("lastBye"),
                             "reconnects": citizen.state().get("reconnects")}
    if len(flowing) < 2 or max(flowing.values()) > 3.0:
        failures.append(f"sleep 60 s: media both ways {flowing} (wanted both within 3 s of SIGCONT)")
    if roles != ["citizen", "staff"]:
        failures.append(f"sleep 60 s: room view {rooms}")
    results["chaos"] = {**timeline, "sessions_ended": ended}
    assert not failures, f"{failures}; timeline {timeline}"
    # The frozen browser's consent lapsed: the relay ended that session itself and told it why.
    assert ended.get('visitrelay_sessions_ended_total{reason="consent-expired"}', 0) >= 1, ended


IPV6_RELAY = "fd00:7669::2"
IPV6_BROWSER = "fd00:7669::1"


def scenario_ipv6_visit(processes, relay, results):
    """Media over IPv6: the relay binds an IPv6 address (signaling stays on 127.0.0.1) and announces
    IPv6 host candidates with IN IP6 connection lines; two Chromiums decode each other's video and
    audio, and each one's selected candidate pair reaches the relay at that IPv6 address."""
    # Chromium gathers no IPv6 candidate on lo (not ::1, nor another address there), even with
    # --allow-loopback-in-peer-connection: the namespace gets a veth pair of its own, both ends inside
    # it, with unique local addresses (RFC 4193); the relay binds one, the browsers gather the other.
    subprocess.run(["ip", "link", "add", "vr6a", "type", "veth", "peer", "name", "vr6b"], check=False)
    try:
        ipv6_visit(processes, relay, results)
    finally:
        # Later scenarios' browsers should gather loopback only, as before.
        processes.stop_all()
        subprocess.run(["ip", "link", "delete", "vr6a"], check=False)


def ipv6_visit(processes, relay, results):
    for device, address in (("vr6a", IPV6_BROWSER), ("vr6b", IPV6_RELAY)):
        subprocess.run(["ip", "link", "set", device, "up"], check=True)
        subprocess.run(["ip", "-6", "addr", "replace", f"{address}/64", "dev", device, "nodad"], check=True)
    log = open(os.path.join(processes.tempdir("vr-relay-"), "relay.log"), "wb")
    processes.start([relay, "--http", HTTP, "--udp", f"[{IPV6_RELAY}]:40000"], stdout=log, stderr=log)
    browsers.wait_http(f"{BASE}/healthz")
    citizen = browsers.Chromium(processes, f"{BASE}/r/v6?role=citizen", "citizen")
    staff = browsers.Chromium(processes, f"{BASE}/r/v6?role=staff", "staff")
    wait_joined([citizen, staff])
    try:
        elapsed = require_progress([citizen, staff], frames_needed=60, audio_needed=100, timeout=15)
    except AssertionError:
        print("relay stats:", http("GET", "/api/stats")[1], file=sys.stderr)
        print("citizen local description:", citizen.evaluate("visitRelay.descriptions().local"), file=sys.stderr)
        raise
    paths = {}
    for page in (citizen, staff):
        pair = page.stats()["candidatePair"] or {}
        paths[page.name] = {k: pair.get(k) for k in ("remoteAddress", "remotePort", "remoteProtocol", "localProtocol")}
        assert pair.get("remoteAddress") == IPV6_RELAY and pair.get("remotePort") == 40000, f"{page.name}: {paths[page.name]}"
    results["ipv6_visit"] = {"progress_seconds": round(elapsed, 2), "paths": paths,
                             "first_frame_ms": {p.name: first_frame_ms(p) for p in (citizen, staff)}}


SCENARIOS = {
    "audio_repair": scenario_audio_repair,
    "audio_repair_clean_staff": scenario_audio_repair_clean_staff,
    "audio_after_outages": scenario_audio_after_outages,
    "signaling_errors": scenario_signaling_errors,
    "udp_through_emulator": scenario_udp_through_emulator,
    "rural_4g_visit": scenario_rural_4g_visit,
    "relay_repair": scenario_relay_repair,
    "reconnect": scenario_reconnect,
    "two_chromium": scenario_two_chromium,
    "third_party": scenario_third_party,
    "firefox_chromium": scenario_firefox_chromium,
    "udp_blocked_ice_tcp": scenario_udp_blocked_ice_tcp,
    "turn_tls": scenario_turn_tls,
    "join_tokens": scenario_join_tokens,
    "systemd_lifecycle": scenario_systemd_lifecycle,
    "https_visit": scenario_https_visit,
    "admin_limits": scenario_admin_limits,
    "simulcast": scenario_simulcast,
    "capped_uplink": scenario_capped_uplink,
    "rural_downlink": scenario_rural_downlink,
    "hostile_traffic": scenario_hostile_traffic,
    "load_smoke": scenario_load_smoke,
    "handover": scenario_handover,
    "ice_restart": scenario_ice_restart,
    "downlink_dip": scenario_downlink_dip,
    "ipv6_visit": scenario_ipv6_visit,
    "dead_sessions": scenario_dead_sessions,
    "two_workers": scenario_two_workers,
    "rejoin_backoff": scenario_rejoin_backoff,
    "audio_only": scenario_audio_only,
    "chaos": scenario_chaos,
}


def cpu_pressure_us():
    """Microseconds some task has waited for a CPU since boot (the machine's, /proc/pressure/cpu), or None."""
    try:
        with open("/proc/pressure/cpu") as f:
            some = f.readline().split()
        return int(dict(field.split("=") for field in some[1:])["total"])
    except (OSError, KeyError, ValueError, IndexError):
        return None


def cpu_pressure_percent(before, seconds):
    """The share of `seconds` in which some task waited for a CPU (PSI "some"), in percent."""
    after = cpu_pressure_us()
    if before is None or after is None or seconds <= 0:
        return None
    return round((after - before) / (seconds * 1e6) * 100, 1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--relay", default=os.path.join(REPO, ".build", "debug", "visit-relay"))
    parser.add_argument("--only", action="append", choices=sorted(SCENARIOS))
    parser.add_argument("--results", help="write measured figures as JSON here")
    args = parser.parse_args()
    if not browsers.in_namespace():
        return browsers.reexec_in_namespace([os.path.abspath(__file__)] + sys.argv[1:])
    passed = failed = 0
    results = {}
    machine = results.setdefault("_machine", {})
    for name in args.only or list(SCENARIOS):
        # A scenario that fails runs once more, from scratch: the machines are shared, and a figure
        # measured from real browsers can miss when another job takes the CPU (the CPU pressure of
        # each attempt is recorded beside it). A real regression fails both attempts.
        for attempt in (1, 2):
            processes = browsers.Processes()
            began = time.time()
            pressure_before = cpu_pressure_us()
            try:
                SCENARIOS[name](processes, args.relay, results)
                ok = True
            except Exception:
                ok = False
                error = traceback.format_exc()
            finally:
                processes.stop_all()
            elapsed = time.time() - began
            pressure = cpu_pressure_percent(pressure_before, elapsed)
            machine.setdefault(name, []).append({"attempt": attempt, "passed": ok, "seconds": round(elapsed, 1),
                                                 "cpu_pressure_pct": pressure})
            note = f"cpu pressure {pressure} %" + (", attempt 2" if attempt == 2 else "")
            if ok:
                passed += 1
                print(f"PASS {name} ({elapsed:.1f} s, {note}) {json.dumps(results.get(name, {}))}", flush=True)
                break
            print(f"FAIL {name} ({elapsed:.1f} s, {note})", flush=True)
            print(error, flush=True)
            if attempt == 2:
                failed += 1
            else:
                results.setdefault("_missed", {})[name] = results.pop(name, None)
    if args.results:
        with open(args.results, "w") as f:
            json.dump(results, f, indent=2)
    rerun_passed = [name for name, attempts in machine.items() if len(attempts) == 2 and attempts[1]["passed"]]
    print(f"{passed} passed, {failed} failed" + (f" ({len(rerun_passed)} on a second attempt: {', '.join(rerun_passed)})"
                                                if rerun_passed else ""))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
