#!/usr/bin/env bash
# Installs what VisitRelay needs on a fresh Debian 12 machine, as root. Idempotent: it checks each
# Debian package with dpkg and runs `apt-get update` once, only when something is missing.
# Usage: scripts/install-deps.sh [build|test]
set -euo pipefail

profile="${1:-build}"
packages=(libopus-dev libvpx-dev libsrtp2-dev libssl-dev pkg-config)
if [[ "$profile" == "test" ]]; then
    # Real browsers for the end-to-end visits, network namespaces to run them in, nft to block UDP
    # for one browser, and coturn (with openssl for its test certificate) for TURN over TLS.
    packages+=(iproute2 nftables openssl coturn chromium firefox-esr python3)
fi

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

if ((${#missing[@]} == 0)); then
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: missing Debian packages: ${missing[*]}; run as root (or install them) first" >&2
    exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
