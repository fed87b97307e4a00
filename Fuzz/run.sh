#!/usr/bin/env bash
# Builds every fuzz target of Fuzz/Package.swift through SwiftPM (libFuzzer and AddressSanitizer,
# release, testable imports) and runs each for FUZZ_SECONDS (default 30) on a temporary copy of
# Fuzz/Corpus/<name>. Crash artefacts land in Fuzz/out/. FUZZ_ONLY=NAME (a target's name) builds and
# runs just that one. Exit status is non-zero if the build failed or any target crashed.
set -u
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-30}"
mkdir -p Fuzz/out
build=(swift build --package-path Fuzz --scratch-path "$PWD/.build-fuzz" -c release
    --sanitize=fuzzer --sanitize=address -Xswiftc -enable-testing)
if [ -n "${FUZZ_ONLY:-}" ]; then
    targets=("$FUZZ_ONLY")
    build+=(--product "$FUZZ_ONLY")
else
    targets=()
    for dir in Fuzz/Sources/*/; do
        name="$(basename "$dir")"
        [ "$name" = FuzzSupport ] || targets+=("$name")
    done
fi
if ! "${build[@]}" >Fuzz/out/build.log 2>&1; then
    echo "fuzz targets: build failed (see Fuzz/out/build.log)"
    tail -20 Fuzz/out/build.log
    exit 1
fi
bin="$("${build[@]}" --show-bin-path)"

status=0
for name in "${targets[@]}"; do
    corpus="$(mktemp -d)"
    [ -d "Fuzz/Corpus/$name" ] && cp -R "Fuzz/Corpus/$name/." "$corpus/"
    log="Fuzz/out/$name.log"
    "$bin/$name" -max_total_time="$seconds" -artifact_prefix="Fuzz/out/$name-" "$corpus" >"$log" 2>&1
    rc=$?
    rm -rf "$corpus"
    runs="$(grep -o 'Done [0-9]* runs' "$log" | tail -1 | awk '{print $2}')"
    crashes=0
    if [ "$rc" -ne 0 ]; then crashes=1; status=1; fi
    echo "$name: ${runs:-?} execs, $crashes crashes"
done
exit "$status"
