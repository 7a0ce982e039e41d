#!/bin/sh
# The benchmark harness behind make bench, make bench-compare, make bench-scaling.
#
#   bench/run.sh bench   [-e EPOCHS]            every config x precision x head, all cores
#   bench/run.sh compare [-e EPOCHS] [-r ROUNDS] train fp32, train bf16, PyTorch fp32, in rounds
#   bench/run.sh scaling [-e EPOCHS]            epoch time against width, samples, threads
#   bench/run.sh wall                           whole-process wall times of the runs the targets name
#   bench/run.sh speedrun [-r ROUNDS] [-s SEEDS] configs/fast-*.json against the same recipe in PyTorch
#                                               (-e EPOCHS: a shortened check of the harness)
#   bench/run.sh MODE -R                        rebuild MODE.md from MODE.jsonl, run nothing
#
# Each writes bench/results/MODE.jsonl (one line per run, as build/bin/bench and
# bench/torch_ref.py print them) and bench/results/MODE.md (the tables, with
# the CPU, versions, date and command). Data: $MNIST_DIR, else data/mnist.
# Every bench line carries the machine's FP32 FMA and BF16 dot-product peaks
# measured in the same process (bench/peak.c), the products-only bound, the
# ISA oneDNN dispatched to and the implementation it chose.
# Run it on an otherwise idle machine: other work on the cores shows up as
# slower epochs (and a lower bound fraction).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
mode=${1:-}
[ $# -gt 0 ] && shift
epochs=3 epochs_set="" rounds=5 render_only="" seeds="1 2 3 4 5"
while getopts e:r:s:R opt; do
    case $opt in
        e) epochs=$OPTARG epochs_set=1 ;;
        r) rounds=$OPTARG ;;
        s) seeds=$OPTARG ;;
        R) render_only=1 ;;
        *) exit 64 ;;
    esac
done
case $mode in
    bench|compare|scaling|wall|speedrun) ;;
    *) echo "usage: bench/run.sh bench|compare|scaling|wall|speedrun [-e EPOCHS] [-r ROUNDS] [-s SEEDS] [-R]" >&2; exit 64 ;;
esac

cores=$(nproc)
data=${MNIST_DIR:-data/mnist}
out=bench/results
jsonl=$out/$mode.jsonl md=$out/$mode.md
omp=/usr/lib/x86_64-linux-gnu/openblas-openmp

bf16=$(./train --version | grep -q 'or bf16 (native)' && echo bf16 || true)

ours() {   # CONFIG HEAD THREADS [FLAGS...]
    c=$1 h=$2 t=$3; shift 3
    build/bin/bench --config "bench/configs/$c.json" --data-dir "$data" --head "$h" \
        --threads "$t" --epochs "$epochs" "$@" \
        | jq -c --arg c "$c" '. + {config: $c, impl: "train"}' >> "$jsonl.tmp"
}

# PyTorch at its best here: OpenMP OpenBLAS first, torch and OpenMP threads = T
torch_ref() {   # CONFIG HEAD THREADS
    LD_LIBRARY_PATH=$omp${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} OMP_NUM_THREADS=$3 \
        /usr/bin/python3 bench/torch_ref.py --config "bench/configs/$1.json" --head "$2" \
        --threads "$3" --epochs "$epochs" --data-dir "$data" \
        | jq -c --arg c "$1" '. + {config: $c, impl: "pytorch", precision: "fp32"}' >> "$jsonl.tmp"
}

# one whole process, timed from outside: wall seconds, peak RSS, accuracy
wall() {   # NAME COMMAND...
    name=$1; shift
    t0=$(date +%s.%N)
    /usr/bin/env time -f '%M' -o "$out/.rss" "$@" > "$out/.wall.out" 2> "$out/.wall.err" || {
        cat "$out/.wall.err" >&2; exit 70; }
    t1=$(date +%s.%N)
    acc=$(grep -o 'test accuracy: [0-9.]*%' "$out/.wall.out" | tail -n1 | grep -o '[0-9.]*' || echo null)
    jq -n -c --arg n "$name" --arg cmd "$*" --argjson s "$(echo "$t1 - $t0" | bc)" \
        --argjson rss "$(cat "$out/.rss")" --argjson acc "${acc:-null}" \
        '{name: $n, command: $cmd, wall_seconds: $s, peak_rss_mb: ($rss / 1024 | round), test_accuracy: $acc}' \
        >> "$jsonl.tmp"
    rm -f "$out/.rss" "$out/.wall.out" "$out/.wall.err"
}

