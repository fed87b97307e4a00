#!/usr/bin/env bash
# Checks the shipped systemd unit: `systemd-analyze verify` passes and
# `systemd-analyze security --offline=yes` rates it 2.0 or lower. Usage: scripts/check-systemd.sh BINARY
set -euo pipefail
binary="$(realpath "$1")"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# verify checks that ExecStart= exists: point it at the binary just built.
sed "s#/usr/local/bin/visit-relay#${binary}#g" "$root/systemd/visit-relay.service" > "$work/visit-relay.service"
systemd-analyze verify "$work/visit-relay.service"
systemd-analyze security --offline=yes --threshold=20 "$work/visit-relay.service" | tail -1
"$binary" check-config "$root/systemd/visit-relay.yaml"
