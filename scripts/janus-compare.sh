#!/usr/bin/env bash
# visit-relay against Janus 1.1.2's VideoRoom on the same simulated visits (issue #9): both SFUs run
# in a loopback-only network namespace made for this run, relay-load measures the relay and then
# Janus with the same visits and media, and prints both tables and the ratios (CPU per packet the
# receivers got; for a ramp, the last good step). Root only (namespaces).
#   scripts/janus-compare.sh --visits 10 --seconds 10                  (make janus-compare)
#   scripts/janus-compare.sh --mode ramp --step 5 --seconds 5 --max-visits 60
#   scripts/janus-compare.sh --visits 20 --seconds 10 --intervals 4 --interleave   (paired rounds)
# Arguments go to relay-load. Logs and the JSON report go to .build/janus-compare/.
# env: JANUS_DEBUG_LEVEL (default 3, warnings), JANUS_HTTP_PORT (8088), JANUS_RTP_PORTS (20000-29999),
# JANUS_REALTIME (0; 1 runs Janus on SCHED_RR, as the relay's media worker runs).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "janus-compare.sh: needs root (network namespaces)" >&2; exit 1; }
command -v janus >/dev/null || apt-get install -y janus
janus_libs=/usr/lib/x86_64-linux-gnu/janus
janus_port=${JANUS_HTTP_PORT:-8088}
janus_rtp=${JANUS_RTP_PORTS:-20000-29999}
swift build -c release --product visit-relay
swift build -c release --product relay-load
bin="$(swift build -c release --show-bin-path)"
out="$PWD/.build/janus-compare"
conf="$out/janus"
mkdir -p "$out"

ns="vr-janus-$$"
relay="" janus=""
cleanup() {
    [ -z "$relay" ] || kill "$relay" 2>/dev/null || true
    [ -z "$janus" ] || kill "$janus" 2>/dev/null || true
    wait 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$ns"
in_ns() { ip netns exec "$ns" "$@"; }
in_ns ip link set lo up
# Janus 1.1.2 skips every IFF_LOOPBACK interface when it gathers host candidates (ice.c,
# janus_ice_setup_local), so with `lo` alone every PeerConnection fails ("Error setting ICE
# locally"). Give 127.0.0.1/32 to a veth pair that lives only in this namespace (both ends here,
# IPv6 off): Janus gathers 127.0.0.1 from it, and the kernel still delivers that traffic over lo.
in_ns ip link add jlo0 type veth peer name jlo0p
for link in jlo0 jlo0p; do
    in_ns sysctl -q -w "net.ipv6.conf.$link.disable_ipv6=1" || true
    in_ns ip link set "$link" up
done
in_ns ip addr add 127.0.0.1/32 dev jlo0

# A minimal Janus: the HTTP transport and the VideoRoom plugin only (each folder holds just that
# module), ICE-lite with its one candidate in every description (no trickle), a self-signed
# certificate made at start-up, sessions dropped after 60 s without a request.
rm -rf "$conf"
mkdir -p "$conf/plugins" "$conf/transports" "$conf/events" "$conf/loggers"
ln -s "$janus_libs/plugins/libjanus_videoroom.so" "$conf/plugins/"
ln -s "$janus_libs/transports/libjanus_http.so" "$conf/transports/"
cat > "$conf/janus.jcfg" <<JCFG
general: {
	configs_folder = "$conf"
	plugins_folder = "$conf/plugins"
	transports_folder = "$conf/transports"
	events_folder = "$conf/events"
	loggers_folder = "$conf/loggers"
	log_to_stdout = true
	debug_level = ${JANUS_DEBUG_LEVEL:-3}
	debug_timestamps = true
	debug_colors = false
	session_timeout = 60
}
certificates: {
	dtls_accept_selfsigned = true
}
media: {
	ipv6 = false
	rtp_port_range = "$janus_rtp"
}
nat: {
	ice_lite = true
	ice_tcp = false
	full_trickle = false
	ignore_mdns = true
	ice_enforce_list = "127.0.0.1"
}
plugins: {
}
transports: {
}
events: {
	broadcast = false
}
JCFG
cat > "$conf/janus.transport.http.jcfg" <<JCFG
general: {
	json = "plain"
	base_path = "/janus"
	http = true
	port = $janus_port
	ip = "127.0.0.1"
	https = false
}
admin: {
	admin_http = false
	admin_https = false
}
JCFG
# No pre-configured rooms: relay-load creates one per visit.
printf 'general: {\n\tevents = false\n}\n' > "$conf/janus.plugin.videoroom.jcfg"

# `ip netns exec` execs its command (and `env` and `chrt` theirs), so $! is the SFU's pid for /proc.
# The relay runs as load-run.sh runs it, its media worker on SCHED_RR (media.realtime_priority).
# Janus has no such setting; JANUS_REALTIME=1 puts every Janus thread on SCHED_RR (inherited), but
# that cost Janus capacity here (last good step 40 visits instead of 60), so by default Janus runs
# as packaged.
janus_sched=()
[ "${JANUS_REALTIME:-0}" = 1 ] && janus_sched=(chrt --rr 10)
ip netns exec "$ns" "${janus_sched[@]}" janus -F "$conf" -o > "$out/janus.log" 2>&1 &
janus=$!
# The harness joins every visit from loopback at once: the relay's join-flood limits are off for it.
ip netns exec "$ns" env VISITRELAY_SECURITY_JOINS_PER_MINUTE=0 VISITRELAY_SECURITY_JOINS_PER_SECOND=0 VISITRELAY_LOGGING_LEVEL=warning \
    VISITRELAY_MEDIA_REALTIME_PRIORITY=10 \
    "$bin/visit-relay" --http 127.0.0.1:18080 --udp 127.0.0.1:48000 > "$out/relay.log" 2>&1 &
relay=$!
in_ns python3 - "$janus_port" <<'PY'
import sys, time, urllib.request
for url in ("http://127.0.0.1:18080/healthz", f"http://127.0.0.1:{sys.argv[1]}/janus/info"):
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    else:
        sys.exit(f"janus-compare.sh: {url} did not answer within 10 s")
PY
echo "janus-compare.sh: visit-relay pid $relay, janus pid $janus, namespace $ns"
in_ns "$bin/relay-load" --target both --http 127.0.0.1:18080 --relay-pid "$relay" \
    --janus "http://127.0.0.1:$janus_port/janus" --janus-pid "$janus" --json "$out/report.json" "$@"
