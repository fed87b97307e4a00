#!/usr/bin/env bash
# Builds every Fuzz/Targets/*.swift into Fuzz/bin/<name> and runs each for FUZZ_SECONDS (default 30)
# on a temporary copy of Fuzz/Corpus/<name>. Crash artefacts land in Fuzz/out/.
# FUZZ_ONLY=NAME (a target's name) runs just that one.
#
# Parser targets compile only the parser sources. Targets marked "// fuzz: full-module" on their
# first line need all of MediaCore: they link the C modules (CSrtp's shim compiled here with
# clang, libsrtp2, OpenSSL, libopus, libvpx) and the tests' in-process WebRTC client and harness.
# Exit status is non-zero if any target failed to build or crashed.
set -u
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-30}"
mkdir -p Fuzz/bin Fuzz/out Fuzz/bin/modules/CSrtp
swift_flags=(-sanitize=fuzzer,address -parse-as-library -enable-experimental-feature Lifetimes -O -module-name MediaCore)

parser_sources=()
for d in Sources/MediaCore/RTP Sources/MediaCore/RTCP Sources/MediaCore/STUN Sources/MediaCore/SDP Sources/MediaCore/Payload; do
    [ -d "$d" ] && while IFS= read -r f; do parser_sources+=("$f"); done < <(find "$d" -name '*.swift')
done
parser_sources+=(Sources/MediaCore/MediaCore.swift)

full_sources=()
while IFS= read -r f; do full_sources+=("$f"); done < <(find Sources/MediaCore -name '*.swift' | sort)
# The tests' client and harness, minus their `@testable import` (here they are compiled into the module itself).
for helper in RelayTestClient RelayHarness; do
    grep -v '^@testable import MediaCore' "Tests/MediaCoreTests/Relay/$helper.swift" > "Fuzz/bin/$helper.swift"
    full_sources+=("Fuzz/bin/$helper.swift")
done
cat > Fuzz/bin/modules/CSrtp/module.modulemap <<MAP
module CSrtp {
    header "$PWD/Sources/CSrtp/include/csrtp.h"
    export *
}
MAP
full_ready=0
build_full_support() {
    [ "$full_ready" = 1 ] && return 0
    clang -O1 -fsanitize=fuzzer-no-link,address -Wno-deprecated-declarations -I Sources/CSrtp/include \
        -c Sources/CSrtp/shims.c -o Fuzz/bin/csrtp-shims.o >Fuzz/out/csrtp-shims.build.log 2>&1 || return 1
    full_ready=1
}

status=0
for target in Fuzz/Targets/*.swift; do
    name="$(basename "$target" .swift)"
    [ -n "${FUZZ_ONLY:-}" ] && [ "$FUZZ_ONLY" != "$name" ] && continue
    log="Fuzz/out/$name.build.log"
    if head -1 "$target" | grep -q 'fuzz: full-module'; then
        if ! build_full_support; then
            echo "$name: build failed (see Fuzz/out/csrtp-shims.build.log)"
            status=1
            continue
        fi
        built=0
        swiftc "${swift_flags[@]}" -I Fuzz/bin/modules/CSrtp -I Sources/COpus -I Sources/CVpx \
            "${full_sources[@]}" "$target" Fuzz/bin/csrtp-shims.o -lsrtp2 -lssl -lcrypto -lopus -lvpx \
            -o "Fuzz/bin/$name" >"$log" 2>&1 && built=1
    else
        built=0
        swiftc "${swift_flags[@]}" "${parser_sources[@]}" "$target" -o "Fuzz/bin/$name" >"$log" 2>&1 && built=1
    fi
    if [ "$built" != 1 ]; then
        echo "$name: build failed (see $log)"
        status=1
        continue
    fi
    corpus="$(mktemp -d)"
    [ -d "Fuzz/Corpus/$name" ] && cp -R "Fuzz/Corpus/$name/." "$corpus/"
    log="Fuzz/out/$name.log"
    "Fuzz/bin/$name" -max_total_time="$seconds" -artifact_prefix="Fuzz/out/$name-" "$corpus" >"$log" 2>&1
    rc=$?
    rm -rf "$corpus"
    runs="$(grep -o 'Done [0-9]* runs' "$log" | tail -1 | awk '{print $2}')"
    crashes=0
    if [ "$rc" -ne 0 ]; then crashes=1; status=1; fi
    echo "$name: ${runs:-?} execs, $crashes crashes"
done
exit "$status"