# one whole process of the fast recipe, timed from outside: ours or PyTorch's
# (-e cuts both to EPOCHS: a check that the harness runs, not the recipe)
speed() {   # ROUND SEED HEAD IMPL PRECISION
    sleep "${SPEEDRUN_SETTLE:-2}"
    t0=$(date +%s.%N)
    if [ "$4" = train ]; then
        ./train --config "configs/fast-$3.json" --data-dir "$data" --seed "$2" --threads "$cores" \
            --precision "$5" ${epochs_set:+--epochs "$epochs"} --quiet > "$out/.speed.out" 2> "$out/.speed.err" || {
            cat "$out/.speed.err" >&2; exit 70; }
        acc=$(sed -n 's/^test accuracy: \([0-9.]*\)%.*/\1/p' "$out/.speed.out")
    else
        LD_LIBRARY_PATH=$omp${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} OMP_NUM_THREADS=$cores \
            /usr/bin/python3 bench/torch_ref.py --config "configs/fast-$3.json" --head "$3" --data-dir "$data" \
            --seed "$2" --threads "$cores" --precision "$5" ${epochs_set:+--epochs "$epochs"} > "$out/.speed.out" 2> "$out/.speed.err" || {
            cat "$out/.speed.err" >&2; exit 70; }
        acc=$(jq '.test_accuracy * 100' "$out/.speed.out")
    fi
    t1=$(date +%s.%N)
    cut=null
    [ -z "$epochs_set" ] || cut=$epochs
    jq -n -c --argjson r "$1" --argjson s "$2" --arg h "$3" --arg i "$4" --arg p "$5" \
        --argjson w "$(echo "$t1 - $t0" | bc)" --argjson acc "$acc" --argjson e "$cut" \
        '{round: $r, seed: $s, head: $h, impl: $i, precision: $p, wall_seconds: $w, test_accuracy: $acc, epochs_cut_to: $e}' \
        >> "$jsonl.tmp"
    rm -f "$out/.speed.out" "$out/.speed.err"
}

run() {
    mkdir -p "$out"
    : > "$jsonl.tmp"
    case $mode in
    bench)
        for c in small mid wide; do
            for p in fp32 $bf16; do
                for h in softmax sigmoid; do ours "$c" "$h" "$cores" --precision "$p"; done
            done
        done ;;
    compare)
        "$here/scripts/install-deps.sh" \
            python3-torch=glob:/usr/lib/python3/dist-packages/torch/__init__.py \
            python3-numpy=glob:/usr/lib/python3/dist-packages/numpy/__init__.py \
            libopenblas0-openmp=glob:$omp/libblas.so.3 time=cmd:/usr/bin/time bc=cmd:bc
        r=1
        while [ "$r" -le "$rounds" ]; do
            for c in small mid wide; do
                for p in fp32 $bf16; do ours "$c" softmax "$cores" --precision "$p"; done
                torch_ref "$c" softmax "$cores"
            done
            # the whole default run, once per round: its target is < 3 s
            wall "default fp32" ./train --data-dir "$data"
            r=$((r + 1))
        done ;;
    wall)
        "$here/scripts/install-deps.sh" time=cmd:/usr/bin/time bc=cmd:bc
        for p in fp32 $bf16; do
            for r in 1 2 3; do wall "default $p" ./train --precision "$p"; done
            wall "softmax.json $p" ./train --config configs/softmax.json --precision "$p"
        done
        wall "compare-heads.sh fp32" scripts/compare-heads.sh -o "$out/.compare-heads" \
            configs/softmax.json configs/sigmoid.json
        rm -rf "$out/.compare-heads" ;;
    speedrun)
        "$here/scripts/install-deps.sh" \
            python3-torch=glob:/usr/lib/python3/dist-packages/torch/__init__.py \
            python3-numpy=glob:/usr/lib/python3/dist-packages/numpy/__init__.py \
            libopenblas0-openmp=glob:$omp/libblas.so.3 bc=cmd:bc
        # ours at its best here (bf16 where the CPU has it), PyTorch fp32 and
        # bf16 autocast, the same seeds in every round. The order turns each
        # round (train first in odd rounds, last in even ones), so that no
        # side always starts just after the other freed its memory or warmed
        # the caches, and each process starts after a pause of
        # SPEEDRUN_SETTLE seconds (default 2) that lets the machine settle.
        ours_p=${bf16:-fp32}
        r=1
        while [ "$r" -le "$rounds" ]; do
            for s in $seeds; do
                for h in softmax sigmoid; do
                    if [ $((r % 2)) -eq 1 ]; then
                        speed "$r" "$s" "$h" train "$ours_p"
                        speed "$r" "$s" "$h" pytorch fp32
                        [ -z "$bf16" ] || speed "$r" "$s" "$h" pytorch bf16
                    else
                        [ -z "$bf16" ] || speed "$r" "$s" "$h" pytorch bf16
                        speed "$r" "$s" "$h" pytorch fp32
                        speed "$r" "$s" "$h" train "$ours_p"
                    fi
                done
            done
            r=$((r + 1))
        done ;;
    scaling)
        for w in 128 256 512 1024 2048; do ours mid softmax "$cores" --hidden "$w"; done
        for n in 10000 30000 60000; do ours mid softmax "$cores" --limit-train "$n"; done
        # 1 and all threads alternate, three rounds: single runs drift too much
        for r in 1 2 3; do
            for c in small mid wide; do
                for t in 1 "$cores"; do ours "$c" softmax "$t"; done
            done
        done ;;
    esac
    mv "$jsonl.tmp" "$jsonl"
}

