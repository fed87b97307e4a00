#!/usr/bin/env bash
# A/B in one run: the same release relay with media.srtp libsrtp and own, alternating, 60 visits
# for 15 s each, three rounds (compare within the run: the machines are shared and noisy).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product visit-relay >/dev/null
swift build -c release --product relay-load >/dev/null
bin="$(swift build -c release --show-bin-path)"
for round in 1 2 3; do
  for srtp in libsrtp own; do
    VISITRELAY_MEDIA_SRTP=$srtp VISITRELAY_SECURITY_JOINS_PER_MINUTE=0 VISITRELAY_SECURITY_JOINS_PER_SECOND=0 \
      VISITRELAY_LOGGING_LEVEL=warning "$bin/visit-relay" --http 127.0.0.1:18080 --udp 127.0.0.1:48000 > .build/srtp-ab-relay.log 2>&1 &
    relay=$!
    sleep 1.5
    row=$("$bin/relay-load" --http 127.0.0.1:18080 --visits 60 --seconds 15 --relay-pid $relay | tail -1)
    echo "$round $srtp $row"
    kill $relay; wait $relay 2>/dev/null || true
  done
done
