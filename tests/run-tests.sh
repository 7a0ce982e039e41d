#!/bin/sh
# Run the cmocka test binaries TEST_JOBS at a time (default: the core count;
# every test makes its own temporary directory, so they may overlap), then
# print each one's output in the order given (stderr folded into stdout:
# cmocka prints part of its summary there) and one combined line
# "N passed, M failed, K skipped". A binary that crashes or exits non-zero
# without reporting counts as a failure.
jobs=${TEST_JOBS:-$(nproc 2>/dev/null || echo 2)}
# Suites run side by side, each training with OpenMP teams as large as the
# machine: threads that spin at every barrier would then starve each other
# (an epoch 10x slower), so waiting threads sleep, unless the caller says otherwise.
OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
export OMP_WAIT_POLICY
dir=$(mktemp -d "${TMPDIR:-/tmp}/run-tests.XXXXXX") || exit 70
trap 'rm -rf "$dir"' EXIT
trap 'exit 130' INT TERM
n=0
for t in "$@"; do
    n=$((n + 1))
    printf '%s\0%s\0' "$n" "$t"
done | xargs -0 -n 2 -P "$jobs" sh -c '"$2" > "$0/$1.out" 2>&1; echo $? > "$0/$1.rc"' "$dir"
passed=0 failed=0 skipped=0 n=0
for t in "$@"; do
    n=$((n + 1))
    out=$(cat "$dir/$n.out" 2>/dev/null)
    rc=$(cat "$dir/$n.rc" 2>/dev/null || echo 127)
    printf '%s\n' "$out"
    p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -n1)
    f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -n1)
    s=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' | tail -n1)
    p=${p:-0} f=${f:-0} s=${s:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "$t: exited with status $rc without reporting a failure" >&2
        f=1
    fi
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
