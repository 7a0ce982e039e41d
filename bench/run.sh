#!/bin/sh
# The benchmark harness behind make bench, make bench-compare, make bench-scaling.
#
#   bench/run.sh bench   [-e EPOCHS]            every config x head, 1 thread and all cores
#   bench/run.sh compare [-e EPOCHS] [-r ROUNDS] train against PyTorch, A B A B ...
#   bench/run.sh scaling [-e EPOCHS]            epoch time against width, samples, threads
#
# Each writes bench/results/MODE.jsonl (one line per run, as build/bin/bench and
# bench/torch_ref.py print them) and bench/results/MODE.md (the tables, with
# the machine, versions, date and command). Data: $MNIST_DIR, else data/mnist.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
mode=${1:-}
[ $# -gt 0 ] && shift
epochs=3 rounds=5
while getopts e:r: opt; do
    case $opt in
        e) epochs=$OPTARG ;;
        r) rounds=$OPTARG ;;
        *) exit 64 ;;
    esac
done
case $mode in
    bench|compare|scaling) ;;
    *) echo "usage: bench/run.sh bench|compare|scaling [-e EPOCHS] [-r ROUNDS]" >&2; exit 64 ;;
esac

cores=$(nproc)
data=${MNIST_DIR:-data/mnist}
export MNIST_DIR="$data"
out=bench/results
mkdir -p "$out"
jsonl=$out/$mode.jsonl md=$out/$mode.md
: > "$jsonl.tmp"

ours() {   # CONFIG HEAD THREADS [FLAGS...]
    c=$1 h=$2 t=$3; shift 3
    build/bin/bench --config "bench/configs/$c.json" --head "$h" --threads "$t" \
        --epochs "$epochs" "$@" | jq -c --arg c "$c" '. + {config: $c, impl: "train"}' \
        | tee -a "$jsonl.tmp"
}

# PyTorch at its best here: OpenMP OpenBLAS first, torch and OpenMP threads = T
omp=/usr/lib/x86_64-linux-gnu/openblas-openmp
torch_ref() {   # CONFIG HEAD THREADS
    LD_LIBRARY_PATH=$omp${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} OMP_NUM_THREADS=$3 \
        /usr/bin/python3 bench/torch_ref.py --config "bench/configs/$1.json" --head "$2" \
        --threads "$3" --epochs "$epochs" --data-dir "$data" \
        | jq -c --arg c "$1" '. + {config: $c, impl: "pytorch"}' | tee -a "$jsonl.tmp"
}

header() {
    echo "Measured $(date -u +%Y-%m-%d) with \`$1\`"
    echo
    echo "- machine: $(lscpu | sed -n 's/^Model name: *//p'), $cores cores" \
         "($(grep -q avx512f /proc/cpuinfo && echo 'AVX-512, ')L2 $(lscpu | sed -n 's/^L2 cache: *//p'))," \
         "$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)," \
         "$(. /etc/os-release && echo "$PRETTY_NAME")"
    echo "- $(gcc --version | head -n1), $(./train --version | tail -n1 | cut -d' ' -f1-7)"
    [ "$mode" = compare ] && echo "- PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)')," \
        "OpenMP OpenBLAS $(dpkg-query -W -f '${Version}' libopenblas0-openmp)"
    echo "- training loop only (evaluation and loading excluded), median of $epochs epochs" \
         "per run; configs in bench/configs/ (SGD momentum 0.9, lr 0.05)"
    echo
}

make -s all build/bin/bench >&2
case $mode in
bench)
    for c in small mid wide; do
        for h in softmax sigmoid; do
            for t in 1 $cores; do ours "$c" "$h" "$t" > /dev/null; done
        done
    done
    {
        header "make bench"
        echo "| config | head | threads | s/epoch | samples/s | GFLOP/s | sgemm bound s | of bound | load s | peak RSS MB | test acc |"
        echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        jq -r '"| \(.config) \(.hidden) b\(.batch) | \(.head) | \(.threads) | \(.epoch_seconds_median) | \(.samples_per_second) | \(.gflops) | \(.bound_seconds) | \(.bound_fraction * 100 | round)% | \(.load_seconds) | \(.peak_rss_mb) | \(.test_accuracy * 100 | . * 100 | round / 100)% |"' "$jsonl.tmp"
    } > "$md.tmp" ;;