header() {
    echo "Measured $(date -u -r "$jsonl" +%Y-%m-%d) with \`$1\`"
    echo
    echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $cores cores;" \
         "oneDNN dispatches to $(jq -s -r '[.[] | .isa // empty][0] // empty' "$jsonl" | grep . ||
                                  ./train --version | sed -n 's/.*oneDNN ISA here: //p');" \
         "load while measuring: $(cat "$jsonl.load" 2>/dev/null || echo unknown)"
    echo "- machine: $(lscpu | sed -n 's/^Model name: *//p'), $cores cores" \
         "($(grep -q avx512f /proc/cpuinfo && echo 'AVX-512, ')L2 $(lscpu | sed -n 's/^L2 cache: *//p' | grep . || echo 'not reported'))," \
         "$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)," \
         "$(. /etc/os-release && echo "$PRETTY_NAME")"
    echo "- $(gcc --version | head -n1), $(./train --version | sed -n 2p)"
    if [ "$mode" = compare ] || [ "$mode" = speedrun ]; then
        echo "- PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)')" \
             "(Debian python3-torch) on OpenMP OpenBLAS $(dpkg-query -W -f '${Version}' libopenblas0-openmp)"
    fi
    [ "$mode" = wall ] || [ "$mode" = speedrun ] ||
        echo "- training loop only (evaluation and loading excluded), median of $(jq -s '.[0].epochs' "$jsonl")" \
             "epochs per run; configs in bench/configs/ (SGD momentum 0.9, lr 0.05)"
    echo
}

# jq: n decimals
R='def r(n): . * pow(10; n) | round / pow(10; n);
   def med: sort | if length % 2 == 1 then .[length / 2 | floor]
                   else (.[length / 2 - 1] + .[length / 2]) / 2 end;'

