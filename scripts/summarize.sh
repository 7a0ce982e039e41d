#!/bin/sh
# Rebuild a sweep's summary from its results folder.
#
#   scripts/summarize.sh DIR
#
# Reads DIR/keys (the grid's config keys) and every finished run in
# DIR/runs/*.jsonl (one that ends in a summary line), and writes DIR/summary.csv
# and DIR/summary.md: the grid values, final test accuracy, best validation
# accuracy (empty without --val), macro F1 (pairs runs only), epochs and wall
# seconds, best first. The
# Markdown table also goes to stdout.
set -eu
dir=${1:?usage: summarize.sh DIR}
[ -f "$dir/keys" ] || { echo "summarize: $dir/keys: not a sweep folder" >&2; exit 66; }
keys=$(tr '\n' ' ' < "$dir/keys")
command -v jq >/dev/null 2>&1 || "$(dirname "$0")/install-deps.sh" jq=cmd:jq
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
# one JSON object per finished run: the grid values, then the figures
for f in "$dir"/runs/*.jsonl; do
    [ -f "$f" ] || continue
    tail -n1 "$f" | grep -q '"type":"summary"' || continue
    jq -cs --arg keys "$keys" '
        (map(select(.type == "epoch") | .val_accuracy // empty) | max) as $val
        | (.[-1]) as $s
        | {values: [$keys | split(" ") | map(select(length > 0)) | .[] as $k
             | $s.config[$k] | if type == "array" then map(tostring) | join(",") else tostring end],
           test_accuracy: ($s.test_accuracy * 10000 | round / 100),
           best_val_accuracy: (if $val then $val * 10000 | round / 100 else null end),
           macro_f1: (if $s.macro_f1 then $s.macro_f1 * 10000 | round / 100 else null end),
           epochs: $s.epochs, seconds: ($s.seconds * 10 | round / 10)}' "$f"
done > "$tmp"
# best first; macro_f1 (pairs) only when some run has it
table='
    (map(.macro_f1 != null) | any) as $f1
    | ($keys | split(" ") | map(select(length > 0))
       + ["test_accuracy", "best_val_accuracy"] + (if $f1 then ["macro_f1"] else [] end)
       + ["epochs", "seconds"]) as $head
    | [$head] + (sort_by(-.test_accuracy) | map(.values + [.test_accuracy, .best_val_accuracy]
       + (if $f1 then [.macro_f1] else [] end) + [.epochs, .seconds]))'
jq -rs --arg keys "$keys" "$table | .[] | @csv" "$tmp" > "$dir/summary.csv.tmp"
mv "$dir/summary.csv.tmp" "$dir/summary.csv"
jq -rs --arg keys "$keys" "
    def row: map(if . == null then \"\" else tostring end) | \"| \" + join(\" | \") + \" |\";
    $table | (.[0] | row), (.[0] | map(\"---\") | \"|\" + join(\"|\") + \"|\"), (.[1:][] | row)" \
    "$tmp" > "$dir/summary.md.tmp"
mv "$dir/summary.md.tmp" "$dir/summary.md"
echo "summarize: $(wc -l < "$tmp") of $(wc -l < "$dir/jobs.tsv" 2>/dev/null || echo '?') runs finished" >&2
cat "$dir/summary.md"
