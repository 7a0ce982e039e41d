#!/bin/sh
# contention.sh: the default ./train on a machine with one other busy process.
#
#   bench/contention.sh [TRAIN-FLAGS...]      (make bench-contention)
#
# Times one run idle, one beside a CPU-bound shell loop, one idle again, in
# that order, and prints the three wall times and busy / mean(idle). The
# target (issue 22): at most 2.5 on a 2-core machine. The OpenMP wait is
# train's own (a bounded spin, src/nn/par.h) unless OMP_WAIT_POLICY or
# GOMP_SPINCOUNT is set here: run it again with GOMP_SPINCOUNT=300000
# (libgomp's default spin) to see what the bounded one buys, and compare the
# idle times of both for what it costs. Other load on the machine (uptime,
# printed) makes every figure larger; the ratio is only meaningful on an
# otherwise quiet machine.
set -eu
cd "$(dirname "$0")/.."
TRAIN=${TRAIN:-./train}
[ -x "$TRAIN" ] || { echo "contention.sh: no $TRAIN (run make)" >&2; exit 69; }
spinner=
trap '[ -z "$spinner" ] || kill "$spinner" 2>/dev/null; exit 130' INT TERM
trap '[ -z "$spinner" ] || kill "$spinner" 2>/dev/null' EXIT

# wall seconds of one run (its output discarded; a failed run stops the script)
timed() {
    s=$(date +%s.%N)
    "$TRAIN" --quiet "$@" > /dev/null
    e=$(date +%s.%N)
    LC_ALL=C awk -v s="$s" -v e="$e" 'BEGIN { printf "%.2f", e - s }'
}

wait_desc=${GOMP_SPINCOUNT:+GOMP_SPINCOUNT=$GOMP_SPINCOUNT}
wait_desc=${OMP_WAIT_POLICY:+OMP_WAIT_POLICY=$OMP_WAIT_POLICY }$wait_desc
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) CPUs usable"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "run: $TRAIN --quiet $*  (wait: ${wait_desc:-train's default})"
idle1=$(timed "$@")
echo "idle:             $idle1 s"
sh -c 'while :; do :; done' &
spinner=$!
busy=$(timed "$@")
kill "$spinner"
wait "$spinner" 2>/dev/null || true
spinner=
echo "beside busy loop: $busy s"
idle2=$(timed "$@")
echo "idle again:       $idle2 s"
LC_ALL=C awk -v a="$idle1" -v b="$busy" -v c="$idle2" \
    'BEGIN { printf "busy / idle: %.2f (target <= 2.5)\n", b / ((a + c) / 2) }'
