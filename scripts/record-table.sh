#!/bin/bash
# The plain-MLP record's tables and figure (issue 23) from finished runs of
# scripts/seed-runs.sh. (Usage below, in help.) Nothing is trained here:
# every figure comes from the runs' own files, checked against each other
# first (one data set, one command per config, the kept network's numbers
# consistent within each file), and nothing is written until every check has
# passed. The heads' statistics are build/bin/compare's (src/compare.c),
# never recomputed here. COMPARE=PATH runs another compare.
set -eu
prog=record-table
case $0 in */*) here=${0%/*}/.. ;; *) here=.. ;; esac
here=$(cd "$here" && pwd)
# shellcheck source=scripts/common.bash
. "$here/scripts/common.bash"

help()
{
    cat << 'EOF'
Usage: scripts/record-table.sh [OPTION]... -o OUT DIR...
Tabulate finished runs of scripts/seed-runs.sh (DIR/NAME-seedS.jsonl with its
.pred.csv and .cmd) as the record's table: one row per run, the mean and
range per config, the heads compared (McNemar per seed and pooled), and test
error against training time.

  -o, --out OUT      the folder to write (created when missing); required
  -c, --config NAME  only the runs of NAME (repeatable; the tables keep this
                     order; default: every NAME in the DIRs, sorted)
  -s, --seeds SEEDS  exactly these seeds of every config (a range A..B or a
                     list like 1,4,9); a missing run is an error
      --skip-unfinished
                     leave out runs that have not finished (a run still going,
                     killed, or cut) and name them in the table, instead of
                     refusing them
  -h, --help         print this help and exit

Each run must have been run with --val and --patience (as the record configs
are): train then keeps the network of the best validation epoch, and its
test error is the table's main figure, as the paper reports; the test error
at the last epoch and the lowest test error over the epochs (the paper's
second column) are reported beside it and never used to choose anything.

Writes OUT/table.md (per run: config, seed, head, network, weights,
deformations, precision, epochs run, best validation epoch, test error at it,
at the last epoch and the lowest over the epochs, wall time of the whole run
in minutes (over all its sittings, for a run seed-runs.sh resumed) and epochs
per hour of it; then per config: mean, min and max over
the seeds), OUT/heads.md (build/bin/compare on every two configs whose
settings differ only in the head and its loss), OUT/curves.txt (per run and
epoch: training minutes, evaluation excluded, and test and validation error)
and OUT/curves.png (test error against training time, log scale, one line per
run), and OUT/PROVENANCE (the command, the runs' binary, this machine).

Refused, before anything is written: runs of different data (the four
files' CRC-32, --limit-train, --limit-test, --val); runs of one config made
by different commands, binaries or settings; a run without its .pred.csv or
.cmd; a file whose lines are cut, missing, repeated or inconsistent (its
kept epoch not its best validation epoch, its epochs not 1, 2, 3, ...); an
OUT that is one of the run folders.

Exit status: 0 done; 64 usage error; 65 a run file is malformed, unfinished
or inconsistent, or the runs mix data or commands; 66 a DIR, a run's file or
compare is missing; 69 jq or gnuplot is not installed; 73 OUT cannot be
written.
EOF
}

out="" seed_spec="" skip_unfinished="" dirs=() only=()
while [ $# -gt 0 ]; do
    case $1 in
        -h | --help) help; exit 0 ;;
        -o | --out) opt_value "$1" $# "${2-}"; out=$2; shift 2 ;;
        -c | --config) opt_value "$1" $# "${2-}"; only+=("$2"); shift 2 ;;
        -s | --seeds) opt_value "$1" $# "${2-}"; seed_spec=$2; shift 2 ;;
        --skip-unfinished) skip_unfinished=1; shift ;;
        --out=* | --config=* | --seeds=*)
            o=${1%%=*}; v=${1#*=}; shift; set -- "$o" "$v" "$@"; continue ;;
        --) shift; dirs+=("$@"); break ;;
        -?*) usage_error "unknown option '$1'" ;;
        '') usage_error "an empty folder name" ;;
        *) dirs+=("$1"); shift ;;
    esac
done
[ "${#dirs[@]}" -gt 0 ] || usage_error "no run folder given"
[ -n "$out" ] || usage_error "no output folder given (-o OUT)"
seeds=()
[ -z "$seed_spec" ] || parse_seeds "$seed_spec"
for d in "${dirs[@]}"; do
    [ -d "$d" ] || fail 66 "$d: no such folder"
done
# OUT must not be a run folder: its table.md is seed-runs' own
if [ -d "$out" ]; then
    for d in "${dirs[@]}"; do
        [ ! "$out" -ef "$d" ] || usage_error "-o $out: that is a run folder (its table.md is seed-runs'); write elsewhere"
    done
    for f in "$out"/*-seed*.jsonl; do
        [ ! -e "$f" ] || usage_error "-o $out: the folder holds runs ($f); write elsewhere"
    done
fi
need_tools jq=jq gnuplot=gnuplot-nox
compare=${COMPARE:-$here/build/bin/compare}
[ -x "$compare" ] || fail 66 "$compare: not built (run make)"

tmp=$(mktemp -d) || fail 73 "cannot create a temporary folder"
trap 'rm -rf "$tmp"' EXIT

# --- the runs: DIR/NAME-seedS.jsonl, NAME and S from the file name ---
declare -A dir_of=() file_of=() seen_seed=()
names=()
for d in "${dirs[@]}"; do
    for f in "$d"/*-seed*.jsonl; do
        [ -e "$f" ] || continue
        b=${f##*/}
        [[ $b =~ ^(.+)-seed([0-9]{1,15})\.jsonl$ ]] || continue
        n=${BASH_REMATCH[1]} s=$((10#${BASH_REMATCH[2]}))
        case $n in *[$'\n\t\r']*) fail 65 "$f: a name with a tab or a line break cannot go in a table" ;; esac
        if [ -n "${dir_of[$n]-}" ] && [ "${dir_of[$n]}" != "$d" ]; then
            fail 65 "$n: runs in both ${dir_of[$n]} and $d (one config, one folder)"
        fi
        [ -z "${seen_seed[$n/$s]-}" ] || fail 65 "$f: a second run of $n with seed $s (${seen_seed[$n/$s]})"
        seen_seed[$n/$s]=$f
        [ -n "${dir_of[$n]-}" ] || names+=("$n")
        dir_of[$n]=$d
        file_of[$n/$s]=$f
    done
done
if [ "${#only[@]}" -gt 0 ]; then
    declare -A asked=()
    for n in "${only[@]}"; do
        [ -z "${asked[$n]-}" ] || usage_error "-c $n: named twice"
        asked[$n]=1
        [ -n "${dir_of[$n]-}" ] || fail 66 "$n: no runs of it (NAME-seedS.jsonl) in ${dirs[*]}"
    done
    names=("${only[@]}")
else
    mapfile -t names < <(printf '%s\n' "${names[@]}" | sort)
    [ -n "${names[0]-}" ] || fail 66 "no runs (NAME-seedS.jsonl) in ${dirs[*]}"
fi

# every run to table, in order: config by config, seeds ascending
runs=() run_name=() run_seed=() skipped=()
for n in "${names[@]}"; do
    if [ "${#seeds[@]}" -gt 0 ]; then
        mine=("${seeds[@]}")
        for s in "${mine[@]}"; do
            [ -n "${file_of[$n/$s]-}" ] || fail 66 "${dir_of[$n]}/$n-seed$s.jsonl: no such run"
        done
    else
        mapfile -t mine < <(for k in "${!file_of[@]}"; do
            [ "${k%/*}" != "$n" ] || printf '%s\n' "${k##*/}"; done | sort -n)
    fi
    for s in "${mine[@]}"; do
        f=${file_of[$n/$s]}
        if ! finished "$f"; then
            [ -n "$skip_unfinished" ] ||
                fail 65 "$f: not finished (no whole summary as its last line: still running, killed or cut); --skip-unfinished leaves it out"
            skipped+=("$n seed $s")
            continue
        fi
        for x in pred.csv cmd; do
            [ -f "${f%.jsonl}.$x" ] || fail 66 "${f%.jsonl}.$x: no such file (every run of seed-runs.sh has one)"
        done
        runs+=("$f") run_name+=("$n") run_seed+=("$s")
    done
done
[ "${#runs[@]}" -gt 0 ] || fail 65 "no finished run to table"

# the network's inputs: the test images' size (MNIST's when the CRC-32 is its own)
first_summary=$(tail -n1 -- "${runs[0]}")
test_crc=$(jq -r '.data_crc32.test_images // ""' <<< "$first_summary") || fail 65 "${runs[0]}: cannot read its summary"
if [ "$test_crc" = 91373bdf ]; then
    inputs=784
else
    img=$(jq -r '.config.test_images // ""' <<< "$first_summary")
    [ -r "$img" ] || fail 66 "$img: the runs' test images are not here to size the input layer"
    inputs=$(gzip -dcf -- "$img" | head -c 16 | od -An -tu1 |
        awk '{ if (NF == 16 && $3 == 8 && $4 == 3) print ($9 * 16777216 + $10 * 65536 + $11 * 256 + $12) * ($13 * 16777216 + $14 * 65536 + $15 * 256 + $16) }')
    [ -n "$inputs" ] || fail 65 "$img: not an IDX image file"
fi

# --- each run, read and checked line by line ---
read -r -d '' parse << 'JQ' || true
def fail(m): error("\($f): \(m)");
def num($o; $k; $lo; $hi; $where):
    ($o[$k]) as $v
    | if ($v | type) == "number" and $v >= $lo and $v <= $hi then $v
      else fail("\($where): \($k): \(if $v == null then "missing" else "\($v | tojson) is not a number in [\($lo), \($hi)]" end)") end;
# the compare's own list: what runs of one config may differ in
def settings: del(.seed, .predictions, .metrics, .save, .resume, .load, .json, .quiet, .report,
                  .checkpoint_every);
[inputs] as $raw
| [$raw | to_entries[] | select(.value | test("\\S"))
   | .key as $k
   | (.value | try fromjson catch fail("line \($k + 1) is not a whole JSON line (cut or edited?)"))
   | if type == "object" then . else fail("line \($k + 1) is not a JSON object") end] as $o
| [$o[] | select(.type == "epoch")] as $ep
| ([$o[] | select(.type == "summary")] | length) as $nsum
| $o[-1] as $s
| if $nsum != 1 then fail("\($nsum) summary lines, not one (several runs in one file?)") else . end
| if $s.type != "summary" then fail("its summary is not its last line") else . end
| if ($ep | length) == 0 then fail("no epoch lines") else . end
| ([range($ep | length) | select($ep[.].epoch != . + 1)] | first) as $gap
| if $gap != null then fail("epoch line \($gap + 1) is epoch \($ep[$gap].epoch | tojson): the epochs are not 1, 2, 3, ... (lines missing or repeated)") else . end
| ($s.epochs_trained // $s.epochs) as $trained
| if $trained != ($ep | length) then fail("\($ep | length) epoch lines, but its summary says \($trained | tojson) epochs") else . end
| [$ep[] | . as $e | "epoch \($e.epoch)" as $w
   | {test: num($e; "test_accuracy"; 0; 1; $w),
      val: (if $e.val_accuracy == null then fail("\($w): no val_accuracy: a run without --val; the table selects on a validation split") else num($e; "val_accuracy"; 0; 1; $w) end),
      seconds: num($e; "seconds"; 0; 1e9; $w)}] as $e
| num($s; "test_total"; 1; 1e9; "summary") as $total
| num($s; "test_correct"; 0; $total; "summary") as $correct
| num($s; "test_accuracy"; 0; 1; "summary") as $acc
| num($s; "seconds"; 0; 1e9; "summary") as $wall
| num($s; "train_seconds"; 0; 1e9; "summary") as $train
| if ($correct / $total - $acc | fabs) > 1e-9 then fail("summary: test_correct / test_total is not its test_accuracy") else . end
| ($s.config // fail("summary: no config")) as $c
| if $c.seed != $seed then fail("the run's seed is \($c.seed | tojson), not the file name's \($seed)") else . end
| if ($c.task // "classify") != "classify" then fail("a run of the \($c.task) task; the table is for digit classification") else . end
| if $s.kept_epoch == null then fail("no kept_epoch: a run without --patience keeps its last epoch's network, not the best validation one the table reports") else . end
| ($e | map(.val) | max) as $bestval
| ([range($e | length) | select($e[.].val == $bestval)] | first + 1) as $best
| if $s.kept_epoch != $best then fail("train kept epoch \($s.kept_epoch | tojson), but its best validation accuracy is at epoch \($best)") else . end
| if ($e[$best - 1].test - $acc | fabs) > 1e-12 then fail("the kept network's test accuracy (\($acc)) is not epoch \($best)'s (\($e[$best - 1].test))") else . end
| ($e | map(.seconds) | add) as $epochs_s
| if $epochs_s > $train + $earlier + 0.001 then fail("its epochs took \($epochs_s) s, more than its whole training (\($train + $earlier) s\(if $sittings > 1 then " over \($sittings) sittings" else "" end)): lines of another sitting that its .sittings does not account for") else . end
| ($c.hidden // fail("summary: config.hidden: missing")) as $h
| if ($h | type) != "array" or ($h | map(type == "number" and . >= 1 and . == floor) | all | not) then fail("summary: config.hidden: not a list of widths") else . end
| ($s.per_class.true_positives // $s.report.confusion // fail("summary: no per_class figures to count the classes")) as $classes
| ([$inputs] + $h + [$classes | length]) as $widths
| ($s.data_crc32 // fail("summary: no data_crc32") | to_entries | sort_by(.key) | from_entries) as $crc
| def errors($a): ((1 - $a) * $total | round);
{index: $index, name: $name, seed: $seed, file: $f,
 head: $c.head, activation: ($c.activation // "?"),
 network: ($widths | map(tostring) | join("-")),
 weights: ([range($widths | length - 1) | $widths[.] * $widths[. + 1] + $widths[. + 1]] | add),
 augment: (if ($c.augment // "") == "" then "none" else $c.augment end),
 precision: ($s.precision // $c.precision // "?"), threads: $c.threads,
 epochs: ($e | length), best: $best, total: $total,
 err_kept: ($total - $correct), err_last: errors($e[-1].test),
 err_min: ($e | map(errors(.test)) | min),
 wall: ($wall + $earlier), sittings: $sittings,
 curve: [foreach range($e | length) as $i (0; . + $e[$i].seconds;
          [$i + 1, ., errors($e[$i].test), (1 - $e[$i].val)])],
 data: ({data_crc32: $crc, limit_train: $c.limit_train, limit_test: $c.limit_test, val: $c.val} | tojson),
 crc: ($crc | tojson),
 settings: ($c | settings | tojson),
 pair_key: ($c | settings | del(.head, .loss) | tojson)}
JQ
: > "$tmp/runs.jsonl"
for i in "${!runs[@]}"; do
    f=${runs[i]}
    # a resumed run: its closed sittings' wall time (scripts/common.bash),
    # from a .sittings file of seed-runs' making: "sitting START [END]" lines
    # in Unix seconds, only the last one open
    st=${f%.jsonl}.sittings
    if [ -f "$st" ]; then
        bad=$(awk 'function t(x) { return x ~ /^[0-9]+(\.[0-9]+)?$/ && x + 0 < 1e10 }
                   { ok = $1 == "sitting" && (NF == 3 || NF == 2) && t($2) && (NF == 2 || t($3)) &&
                          (NF == 3 || NR == n) && (NR == 1 || $2 >= end) }
                   !ok { print NR; exit }
                   { end = $3 }' n="$(wc -l < "$st")" "$st")
        [ -z "$bad" ] || fail 65 "$st: line $bad is not 'sitting START END' (Unix seconds; only the last sitting has no END; each starts after the one before ended)"
    fi
    earlier=$(closed_seconds "$f") sittings=$(sittings_of "$f")
    msg=$(jq -nR -c --arg f "$f" --arg name "${run_name[i]}" --argjson seed "${run_seed[i]}" --argjson index "$i" \
        --argjson inputs "$inputs" --argjson earlier "$earlier" --argjson sittings "$sittings" \
        "$parse" < "$f" 2>&1 >> "$tmp/runs.jsonl") ||
        fail 65 "$(printf '%s' "$msg" | sed -n 's/^jq: error (at [^)]*): //p' | head -n1 | grep . ||
            printf '%s: %s' "$f" "$(printf '%s' "$msg" | head -n1)")"
done

# --- one data set; one config, one command (settings, binary, config file, flags) ---
# read_cmd FILE.cmd: the record seed-runs.sh wrote (scripts/common.bash, run_record)
read_cmd()
{
    local line
    cmd_train='' cmd_config='' cmd_data='' cmd_args=''
    while IFS= read -r line || [ -n "$line" ]; do
        case $line in
            'train '*) cmd_train=${line#train } ;;
            'config '*) cmd_config=${line#config } ;;
            'data crc32:'*) cmd_data=${line#data crc32:} ;;
            'args '*) cmd_args=${line#args } ;;
        esac
    done < "$1"
}
declare -A cmd_of=() settings_of=() flags_of=() bin_of=()
first_data=""
while IFS=$'\t' read -r i data crc settings; do
    f=${runs[i]} n=${run_name[i]}
    if [ -z "$first_data" ]; then
        first_data=$data first_file=$f
    elif [ "$data" != "$first_data" ]; then
        fail 65 "$f: other data than $first_file (its data: $data; there: $first_data): runs on different data cannot share a table"
    fi
    c=${f%.jsonl}.cmd
    read_cmd "$c"
    [ -n "$cmd_train" ] && [ -n "$cmd_config" ] && [[ $cmd_args =~ ^--seed\ [0-9]+\ (.*)$ ]] ||
        fail 65 "$c: not a command record of seed-runs.sh"
    rest=${BASH_REMATCH[1]}
    [ "$cmd_data" = "$crc" ] ||
        fail 65 "$c: its data ($cmd_data) are not those its run's summary names ($crc): not this run's record"
    key="train $cmd_train; config $cmd_config; $rest"
    if [ -z "${cmd_of[$n]-}" ]; then
        cmd_of[$n]=$key settings_of[$n]=$settings bin_of[$n]=$cmd_train
        [[ $rest =~ ^--threads\ [0-9]+\ --json\ --report(\ (.*))?$ ]] && flags_of[$n]=${BASH_REMATCH[2]} ||
            flags_of[$n]=$rest
    elif [ "${settings_of[$n]}" != "$settings" ]; then
        fail 65 "$f: its settings differ from the other runs of $n: not a run of the same config"
    elif [ "${cmd_of[$n]}" != "$key" ]; then
        fail 65 "$c: another command than the other runs of $n (binary, config file or flags differ)"
    fi
done < <(jq -r '[.index, .data, .crc, .settings] | @tsv' "$tmp/runs.jsonl")
# the configs with a finished run (--skip-unfinished may leave one none), and
# the first one's binary, which the table and PROVENANCE name
tabled=()
for n in "${names[@]}"; do [ -z "${bin_of[$n]-}" ] || tabled+=("$n"); done
bin=${bin_of[${tabled[0]}]}
counted="${#runs[@]} run$([ "${#runs[@]}" -eq 1 ] || echo s) of ${#tabled[@]} config$([ "${#tabled[@]}" -eq 1 ] || echo s)"

# --- the tables ---
md() { local s=${1//|/\\|}; printf '%s' "${s//$'\n'/ }"; }
jq -r '[.name, .seed, .head, .activation, .network, .weights, .augment, .precision, .threads,
        .epochs, .best, .total, .err_kept, .err_last, .err_min, .wall] | @tsv' "$tmp/runs.jsonl" \
    > "$tmp/runs.tsv"
{
    printf 'Runs in'
    printf ' %s' "${dirs[@]}" | sed 's/|/\\|/g'
    version=${bin#* } sum=${bin%% *}
    printf ' (%s), by %s (%s…).\n\n' "$counted" \
        "$(md "${version%%;*}")" "${sum:0:19}"
    for n in "${tabled[@]}"; do
        if [ -n "${flags_of[$n]}" ]; then
            printf -- '- %s: flags `%s`\n' "$(md "$n")" "$(md "${flags_of[$n]}")"
        else
            printf -- '- %s: the config as it is\n' "$(md "$n")"
        fi
    done
    [ "${#skipped[@]}" -eq 0 ] || printf -- '- left out, unfinished: %s\n' "$(md "$(printf '%s, ' "${skipped[@]}" | sed 's/, $//')")"
    resumed=$(jq -rs '[.[] | select(.sittings > 1) | "\(.name) seed \(.seed) (\(.sittings) sittings)"] | join(", ")' \
        "$tmp/runs.jsonl")
    [ -z "$resumed" ] || printf -- '- resumed after an interrupt (wall: all the sittings): %s\n' "$(md "$resumed")"
    printf '\n'
    echo "| config | seed | head | network | weights | deformations | precision | epochs | best val. epoch | test error at best val. (%) | at last epoch (%) | lowest over epochs (%) | wall (min) | epochs/h |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    awk -F'\t' '
        function esc(s) { gsub(/\|/, "\\|", s); return s }
        { printf "| %s | %d | %s | %s %s | %d | %s | %s | %d | %d | %.2f | %.2f | %.2f | %.1f | %.1f |\n",
              esc($1), $2, esc($3), $5, esc($4), $6, esc($7), esc($8), $10, $11,
              100 * $13 / $12, 100 * $14 / $12, 100 * $15 / $12, $16 / 60, ($16 > 0 ? $10 * 3600 / $16 : 0) }' \
        "$tmp/runs.tsv"
    echo
    echo "| config | head | runs | test error at best val. (%) mean | min | max | at last epoch (%) mean | lowest over epochs (%) mean | wall (min) mean | epochs/h mean |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    awk -F'\t' '
        function esc(s) { gsub(/\|/, "\\|", s); return s }
        !($1 in n) { order[++k] = $1; head[$1] = $3; lo[$1] = hi[$1] = 100 * $13 / $12 }
        { e = 100 * $13 / $12; n[$1]++; kept[$1] += e; last[$1] += 100 * $14 / $12
          best[$1] += 100 * $15 / $12; wall[$1] += $16 / 60; rate[$1] += ($16 > 0 ? $10 * 3600 / $16 : 0)
          if (e < lo[$1]) lo[$1] = e; if (e > hi[$1]) hi[$1] = e }
        END { for (i = 1; i <= k; i++) { c = order[i]
              printf "| %s | %s | %d | %.3f | %.2f | %.2f | %.3f | %.3f | %.1f | %.1f |\n", esc(c), esc(head[c]),
                  n[c], kept[c] / n[c], lo[c], hi[c], last[c] / n[c], best[c] / n[c], wall[c] / n[c], rate[c] / n[c] } }' \
        "$tmp/runs.tsv"
    echo
    echo "Test error at best val.: the network train kept (\`--patience\`: the epoch of best validation accuracy, the earlier on a tie), as the paper's first column. Lowest over epochs: the best test error any epoch reached, as the paper's second column; reported only, never used to choose. Wall: the whole run (loading and evaluation included; a resumed run's over all its sittings); epochs/h over it."
} > "$tmp/table.md"

# --- the heads: every two configs whose settings differ only in head and loss ---
declare -A staged=()
safe_name()
{
    local s=${1//[^A-Za-z0-9._+-]/_} k=1 t
    t=$s
    while [ -n "${staged[$t]-}" ] && [ "${staged[$t]}" != "$1" ]; do k=$((k + 1)); t=$s-$k; done
    staged[$t]=$1
    printf '%s' "$t"
}
mapfile -t pairs < <(jq -rs '
    group_by(.name) | map(.[0]) as $c
    | [range($c | length) as $i | range($i + 1; $c | length) as $j
       | select($c[$i].pair_key == $c[$j].pair_key and $c[$i].head != $c[$j].head)
       | if $c[$i].head == "softmax" then [$i, $j] else [$j, $i] end
       | "\($c[.[0]].name)\t\($c[.[1]].name)"] | .[]' "$tmp/runs.jsonl")
{
    if [ "${#pairs[@]}" -eq 0 ]; then
        echo "No two configs here differ only in the head (and its loss): no heads to compare."
    fi
    for p in "${pairs[@]}"; do
        a=${p%%$'\t'*} b=${p#*$'\t'}
        # exactly the tabled runs, under names no glob can misread
        staged=()
        sa=$(safe_name "$a")
        staged[$sa]=$a
        sb=$(safe_name "$b")
        stage=$(mktemp -d "$tmp/stage.XXXXXX")
        for i in "${!runs[@]}"; do
            case ${run_name[i]} in "$a") t=$sa ;; "$b") t=$sb ;; *) continue ;; esac
            src=$(cd "$(dirname -- "${runs[i]}")" && pwd)/$(basename -- "${runs[i]}" .jsonl)
            ln -s "$src.jsonl" "$stage/$t-seed${run_seed[i]}.jsonl"
            ln -s "$src.pred.csv" "$stage/$t-seed${run_seed[i]}.pred.csv"
        done
        printf '## %s against %s\n\n' "$(md "$a")" "$(md "$b")"
        [ "$sa" = "$a" ] && [ "$sb" = "$b" ] || printf '(as %s and %s below)\n\n' "$sa" "$sb"
        rc=0
        "$compare" "$stage" "$sa" "$sb" 2> "$tmp/compare.err" || rc=$?
        if [ "$rc" -ne 0 ]; then
            if grep -q 'share no seed' "$tmp/compare.err"; then
                echo "No seed ran with both: nothing to pair."
            else
                fail "$rc" "compare $a $b: $(head -n1 "$tmp/compare.err")"
            fi
        fi
        echo
    done
    echo "Per seed, b and c count the test images only one of the two kept networks classifies right; McNemar's exact test on them. Pooled: the counts summed over the seeds, which reuses the same test images once per seed."
} > "$tmp/heads.md"

# --- the figure: test error against training time, one line per run ---
jq -r '.name as $n | .seed as $s | .total as $t | .best as $b | .curve[]
    | [$n, $s, .[0], (.[1] / 60), (100 * .[2] / $t), (100 * .[3]), (if .[0] == $b then "kept" else "" end)]
    | @tsv' "$tmp/runs.jsonl" > "$tmp/curves.tsv"
{
    printf '# config\tseed\tepoch\ttraining minutes (evaluation excluded)\ttest error (%%)\tvalidation error (%%)\tkept\n'
    awk -F'\t' -v OFS='\t' '{ $4 = sprintf("%.4f", $4); $5 = sprintf("%.2f", $5); $6 = sprintf("%.2f", $6); print }' \
        "$tmp/curves.tsv"
} > "$tmp/curves.txt"
gq()
{
    local s=${1//$'\n'/ }
    printf "'%s'" "${s//\'/\'\'}"
}
# the curves first, then every kept network's circle over all of them (drawn
# with its own curve, a circle hid under the curves plotted after it)
plot="" kept="" k=0
for i in "${!runs[@]}"; do
    k=$((k + 1))
    awk -F'\t' -v n="${run_name[i]}" -v s="${run_seed[i]}" -v OFS='\t' \
        '$1 == n && $2 == s { print $4, ($5 > 0 ? $5 : 0.005), $7 }' "$tmp/curves.tsv" > "$tmp/c$k.dat"
    plot+="${plot:+, }'$tmp/c$k.dat' using 1:2 with linespoints pt 7 ps 0.4 lc $k title $(gq "${run_name[i]}, seed ${run_seed[i]}")"
    kept+=", '$tmp/c$k.dat' using 1:(strcol(3) eq 'kept' ? \$2 : 1/0) with points pt 6 ps 2.5 lw 2 lc $k notitle"
done
plot+=$kept
cat > "$tmp/curves.gp" << GP
set terminal pngcairo size 900,560 font ',10' noenhanced
set output '$tmp/curves.png'
set datafile separator tab
set title 'test error against training time (big circle: the network kept, at the best validation epoch)'
set xlabel 'training time (minutes, evaluation excluded)'
set ylabel 'test error (%, log scale)'
set logscale y
set ytics (0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1, 1.5, 2, 3, 5, 10, 20, 50, 100)
set grid
set xrange [0:*]
set key outside right top vertical
plot $plot, 0.5 with lines dt 2 lc rgb 'gray40' title '0.5% (99.5%)', 0.4 with lines dt 3 lc rgb 'gray40' title '0.4% (99.6%)'
GP
gnuplot "$tmp/curves.gp" 2> "$tmp/gnuplot.err" || fail 70 "gnuplot: $(head -n1 "$tmp/gnuplot.err")"

# --- written only now, each file whole ---
mkdir -p -- "$out" 2> /dev/null || fail 73 "$out: cannot create the folder"
for x in table.md heads.md curves.txt curves.png; do
    cp -- "$tmp/$x" "$out/.$x.tmp" 2> /dev/null && mv -f -- "$out/.$x.tmp" "$out/$x" ||
        fail 73 "$out: cannot write $x there"
done
# the engine is the runs' binary (one per config; the first config's named)
train_line="train $bin"
declare -A bins=()
for n in "${tabled[@]}"; do bins[${bin_of[$n]%% *}]=1; done
oldest=$(for f in "${runs[@]}"; do stat -c %Y -- "$f"; done | sort -n | head -n1)
newest=$(for f in "${runs[@]}"; do stat -c %Y -- "$f"; done | sort -n | tail -n1)
note="tables of $counted, finished (run files last written $(date -u -d "@$oldest" '+%Y-%m-%d %H:%M') to $(date -u -d "@$newest" '+%Y-%m-%d %H:%M UTC')); their times are those of the machine and load when they ran, not the load below"
[ "${#bins[@]}" -eq 1 ] || note+="; made by ${#bins[@]} train binaries (each config's is in table.md's first line for the first config only): compare with care"
write_provenance "$out" "$note"
cat "$out/table.md"
