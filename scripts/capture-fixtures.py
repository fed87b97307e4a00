#!/usr/bin/env python3
"""Regenerates the browser fixtures in Tests/Fixtures from real browsers, in a loopback-only namespace:

- SDP offers from headless Chromium and Firefox ESR (fake camera and microphone): audio and video,
  and video with three simulcast encodings (rid l/m/h), after ICE gathering (candidates included).
- STUN, RTP and RTCP datagrams of a Chromium-to-Chromium visit through visit-relay, read off `lo` with a
  packet socket (SRTP leaves RTP headers and their extensions in the clear; SRTCP its first 8 bytes).

Usage (root): python3 scripts/capture-fixtures.py [--relay .build/debug/visit-relay]
The fixtures are committed; tests read them. Run this again when browsers change.
"""
import argparse
import http.server
import json
import os
import socket
import struct
import sys
import threading
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "Tests", "E2E"))
import browsers  # noqa: E402

FIXTURES = os.path.join(REPO, "Tests", "Fixtures")

PAGE = """<!doctype html><meta charset="utf-8"><script>
async function offer(simulcast) {
  const pc = new RTCPeerConnection();
  const media = await navigator.mediaDevices.getUserMedia({audio: true, video: {width: 640, height: 480}});
  pc.addTransceiver(media.getAudioTracks()[0], {direction: 'sendrecv'});
  const init = {direction: 'sendrecv'};
  if (simulcast) init.sendEncodings = [{rid: 'l', scaleResolutionDownBy: 4}, {rid: 'm', scaleResolutionDownBy: 2}, {rid: 'h'}];
  pc.addTransceiver(media.getVideoTracks()[0], init);
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise(r => { if (pc.iceGatheringState === 'complete') r(); pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r(); setTimeout(r, 3000); });
  const sdp = pc.localDescription.sdp;
  pc.close();
  media.getTracks().forEach(t => t.stop());
  return sdp;
}
async function all(browser) {
  for (const simulcast of [false, true]) {
    const sdp = await offer(simulcast);
    await fetch('/offer?name=' + browser + (simulcast ? '-simulcast' : '-audio-video'), {method: 'POST', body: sdp});
  }
  await fetch('/done?name=' + browser, {method: 'POST', body: ''});
}
all(new URLSearchParams(location.search).get('browser'));
</script>"""


def serve_page(received):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = PAGE.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            data = self.rfile.read(length).decode()
            name = self.path.split("name=", 1)[1]
            received[self.path.split("?")[0] + ":" + name] = data
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


def capture_offers(processes):
    received = {}
    port = serve_page(received)
    browsers.Chromium(processes, f"http://127.0.0.1:{port}/?browser=chromium", "chromium")
    browsers.Firefox(processes, f"http://127.0.0.1:{port}/?browser=firefox", "firefox")
    deadline = time.time() + 60
    while time.time() < deadline and not ("/done:chromium" in received and "/done:firefox" in received):
        time.sleep(0.2)
    for key, sdp in sorted(received.items()):
        if key.startswith("/offer:"):
            path = os.path.join(FIXTURES, f"{key.split(':', 1)[1]}-offer.sdp")
            with open(path, "w", newline="") as f:
                f.write(sdp)
            print(f"wrote {path} ({len(sdp)} bytes)")
    missing = {"/done:chromium", "/done:firefox"} - set(received)
    if missing:
        raise SystemExit(f"no offers from {missing}")


def capture_datagrams(processes, relay, seconds=6, per_type=60):
    """Datagrams sent to the relay's media port on lo during a two-Chromium visit."""
    sniffer = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0003))
    sniffer.bind(("lo", 0))
    sniffer.settimeout(0.2)
    log = open(os.path.join(processes.tempdir("vr-capture-relay-"), "relay.log"), "wb")
    processes.start([relay, "--http", "127.0.0.1:8080", "--udp", "127.0.0.1:40000"], stdout=log, stderr=log)
    browsers.wait_http("http://127.0.0.1:8080/healthz")
    for role in ("citizen", "staff"):
        browsers.Chromium(processes, f"http://127.0.0.1:8080/r/capture?role={role}", role)
    rtp, rtcp, stun = [], [], []
    per_payload_type = {}
    deadline = time.time() + 20 + seconds
    started = None
    while time.time() < deadline and (len(per_payload_type) < 2 or min(per_payload_type.values()) < per_type):
        try:
            frame, meta = sniffer.recvfrom(65535)
        except socket.timeout:
            continue
        if meta[2] == socket.PACKET_OUTGOING:  # lo shows each datagram twice: keep the received copy
            continue
        # Ethernet (lo has a zero header), IPv4, UDP to port 40000.
        if len(frame) < 14 + 20 + 8 or frame[12:14] != b"\x08\x00" or frame[14 + 9] != 17:
            continue
        ihl = (frame[14] & 0x0F) * 4
        udp = 14 + ihl
        if struct.unpack("!H", frame[udp + 2:udp + 4])[0] != 40000:
            continue
        payload = frame[udp + 8:]
        if payload and payload[0] <= 3 and len(stun) < 12:
            stun.append(payload.hex())  # STUN (RFC 7983): connectivity checks, never encrypted
            continue
        if not payload or not 128 <= payload[0] <= 191:
            continue
        started = started or time.time()
        if 192 <= payload[1] <= 223:
            if len(rtcp) < 100:
                rtcp.append(payload[:8].hex())  # SRTCP: the first 8 bytes are in the clear
        elif per_payload_type.get(payload[1] & 0x7F, 0) < per_type:  # audio and video alike
            per_payload_type[payload[1] & 0x7F] = per_payload_type.get(payload[1] & 0x7F, 0) + 1
            rtp.append(payload.hex())
    for name, lines in (("chromium-srtp.hex", rtp), ("chromium-srtcp-headers.hex", rtcp), ("chromium-stun.hex", stun)):
        path = os.path.join(FIXTURES, name)
        with open(path, "w") as f:
            f.write(f"# {len(lines)} datagrams Chromium sent visit-relay (scripts/capture-fixtures.py), one per line\n")
            f.write("\n".join(lines) + "\n")
        print(f"wrote {path} ({len(lines)} datagrams)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--relay", default=os.path.join(REPO, ".build", "debug", "visit-relay"))
    args = parser.parse_args()
    if not browsers.in_namespace():
        return browsers.reexec_in_namespace([os.path.abspath(__file__)] + sys.argv[1:])
    os.makedirs(FIXTURES, exist_ok=True)
    processes = browsers.Processes()
    try:
        capture_offers(processes)
    finally:
        processes.stop_all()
    processes = browsers.Processes()
    try:
        capture_datagrams(processes, args.relay)
    finally:
        processes.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
