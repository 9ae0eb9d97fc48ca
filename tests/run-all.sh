#!/usr/bin/env bash
# The whole test suite: installs what it needs (Debian 12), then
#   1. release-style build (-Werror, hardening) + every unit and integration test
#   2. AddressSanitizer + UndefinedBehaviorSanitizer build + the same tests
#   3. libFuzzer on the task parser, the record path, the channel decoder and the config parser (40 s each)
#   4. `admin-audit lint` on the shipped examples
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/.ci/install-deps.sh" test
jobs=$(nproc)
fail=0

step() { printf '\n==== %s\n' "$*"; }

step "build (RelWithDebInfo, -Werror, hardening)"
cmake -S "$top" -B "$top/build-test" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAA_WERROR=ON >/dev/null
cmake --build "$top/build-test" -j"$jobs"
step "tests"
ctest --test-dir "$top/build-test" --output-on-failure -j"$jobs" || fail=1

step "build (ASan + UBSan)"
cmake -S "$top" -B "$top/build-asan" -DCMAKE_BUILD_TYPE=Debug -DAA_SANITIZE=ON >/dev/null
cmake --build "$top/build-asan" -j"$jobs"
step "tests under ASan + UBSan"
ASAN_OPTIONS=abort_on_error=0:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$top/build-asan" --output-on-failure -j"$jobs" -E 'integration/package$' || fail=1
# (integration/package builds and installs its own .deb, independent of this
# build's flags: it ran in the first pass.)

step "fuzz (bounded)"
AA_FUZZ_SECONDS=${AA_FUZZ_SECONDS:-35} bash "$top/tests/fuzz/run.sh" fuzz_taskdoc fuzz_record fuzz_channel fuzz_config fuzz_catalog || fail=1

step "lint examples"
"$top/build-test/wrapper/admin-audit" lint "$top/examples/shop" || fail=1

if [ "$fail" -ne 0 ]; then
    echo "run-all: FAILED"
    exit 1
fi
echo "run-all: all green"