compare)
    "$here/scripts/install-deps.sh" python3-torch=glob:/usr/lib/python3/dist-packages/torch/__init__.py \
        python3-numpy=glob:/usr/lib/python3/dist-packages/numpy/__init__.py \
        libopenblas0-openmp=glob:$omp/libblas.so.3
    r=1
    while [ "$r" -le "$rounds" ]; do
        for c in small mid wide; do
            for h in softmax sigmoid; do
                ours "$c" "$h" "$cores" > /dev/null
                torch_ref "$c" "$h" "$cores" > /dev/null
            done
        done
        r=$((r + 1))
    done
    {
        header "make bench-compare"
        echo "$rounds rounds; in each, train then PyTorch ran one after the other on the same config and head, $cores threads each. Ratio = PyTorch s/epoch / train s/epoch (> 1: train is faster)."
        echo
        echo "| config | head | train s/epoch | PyTorch s/epoch | ratio per round | median ratio | train acc | PyTorch acc | train / PyTorch RSS MB |"
        echo "|---|---|---:|---:|---|---:|---:|---:|---:|"
        jq -s -r '
          def med: sort | if length % 2 == 1 then .[length / 2 | floor]
                          else (.[length / 2 - 1] + .[length / 2]) / 2 end;
          def r2: . * 100 | round / 100;
          group_by(.config + " " + .head)[]
          | [.[] | select(.impl == "train")] as $a | [.[] | select(.impl == "pytorch")] as $b
          | [range(0; [$a, $b | length] | min) | $b[.].epoch_seconds_median / $a[.].epoch_seconds_median] as $q
          | "| \($a[0].config) \($a[0].hidden) b\($a[0].batch) | \($a[0].head) | \([$a[].epoch_seconds_median] | med) | \([$b[].epoch_seconds_median] | med) | \([$q[] | r2 | tostring] | join(" ")) | **\($q | med | r2)×** | \([$a[].test_accuracy] | med * 100 | r2)% | \([$b[].test_accuracy] | med * 100 | r2)% | \([$a[].peak_rss_mb] | max) / \([$b[].peak_rss_mb] | max) |"
        ' "$jsonl.tmp"
    } > "$md.tmp" ;;
scaling)
    for w in 128 256 512 1024 2048; do
        ours mid softmax "$cores" --hidden "$w" > /dev/null
    done
    for n in 10000 30000 60000; do
        ours mid softmax "$cores" --limit-train "$n" > /dev/null
    done
    for c in small mid wide; do
        for t in 1 $cores; do ours "$c" softmax "$t" > /dev/null; done
    done
    {
        header "make bench-scaling"
        echo "Width: 784-W-10, batch 128, softmax, $cores threads. ns per multiply-add = s/epoch / (weights x samples x 3 products); flat when cost is linear in weights x samples."
        echo
        echo "| hidden | weights | s/epoch | ns per weight-sample | GFLOP/s | of sgemm bound |"
        echo "|---|---:|---:|---:|---:|---:|"
        jq -s -r '.[0:5][] | (.hidden | split("-") | map(tonumber)) as $s
          | ([range(0; $s | length - 1) | $s[.] * $s[. + 1]] | add) as $w
          | "| \(.hidden) | \($w) | \(.epoch_seconds_median) | \(.epoch_seconds_median / ($w * .n_train) * 1e9 | . * 1000 | round / 1000) | \(.gflops) | \(.bound_fraction * 100 | round)% |"' "$jsonl.tmp"
        echo
        echo "Samples: 784-256-10, batch 128, softmax, $cores threads."
        echo
        echo "| training images | s/epoch | µs per sample | of sgemm bound |"
        echo "|---:|---:|---:|---:|"
        jq -s -r '.[5:8][] | "| \(.n_train) | \(.epoch_seconds_median) | \(.epoch_seconds_median / .n_train * 1e6 | . * 100 | round / 100) | \(.bound_fraction * 100 | round)% |"' "$jsonl.tmp"
        echo
        echo "Threads: softmax, 1 thread against $cores."
        echo
        echo "| config | s/epoch, 1 thread | s/epoch, $cores threads | speed-up | sgemm bound speed-up |"
        echo "|---|---:|---:|---:|---:|"
        jq -s -r '.[8:] | group_by(.config)[] | sort_by(.threads)
          | "| \(.[0].config) \(.[0].hidden) b\(.[0].batch) | \(.[0].epoch_seconds_median) | \(.[1].epoch_seconds_median) | \(.[0].epoch_seconds_median / .[1].epoch_seconds_median | . * 100 | round / 100)× | \(.[0].bound_seconds / .[1].bound_seconds | . * 100 | round / 100)× |"' "$jsonl.tmp"
    } > "$md.tmp" ;;
esac
mv "$jsonl.tmp" "$jsonl"
mv "$md.tmp" "$md"
cat "$md"
