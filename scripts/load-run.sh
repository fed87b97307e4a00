#!/usr/bin/env bash
# Runs relay-load against a release build of visit-relay on loopback, one media worker.
#   scripts/load-run.sh --mode ramp --step 10 --seconds 5      (make load)
#   scripts/load-run.sh --visits 10 --seconds 10               (the short run in make bench)
#   scripts/load-run.sh --link rural-4g --visits 10 --seconds 20
#       (impaired mode: every participant behind its own link-emulator link with that profile)
# The JSON report goes to .build/load.json and, for a ramp, a plot to .build/load-ramp.svg.
set -euo pipefail
cd "$(dirname "$0")/.."
link=""
args=()
while [ $# -gt 0 ]; do
    if [ "$1" = "--link" ]; then link="$2"; shift 2; else args+=("$1"); shift; fi
done
swift build -c release --product visit-relay
swift build -c release --product relay-load
[ -z "$link" ] || swift build -c release --product link-emulator
bin="$(swift build -c release --show-bin-path)"
# The harness joins every visit from loopback at once: the join-flood limits are off for it. The
# media worker runs on SCHED_RR (media.realtime_priority; as root), so the relay's latency is not
# the time it waited behind the harness for one of the machine's cores.
VISITRELAY_SECURITY_JOINS_PER_MINUTE=0 VISITRELAY_SECURITY_JOINS_PER_SECOND=0 VISITRELAY_MEDIA_REALTIME_PRIORITY=10 \
    VISITRELAY_LOGGING_LEVEL=warning "$bin/visit-relay" --http 127.0.0.1:18080 --udp 127.0.0.1:48000 > .build/load-relay.log 2>&1 &
relay=$!
emulator=""
trap 'kill $relay $emulator 2>/dev/null || true' EXIT
if [ -n "$link" ]; then
    "$bin/link-emulator" --listen 127.0.0.1:48100=127.0.0.1:48000 --profile "$link" > .build/load-link.log 2>&1 &
    emulator=$!
    args+=(--mode impaired --via 127.0.0.1:48100 --link-profile "$link")
fi
python3 - <<'PY'
import time, urllib.request
for _ in range(100):
    try:
        urllib.request.urlopen("http://127.0.0.1:18080/healthz", timeout=1)
        break
    except OSError:
        time.sleep(0.1)
PY
"$bin/relay-load" --http 127.0.0.1:18080 --relay-pid "$relay" --json .build/load.json "${args[@]}"
if [ -n "$emulator" ]; then
    kill -TERM "$emulator"; wait "$emulator" || true
    echo "link-emulator ($link):"; tail -n +2 .build/load-link.log
fi
if grep -q -- "ramp" <<< "${args[*]}"; then python3 scripts/plot-ramp.py .build/load.json .build/load-ramp.svg; fi
