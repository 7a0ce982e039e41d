#!/bin/sh
# Selection runs for the fast recipe: train on the first 50,000 training images,
# validate on the last 10,000 (--val), never look at the test set (--limit-test 1).
# One line per run in results/fast/tuning.jsonl: the recipe, val accuracy per
# epoch, median epoch seconds (busy machine: compare only within a batch of runs).
#   bench/fast-tune.sh NAME [train flags...]
set -eu
cd "$(dirname "$0")/.."
name=$1; shift
out=results/fast/tuning.jsonl
tmp=$(mktemp)
nice -n 10 ./train --val 10000 --limit-test 1 --json --precision bf16 --threads 1 "$@" > "$tmp"
jq -s -c --arg n "$name" --arg a "$*" --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" '
  [.[] | select(.type == "epoch")] as $e
  | { name: $n, args: $a, val: [$e[].val_accuracy], final_val: $e[-1].val_accuracy, final_train: ($e[-1].train_accuracy * 10000 | round / 10000),
      epoch_s: ([$e[].seconds] | sort | .[length / 2 | floor]), load: $load,
      commit: "'"$(git rev-parse --short HEAD)"'" }' "$tmp" | tee -a "$out"
rm -f "$tmp"
