#!/bin/bash
# Build the libFuzzer targets with clang in their own build directory and run
# each for a bounded time.  Exit status: 0 clean, non-zero on a crash, leak,
# sanitizer report or build failure.
#
#   tests/fuzz/run.sh [fuzz_taskdoc ...]
#   AA_FUZZ_SECONDS   run time per target (default 60)
#   AA_FUZZ_BUILD_DIR build directory (default <source>/build-fuzz)
#   CC                compiler (default clang)
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
build=${AA_FUZZ_BUILD_DIR:-$src/build-fuzz}
secs=${AA_FUZZ_SECONDS:-60}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_taskdoc)

cc=${CC:-clang}
if ! command -v "$cc" >/dev/null 2>&1; then
    echo "fuzz: $cc not found (apt-get install clang)" >&2
    exit 77
fi

mkdir -p "$build"
cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER="$cc" -DAA_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=Debug >"$build/configure.log" 2>&1 ||
    { cat "$build/configure.log" >&2; exit 1; }
cmake --build "$build" -j2 --target "${targets[@]}"

# seed corpora: fixture documents for the parser
declare -A seeds=([fuzz_taskdoc]="$src/tests/fixtures/tasks" [fuzz_record]="$src/tests/fixtures/verify" [fuzz_config]="$src/packaging/etc" [fuzz_channel]="$src/tests/fixtures/fuzz/channel" [fuzz_catalog]="$src/examples/shop/.aiwg/deployment")

failed=0
for t in "${targets[@]}"; do
    corpus=$build/fuzz-corpus/$t
    artifacts=$build/fuzz-artifacts/$t/
    mkdir -p "$corpus" "$artifacts"
    args=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536
          -print_final_stats=1 -artifact_prefix="$artifacts")
    [ -f "$src/tests/fuzz/$t.dict" ] && args+=(-dict="$src/tests/fuzz/$t.dict")
    dirs=("$corpus")
    [ -n "${seeds[$t]:-}" ] && [ -d "${seeds[$t]}" ] && dirs+=("${seeds[$t]}")
    echo "fuzz: $t for ${secs}s (corpus $corpus)"
    if "$build/tests/$t" "${args[@]}" "${dirs[@]}" >"$build/$t.log" 2>&1; then
        grep -E '^(stat::|Done|INFO: Running with)' "$build/$t.log" || true
        echo "fuzz: $t clean"
    else
        rc=$?
        tail -n 60 "$build/$t.log" >&2
        echo "fuzz: $t FAILED (exit $rc); artifacts in $artifacts" >&2
        failed=1
    fi
done
exit $failed