render() {
    case $mode in
    bench)
        header "make bench"
        echo "Products-only: the same oneDNN primitives (fused bias/activation, momentum sum) on operands of their own, one step's worth times the steps. Peak: register-only 512-bit FMA (fp32) or vdpbf16ps (bf16) loops on the same threads, in the same process; % of peak is the epoch's GFLOP/s over the peak of its precision."
        echo
        echo "| config | precision | head | threads | s/epoch | products-only s | epoch / products | GFLOP/s | % of peak | FP32 / BF16 peak GFLOP/s | peak RSS MB | test acc | oneDNN impl |"
        echo "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
        jq -r "$R"'"| \(.config) \(.hidden) b\(.batch) | \(.precision) | \(.head) | \(.threads) | \(.epoch_seconds_median | r(3)) | \(.bound_seconds | r(3)) | \(1 / .bound_fraction | r(2)) | \(.gflops | r(1)) | \(.peak_fraction * 100 | r(1))% | \(.peak_fp32_gflops | round) / \(.peak_bf16_gflops | round) | \(.peak_rss_mb) | \(.test_accuracy * 100 | r(2))% | \(.compute | sub(".*matmul "; "")) |"' "$jsonl" ;;
    compare)
        header "make bench-compare"
        # the rounds the lines hold (-R renders without -r): PyTorch runs of one config
        n_rounds=$(jq -s '[.[] | select(.impl == "pytorch")] | group_by(.config) | map(length) | max // 0' "$jsonl")
        echo "$n_rounds rounds; in each, for each config, train fp32, train bf16 and PyTorch fp32 ran one after the other, $cores threads each, softmax head. Ratio = PyTorch s/epoch / train s/epoch in the same round (> 1: train is faster); s/epoch columns are medians over the rounds; % of peak against the peak of the precision, measured in the same process."
        echo
        echo "| config | precision | train s/epoch | PyTorch fp32 s/epoch | ratio per round | median ratio | % of peak (peak GFLOP/s) | epoch / products-only | minor faults / epoch | train acc | PyTorch acc | peak RSS MB train / PyTorch |"
        echo "|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"
        jq -s -r "$R"'
          [[.[] | select(.config)] | group_by(.config)[] | . as $g | ["fp32", "bf16"][] as $p
           | [$g[] | select(.impl == "train" and .precision == $p)] as $a
           | select($a | length > 0) | {a: $a, b: [$g[] | select(.impl == "pytorch")]}]
          | sort_by(.a[0].config as $c | ["small", "mid", "wide"] | index($c))[]
          | .a as $a | .b as $b
          | [range(0; [$a, $b | length] | min) | $b[.].epoch_seconds_median / $a[.].epoch_seconds_median] as $q
          | "| \($a[0].config) \($a[0].hidden) b\($a[0].batch) | \($a[0].precision) | \([$a[].epoch_seconds_median] | med | r(3)) | \([$b[].epoch_seconds_median] | med | r(3)) | \([$q[] | r(2) | tostring] | join(" ")) | **\($q | med | r(2))×** | \([$a[].peak_fraction] | med * 100 | r(1))% (\([$a[] | if .precision == "bf16" then .peak_bf16_gflops else .peak_fp32_gflops end] | med | round)) | \([$a[].bound_fraction] | med | 1 / . | r(2)) | \([$a[].minor_faults_per_epoch // null] | max) | \([$a[].test_accuracy] | med * 100 | r(2))% | \([$b[].test_accuracy] | med * 100 | r(2))% | \([$a[].peak_rss_mb] | max) / \([$b[].peak_rss_mb] | max) |"
        ' "$jsonl"
        echo
        jq -s -r "$R"'[.[] | select(.name == "default fp32")] | select(length > 0)
          | "`./train` (default config: 784-256-10, batch 64, 10 epochs, fp32, whole process including loading), once per round: median **\([.[].wall_seconds] | med | r(2)) s** wall (rounds: \([.[].wall_seconds | r(2) | tostring] | join(", ")) s), peak RSS \([.[].peak_rss_mb] | max) MB, test accuracy \(.[0].test_accuracy)%."' "$jsonl" ;;
    wall)
        header "make bench-wall"
        echo "Whole processes, timed from outside (\`./train\` three times per precision; configs/softmax.json and compare-heads.sh once)."
        echo
        echo "| run | command | wall s | peak RSS MB | test acc |"
        echo "|---|---|---:|---:|---:|"
        jq -r "$R"'"| \(.name) | `\(.command)` | \(.wall_seconds | r(2)) | \(.peak_rss_mb) | \(if .test_accuracy then "\(.test_accuracy)%" else "-" end) |"' "$jsonl" ;;
    speedrun)
        header "make bench-speedrun"
        echo "The recipe of configs/fast-{softmax,sigmoid}.json in train and in PyTorch (bench/torch_ref.py: the same network, init, loss, optimizer, schedule, dropout, deskewing and shifts), $cores threads, whole processes timed from outside (start to the result line, loading and deskewing included), seeds $(jq -s -r '[.[].seed] | unique | map(tostring) | join(", ")' "$jsonl") in each of $(jq -s '[.[].round] | max' "$jsonl") rounds; in a round each seed and head runs train, PyTorch fp32 and PyTorch bf16 autocast, train first in odd rounds and last in even ones, each process after a pause of ${SPEEDRUN_SETTLE:-2} s. Ratio: PyTorch's mean wall time over train's in the same round (> 1: train is faster)."
        echo
        jq -s -r '[.[].epochs_cut_to // empty] | select(length > 0) | "**Shortened check (-e \(.[0]) epochs): not the recipe, no figure to quote.**\n"' "$jsonl"
        echo "| head | run | precision | mean test acc | min test acc | mean wall s (per round) | ratio per round | median ratio |"
        echo "|---|---|---|---:|---:|---|---|---:|"
        jq -s -r "$R"'
          def mean: add / length;
          group_by(.head)[] | . as $g
          | ([$g[] | select(.impl == "train")] | group_by(.round) | map([.[].wall_seconds] | mean)) as $ours
          | (group_by(.impl + .precision) | sort_by(if .[0].impl == "train" then 0 else 1 end, .[0].precision)[])
          | . as $x | (group_by(.round) | map([.[].wall_seconds] | mean)) as $w
          | [range(0; [$w, $ours | length] | min) | $w[.] / $ours[.]] as $q
          | "| \($x[0].head) | \($x[0].impl) | \($x[0].precision) | \([$x[].test_accuracy] | mean | r(2))% | \([$x[].test_accuracy] | min | r(2))% | \([$x[].wall_seconds] | mean | r(2)) (\([$w[] | r(2) | tostring] | join(", "))) | \(if $x[0].impl == "train" then "-" else [$q[] | r(2) | tostring] | join(" ") end) | \(if $x[0].impl == "train" then "-" else "**\($q | med | r(2))×**" end) |"' "$jsonl" ;;
    scaling)
        header "make bench-scaling"
        echo "Width: 784-W-10, batch 128, softmax, $cores threads. ns per weight-sample = s/epoch / (weights x training images); flat when the cost is linear in weights x samples."
        echo
        echo "| hidden | weights | s/epoch | ns per weight-sample | GFLOP/s | of products-only bound |"
        echo "|---|---:|---:|---:|---:|---:|"
        jq -s -r "$R"'.[0:5][] | (.hidden | split("-") | map(tonumber)) as $s
          | ([range(0; $s | length - 1) | $s[.] * $s[. + 1]] | add) as $w
          | "| \(.hidden) | \($w) | \(.epoch_seconds_median | r(3)) | \(.epoch_seconds_median / ($w * .n_train) * 1e9 | r(4)) | \(.gflops | r(1)) | \(.bound_fraction * 100 | round)% |"' "$jsonl"
        echo
        echo "Samples: 784-256-10, batch 128, softmax, $cores threads."
        echo
        echo "| training images | s/epoch | µs per sample | of products-only bound |"
        echo "|---:|---:|---:|---:|"
        jq -s -r "$R"'.[5:8][] | "| \(.n_train) | \(.epoch_seconds_median | r(3)) | \(.epoch_seconds_median / .n_train * 1e6 | r(2)) | \(.bound_fraction * 100 | round)% |"' "$jsonl"
        echo
        echo "Threads: softmax, 1 thread against $cores, alternating, median of 3 runs each."
        echo
        echo "| config | s/epoch, 1 thread | s/epoch, $cores threads | speed-up | speed-up of the products-only bound |"
        echo "|---|---:|---:|---:|---:|"
        jq -s -r "$R"'.[8:] | group_by(.config) | sort_by(.[0].config as $c | ["small", "mid", "wide"] | index($c))[]
          | ([.[] | select(.threads == 1)]) as $one | ([.[] | select(.threads != 1)]) as $all
          | ([$one[].epoch_seconds_median] | med) as $s1 | ([$all[].epoch_seconds_median] | med) as $s2
          | "| \(.[0].config) \(.[0].hidden) b\(.[0].batch) | \($s1 | r(3)) | \($s2 | r(3)) | \($s1 / $s2 | r(2))× | \(([$one[].bound_seconds] | med) / ([$all[].bound_seconds] | med) | r(2))× |"' "$jsonl" ;;
    esac
}

if [ -z "$render_only" ]; then
    make -s all build/bin/bench >&2
    uptime | sed 's/.*load average: /load average at start /' > "$jsonl.load.tmp"
    run
    uptime | sed 's/.*load average: /, at end /' >> "$jsonl.load.tmp"
    tr -d '\n' < "$jsonl.load.tmp" > "$jsonl.load"
    rm -f "$jsonl.load.tmp"
fi
[ -s "$jsonl" ] || { echo "bench/run.sh: no $jsonl to render" >&2; exit 66; }
render > "$md.tmp"
mv "$md.tmp" "$md"
cat "$md"
