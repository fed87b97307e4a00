#!/usr/bin/env bash
# Builds every Fuzz/Targets/*.swift into Fuzz/bin/<name> and runs each for FUZZ_SECONDS (default 30)
# on a temporary copy of Fuzz/Corpus/<name>. Crash artefacts land in Fuzz/out/.
# Exit status is non-zero if any target failed to build or crashed.
set -u
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-30}"
mkdir -p Fuzz/bin Fuzz/out
sources=()
for d in Sources/MediaCore/RTP Sources/MediaCore/RTCP Sources/MediaCore/STUN Sources/MediaCore/SDP Sources/MediaCore/Payload; do
    [ -d "$d" ] && while IFS= read -r f; do sources+=("$f"); done < <(find "$d" -name '*.swift')
done
sources+=(Sources/MediaCore/MediaCore.swift)
status=0
for target in Fuzz/Targets/*.swift; do
    name="$(basename "$target" .swift)"
    if ! swiftc -sanitize=fuzzer,address -parse-as-library -enable-experimental-feature Lifetimes -O \
        -module-name MediaCore "${sources[@]}" "$target" -o "Fuzz/bin/$name" >"Fuzz/out/$name.build.log" 2>&1; then
        echo "$name: build failed (see Fuzz/out/$name.build.log)"
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
