# Shared by sweep.sh, seed-runs.sh and compare-heads.sh (and the option
# handling of summarize.sh, plot.sh, where.sh and nielsen.sh; sourced, bash):
# the locale, usage errors, option values, seed lists, the tools a script
# needs, each run's command record, and running jobs without ever parsing
# user text a second time.
#
# Arguments stay data. Here, a job's words go from a bash array straight to
# exec. Across hosts (--sshloginfile), GNU parallel runs them from a job file
# holding each job's words as fields (records end in NUL, fields are split by
# \x1f); its command template holds only {1}..{N}, and -q quotes every field
# for the shell it starts there. No path, flag or grid value is ever part of a
# template (GNU parallel would expand {} and run {= perl =} in one) nor of a
# string that a shell parses.
#
# Runs are reused only for the same command and the same data. Beside each
# run's NAME.jsonl, NAME.cmd records what made it (run_record): the train
# binary (sha256 of the file and its --version), the config file (sha256 of
# its contents), $MNIST_DIR, the data train reads for it (the CRC-32 of each
# of the four files, as train itself resolves and reads them: data_identity),
# and every argument except the output paths. A finished run whose record
# differs from the command this invocation would run (or that has no record),
# or whose own summary names other data, is neither reused nor overwritten:
# the script refuses with exit 73 and says what differs, before running
# anything. A run is finished only when its last line is a complete summary.
# An interrupted run of seed-runs.sh goes on from its checkpoint instead of
# starting again (add_resumable_job, below).
#
# The caller sets prog (its name, for messages) and train (the binary).
# shellcheck disable=SC2154

# Every number a script reads, computes or prints is the C locale's: under a
# comma-decimal locale (de_DE.UTF-8) mawk reads "57.7" as 57 and prints
# "57,70", bash's printf refuses "57.7", sort -g misorders. LC_ALL overrides
# LANG and every LC_*, so this one assignment covers awk, printf, sort, jq,
# gnuplot, and the train and compare the scripts start. C.UTF-8 (C's numbers
# and order, with UTF-8 text, so a name like "Übung" stays readable in
# tables) where the system has it, as Debian's always does; else C.
if locale -a 2> /dev/null | grep -qix 'c\.utf-\?8'; then
    export LC_ALL=C.UTF-8
else
    export LC_ALL=C
fi

# the calling script's own arguments (sourced before it parses them), for
# write_provenance
script_args=("$@")

# a usage error: one line saying what is wrong, then where to read more; exit 64
usage_error()
{
    printf '%s: %s\n' "$prog" "$1" >&2
    printf "Try '%s --help' for more information.\n" "$0" >&2
    exit 64
}

# fail CODE MESSAGE
fail()
{
    printf '%s: %s\n' "$prog" "$2" >&2
    exit "$1"
}

# opt_value OPTION NARGS [VALUE]: the option's value must be there and must not
# be another option (so `-o --limit-train` cannot name an output folder)
opt_value()
{
    [ "$2" -ge 2 ] || usage_error "option '$1' needs a value"
    case $3 in
        '') usage_error "option '$1' needs a non-empty value" ;;
        -*) usage_error "option '$1' needs a value, not the option '$3' (write ./$3 for a file of that name)" ;;
    esac
}

# need_tools COMMAND=PACKAGE...: exit 69 (EX_UNAVAILABLE) naming what is
# missing and how to install it. Only make deps/run/test and
# scripts/install-deps.sh install packages; a script never does it unasked.
need_tools()
{
    local t cmds=() pkgs=()
    for t; do
        command -v "${t%%=*}" > /dev/null 2>&1 || { cmds+=("${t%%=*}"); pkgs+=("${t#*=}"); }
    done
    [ "${#cmds[@]}" -eq 0 ] && return 0
    local have=
    [ "${#cmds[@]}" -eq 1 ] && have=is || have=are
    printf '%s: %s %s not installed; install with: make deps (or: sudo apt-get install %s)\n' \
        "$prog" "${cmds[*]}" "$have" "${pkgs[*]}" >&2
    exit 69
}

positive_int()
{
    case $2 in
        '' | *[!0-9]* | 0 | 0*) usage_error "$1: '$2' is not a positive integer" ;;
    esac
    [ "${#2}" -le 6 ] || usage_error "$1: '$2' is too large"
}

# parse_seeds SPEC: fills the array seeds from A..B or a list like 1,4,9
parse_seeds()
{
    local spec=$1 s
    local -A seen=()
    seeds=()
    if [[ $spec =~ ^([0-9]{1,9})\.\.([0-9]{1,9})$ ]]; then
        local a=$((10#${BASH_REMATCH[1]})) b=$((10#${BASH_REMATCH[2]}))
        [ "$a" -le "$b" ] || usage_error "seeds '$spec': the range is empty"
        [ $((b - a)) -lt 10000 ] || usage_error "seeds '$spec': more than 10000 seeds"
        for ((s = a; s <= b; s++)); do seeds+=("$s"); done
    elif [[ $spec =~ ^[0-9]{1,9}(,[0-9]{1,9})*$ ]]; then
        IFS=, read -r -a seeds <<< "$spec"
        for s in "${!seeds[@]}"; do
            seeds[s]=$((10#${seeds[s]}))
            [ -z "${seen[${seeds[s]}]-}" ] || usage_error "seeds '$spec': seed ${seeds[s]} twice"
            seen[${seeds[s]}]=1
        done
    else
        usage_error "seeds '$spec': expected a range A..B or a list like 1,4,9"
    fi
}

# reserved_flags WHY FLAG... -- TRAIN FLAG...: refuse a train flag that the
# script sets itself (it would override what the labels and files say)
reserved_flags()
{
    local why=$1 f a
    shift
    local reserved=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do reserved+=("$1"); shift; done
    shift
    for a; do
        for f in "${reserved[@]}"; do
            case $a in "$f" | "$f"=*) usage_error "flags: $f is $why" ;; esac
        done
    done
}

# with_signals COMMAND...: COMMAND with SIGINT as a terminal's Ctrl-C expects
# it. A non-interactive shell starts a background job with SIGINT ignored,
# and a bash started so cannot trap it: the runs in flight would die and the
# rest start anyway. In a background job (a subshell of its own), it execs.
with_signals()
{
    exec env --default-signal=INT,QUIT "$@"
}

# seed_runs ARG...: scripts/seed-runs.sh ARG... with its table hidden, in the
# background so that a SIGINT or SIGTERM to the calling script reaches the
# runs too; returns once it has really ended, and exits with its status when
# it failed
seed_runs()
{
    local child status=0
    with_signals "$here/scripts/seed-runs.sh" "$@" > /dev/null &
    child=$!
    # (|| true: under set -e a kill that finds the child gone would end the
    # script at once, before the child has stopped)
    trap 'kill -INT "$child" 2> /dev/null || true' INT
    trap 'kill -TERM "$child" 2> /dev/null || true' TERM
    wait "$child" || status=$?
    while kill -0 "$child" 2> /dev/null; do
        status=0
        wait "$child" || status=$?
    done
    trap - INT TERM
    [ "$status" -eq 0 ] || exit "$status"
}

# the binary as a record line: sha256 of the file it runs, and what it reports;
# train becomes an absolute path (never looked up in PATH, the same on hosts)
train_fingerprint()
{
    case $train in /*) ;; *) train=$PWD/$train ;; esac
    if [ ! -f "$train" ] || [ ! -x "$train" ]; then fail 66 "$train: not an executable train binary"; fi
    local sum version
    sum=$(sha256sum < "$train") || fail 66 "$train: cannot read it"
    version=$("$train" --version 2>&1 | paste -sd ';' -)
    train_line="train sha256:${sum%% *} $version"
}

# The settings that name a file each run would write (resume: read and write
# back). Parallel runs would all write that one file: refused, wherever they
# are set (check_outputs); each run's figures are in its own NAME.jsonl.
per_run_outputs=(save metrics predictions resume export)

# check_outputs WHY CONFIG FLAG...: refuse (64) a per-run output in the flags
# (any spelling: --save F, --save=F) or in the config file (train itself
# merges the two: --print-config); WHY says where the runs' results are
check_outputs()
{
    local why=$1 config=$2 out set a o
    shift 2
    for a; do
        for o in "${per_run_outputs[@]}"; do
            case $a in
                "--${o//_/-}" | "--${o//_/-}="*)
                    usage_error "flags: --${o//_/-} names one file that every run would write; drop it ($why)" ;;
            esac
        done
    done
    out=$("$train" --config "$config" "$@" --print-config 2>&1) ||
        fail 64 "$config: train refuses these settings: $(printf '%s' "$out" | grep -m1 -F "${train##*/}: " || printf '%s' "$out")"
    set=$(jq -r --args '. as $c | [$ARGS.positional[] | select(($c[.] // "") != "")] | join(" ")' \
        "${per_run_outputs[@]}" <<< "$out") || fail 70 "$config: cannot read train --print-config"
    [ -z "$set" ] ||
        usage_error "$config sets ${set// /, }: one file that every run would write; drop it ($why)"
}

declare -A data_ids=()
# data_identity CONFIG FLAG...: what train reads for a run of CONFIG with
# these flags, in data_id: the CRC-32 of each of the four files as train
# resolves (--data-dir, the config, MNIST_DIR, ./data/mnist, XDG_DATA_HOME
# with this working folder) and reads them, from a run of train on one image
# (a relative --data-dir from another folder, or files replaced in place, are
# other data). Missing or bad data are reported here, before any run.
data_identity()
{
    local config=$1 key out err rc=0
    shift
    key=$(jq -c '[.data_dir, .train_images, .train_labels, .test_images, .test_labels]' "$config" \
        2> /dev/null) || key="?$config"
    printf -v key '%q ' "$key" "$@"
    if [ -z "${data_ids[$key]-}" ]; then
        out=$(mktemp) || fail 73 "cannot create a temporary file"
        err=$("$train" --config "$config" "$@" --epochs 1 --limit-train 1 --limit-test 1 --val 0 \
            --patience 0 --threads 1 --json --no-quiet --no-report 2>&1 > "$out" < /dev/null) || rc=$?
        if [ "$rc" -ne 0 ]; then
            rm -f "$out"
            [ "$rc" -lt 128 ] || exit "$rc"
            fail "$rc" "$config: train cannot read the data for these runs: $(printf '%s' "$err" |
                grep -m1 -F "${train##*/}: " || printf '%s' "$err" | tail -n1)"
        fi
        data_ids[$key]=$(tail -n1 "$out" | jq -cS '.data_crc32 // "unknown"' 2> /dev/null) ||
            data_ids[$key]=unknown
        rm -f "$out"
    fi
    data_id=${data_ids[$key]}
}

declare -A config_sums=()
data_flags=()
# run_record CONFIG ARG...: the command record of one run (ARGs without
# --config and without output paths), in the variable record; the data
# identity is that of CONFIG with the flags in the array data_flags (the
# caller's flags, and any grid value of a data key: what chooses the files)
run_record()
{
    local config=$1
    shift
    if [ -z "${config_sums[$config]-}" ]; then
        local sum
        sum=$(sha256sum < "$config") || fail 66 "$config: cannot read it"
        config_sums[$config]=${sum%% *}
    fi
    record="$train_line"$'\n'"config sha256:${config_sums[$config]}"$'\n'
    if [ -n "${MNIST_DIR+set}" ]; then
        local q
        printf -v q '%q' "$MNIST_DIR"
        record+="MNIST_DIR $q"$'\n'
    else
        record+=$'MNIST_DIR (unset)\n'
    fi
    data_identity "$config" "${data_flags[@]}"
    record+="data crc32:$data_id"$'\n'
    local words
    printf -v words ' %q' "$@"
    record+="args$words"
}

# data_of FILE.jsonl: the data its summary says the run read
data_of()
{
    tail -n1 -- "$1" | jq -cS '.data_crc32 // "unknown"' 2> /dev/null || echo unknown
}

# claim_folder DIR: make it, check it can be written, and hold it for this
# invocation (two at once on one folder would run the same runs twice)
claim_folder()
{
    mkdir -p -- "$1" 2> /dev/null || fail 73 "$1: cannot create the folder"
    if [ ! -w "$1" ] || [ ! -x "$1" ]; then fail 73 "$1: the folder is not writable"; fi
    exec 9>> "$1/.lock" || fail 73 "$1: cannot write in the folder"
    flock -n 9 || fail 73 "$1: another invocation is using this folder"
}

# finished FILE.jsonl: train got to its summary line, and the line is whole:
# a run killed while it wrote it leaves a cut line, which is no summary (the
# run runs again), not a finished run whose table dies on a parse error
finished()
{
    [ -f "$1" ] && [ -s "$1" ] || return 1
    tail -n1 -- "$1" | jq -e 'type == "object" and .type == "summary" and
        (.test_accuracy | type) == "number" and (.seconds | type) == "number"' > /dev/null 2>&1
}

# record_diff OLD NEW: what differs, in words
record_diff()
{
    local -A then_=() now_=()
    local line what=()
    while IFS= read -r line; do [ -z "$line" ] || then_[${line%% *}]=${line#* }; done <<< "$1"
    while IFS= read -r line; do [ -z "$line" ] || now_[${line%% *}]=${line#* }; done <<< "$2"
    [ "${then_[train]-}" = "${now_[train]}" ] ||
        what+=("the train binary differs (then ${then_[train]-unknown}; now ${now_[train]})")
    [ "${then_[config]-}" = "${now_[config]}" ] ||
        what+=("the config file's contents differ (then ${then_[config]-unknown}, now ${now_[config]})")
    [ "${then_[MNIST_DIR]-}" = "${now_[MNIST_DIR]}" ] ||
        what+=("MNIST_DIR was ${then_[MNIST_DIR]-unknown}, now ${now_[MNIST_DIR]}")
    [ "${then_[data]-}" = "${now_[data]}" ] ||
        what+=("the data differ (then ${then_[data]-unknown}; now ${now_[data]})")
    [ "${then_[args]-}" = "${now_[args]}" ] ||
        what+=("its arguments were '${then_[args]# }', now '${now_[args]# }'")
    printf '%s' "${what[0]}"
    [ "${#what[@]}" -lt 2 ] || printf '; %s' "${what[@]:1}"
}

# read_record FILE.cmd: the record a run folder holds, whole, in old_record
# ('' when there is none); it is this command's when it equals "$record"$'\n'
read_record()
{
    old_record=''
    [ ! -f "$1" ] || IFS= read -r -d '' old_record < "$1" || true
}

refusals=()
# reusable FILE.jsonl: 0 when FILE is a finished run of exactly $record (reuse
# it), 1 when it must run; a finished run of another command or other data
# is added to refusals (see refuse_others)
reusable()
{
    local f=$1 cmd=${1%.jsonl}.cmd
    finished "$f" || return 1
    if [ ! -f "$cmd" ]; then
        refusals+=("$f: a finished run with no record of the command that made it")
    else
        local data now
        read_record "$cmd"
        data=$(data_of "$f")
        now=$(sed -n 's/^data crc32://p' <<< "$record")
        if [ "$old_record" != "$record"$'\n' ]; then
            refusals+=("$f: a finished run of another command: $(record_diff "$old_record" "$record")")
        elif [ "$data" != "$now" ]; then
            refusals+=("$f: a finished run that read other data than its record says (its summary: $data; now $now)")
        fi
    fi
    return 0
}

# after every run was checked: refuse (73) when any finished run differs
refuse_others()
{
    [ "${#refusals[@]}" -gt 0 ] || return 0
    printf '%s: %s\n' "$prog" "${refusals[0]}" >&2
    [ "${#refusals[@]}" -eq 1 ] ||
        printf '%s: and %d more finished runs of another command\n' "$prog" $(( ${#refusals[@]} - 1 )) >&2
    printf '%s: nothing was run; use another output folder, or delete those runs to run them again\n' "$prog" >&2
    exit 73
}

# write_record FILE.jsonl: the run's record, atomically
write_record()
{
    local cmd=${1%.jsonl}.cmd
    printf '%s\n' "$record" > "$cmd.tmp" && mv -f "$cmd.tmp" "$cmd"
}

# The jobs of this invocation, in order: job_out (FILE.jsonl, receives the
# run's stdout; stderr goes to FILE.jsonl.err), job_label (for messages and
# the joblog) and job_args (the words after the binary, each ended by \x1f
# but the last).
job_out=() job_label=() job_args=() job_ckpt=() job_resume=()
add_job()
{
    local out=$1 label=$2 a
    shift 2
    for a; do
        case $a in *$'\x1f'*) usage_error "arguments must not contain the byte 0x1f" ;; esac
    done
    job_out+=("$out")
    job_label+=("$label")
    job_ckpt+=('') job_resume+=(0)
    local IFS=$'\x1f'
    job_args+=("$*")
}

# Resuming an interrupted run, for jobs run here (run_here; not through GNU
# parallel's hosts, not as a Slurm array). A resumable job runs with --save
# NAME.ckpt: on SIGINT, SIGTERM or SIGHUP train saves its checkpoint there
# before it exits (and every N epochs with --checkpoint-every N, against a
# SIGKILL or a lost machine), and the run's files stay as they are. The next
# invocation of the same command (the same record, checked as for reuse)
# goes on from that checkpoint with --resume, which gives the bytes of an
# uninterrupted run (train's promise, tested in tests/test_model.c). Its
# lines go to NAME.jsonl.part and are spliced onto the earlier sittings'
# (merge_sitting). NAME.sittings holds one line per sitting: "sitting START"
# and, once a later sitting has begun, its END, the time of the checkpoint
# the next one went on from (work after it was done again, and counts in the
# sitting that redid it). run_seconds: the last sitting's own wall time plus
# the closed ones'. A run that failed (not interrupted) loses its checkpoint
# and runs from the start next time, as every run did before.

# add_resumable_job FILE.jsonl LABEL EVERY ARG...: add_job, with --save or,
# when FILE.ckpt is there and FILE.cmd holds this very $record, --resume;
# EVERY > 0 adds --checkpoint-every EVERY (not part of the record: where
# checkpoints fall never changes a bit of the run)
add_resumable_job()
{
    local out=$1 label=$2 every=$3 ck=${1%.jsonl}.ckpt extra=() i
    shift 3
    [ "$every" = 0 ] || extra=(--checkpoint-every "$every")
    read_record "${out%.jsonl}.cmd"
    if [ -f "$ck" ] && [ "$old_record" = "$record"$'\n' ]; then
        add_job "$out" "$label" --resume "$ck" "$@" "${extra[@]}"
        i=$((${#job_out[@]} - 1))
        job_resume[i]=1
    else
        add_job "$out" "$label" "$@" --save "$ck" "${extra[@]}"
        i=$((${#job_out[@]} - 1))
    fi
    job_ckpt[i]=$ck
}

# drop_stale_checkpoints: before any job runs (the records are written by
# then): a run that starts afresh loses any earlier checkpoint and sittings
# (another command's, or a failed run's), so that a later invocation, which
# finds this command's record beside them, never goes on from them
drop_stale_checkpoints()
{
    local i f
    for i in "${!job_out[@]}"; do
        [ -n "${job_ckpt[i]}" ] && [ "${job_resume[i]}" != 1 ] || continue
        f=${job_out[i]}
        rm -f -- "${job_ckpt[i]}" "${f%.jsonl}.sittings" "$f.part"
    done
}

# start_sitting I: before job I starts: a resumed run closes its last sitting
# at its checkpoint's time; every run opens one
start_sitting()
{
    local f=${job_out[$1]} ck=${job_ckpt[$1]} s
    s=${f%.jsonl}.sittings
    if [ "${job_resume[$1]}" = 1 ]; then
        local end
        end=$(stat -c %.6Y -- "$ck" 2> /dev/null) || end=''
        if [ -f "$s" ] && [ -n "$end" ]; then
            awk -v end="$end" '{ l[NR] = $0 } END { for (i = 1; i <= NR; i++)
                print l[i] (i == NR && split(l[i], w, " ") == 2 ? " " end : "") }' "$s" > "$s.tmp" &&
                mv -f "$s.tmp" "$s"
        fi
    fi
    printf 'sitting %s\n' "$EPOCHREALTIME" >> "$s"
}

# merge_sitting FILE.jsonl: splice a resumed sitting's lines (FILE.jsonl.part)
# onto the earlier ones: the earlier epoch lines before the first epoch the
# sitting printed (it trains any epoch after its checkpoint again), then its
# lines, but a last line cut by a kill. Nothing to do without a .part.
merge_sitting()
{
    local f=$1 first
    [ -f "$f.part" ] || return 0
    first=$(sed -n 's/^{"type":"epoch","epoch":\([0-9]\{1,9\}\),.*/\1/p' "$f.part" | head -n1)
    {
        [ ! -f "$f" ] || awk -v first="${first:-0}" 'match($0, /^\{"type":"epoch","epoch":[0-9]+,/) {
            e = substr($0, 25, RLENGTH - 25) + 0
            if (first == 0 || e < first) print }' "$f"
        if [ -s "$f.part" ] && ! tail -n1 -- "$f.part" | jq -e . > /dev/null 2>&1; then
            sed '$d' "$f.part"
        else
            cat "$f.part"
        fi
    } > "$f.tmp" && mv -f "$f.tmp" "$f" && rm -f "$f.part"
}

# closed_seconds FILE.jsonl: the seconds of the run's closed sittings (all
# but the last; 0 for a run of one sitting, or without FILE.sittings)
closed_seconds()
{
    local s=${1%.jsonl}.sittings
    if [ -f "$s" ]; then
        awk '$1 == "sitting" && NF == 3 && $3 > $2 { t += $3 - $2 } END { printf "%.6f\n", t + 0 }' "$s"
    else
        echo 0
    fi
}

# run_seconds FILE.jsonl: the wall time of a finished run over all its
# sittings: its summary's (the last sitting), plus the closed ones'
run_seconds()
{
    local last closed
    last=$(tail -n1 -- "$1" | jq '.seconds') || return 1
    closed=$(closed_seconds "$1")
    awk -v a="$last" -v b="$closed" 'BEGIN { printf "%.6f\n", a + b }'
}

# sittings_of FILE.jsonl: how many sittings the run took (1 without a record)
sittings_of()
{
    local s=${1%.jsonl}.sittings
    if [ -f "$s" ]; then awk 'END { print (NR > 0 ? NR : 1) }' "$s"; else echo 1; fi
}

# run_jobs JOBS JOBLOG [GNU PARALLEL OPTION...]: run the jobs, JOBS at a time:
# here, by this shell (each job's words straight into exec, no shell parse);
# with GNU parallel options (--sshloginfile), through GNU parallel. On a
# terminal a progress line with the ETA, redrawn in place; nothing redrawn
# otherwise. JOBLOG gets one line per job in GNU parallel's --joblog format.
# Returns 0 when every job finished, 1 when some failed (each named with its
# error line on stderr), 130/143 when interrupted.
run_jobs()
{
    local jobs=$1 log=$2 i
    shift 2
    [ "${#job_out[@]}" -gt 0 ] || return 0
    interrupted=0
    drop_stale_checkpoints
    if [ $# -gt 0 ]; then
        run_parallel "$jobs" "$log" "$@"
    else
        run_here "$jobs" "$log"
    fi
    report_failures "$log"
    if [ "$interrupted" != 0 ]; then
        if [ -n "$(printf '%s' "${job_ckpt[@]}")" ]; then
            printf '%s: interrupted; run the same command to resume (finished runs are kept, interrupted ones go on from their checkpoints)\n' "$prog" >&2
        else
            printf '%s: interrupted; run the same command to resume (finished runs are kept)\n' "$prog" >&2
        fi
        return "$interrupted"
    fi
    [ "$failed_runs" -eq 0 ]
}

# run_here JOBS JOBLOG: a pool of JOBS background jobs, refilled as each ends
run_here()
{
    local jobs=$1 log=$2 next=0 done=0 total=${#job_out[@]} pid rc i t0=$SECONDS words=()
    local -A job_of=() start_of=()
    printf 'Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n' > "$log"
    trap 'interrupted=130; kill -INT "${!job_of[@]}" 2>/dev/null || true' INT
    trap 'interrupted=143; kill -TERM "${!job_of[@]}" 2>/dev/null || true' TERM
    while [ "${#job_of[@]}" -gt 0 ] || { [ "$next" -lt "$total" ] && [ "$interrupted" = 0 ]; }; do
        if [ "$next" -lt "$total" ] && [ "${#job_of[@]}" -lt "$jobs" ] && [ "$interrupted" = 0 ]; then
            mapfile -t -d $'\x1f' words < <(printf '%s\x1f' "${job_args[next]}")
            [ -z "${job_ckpt[next]}" ] || start_sitting "$next"
            if [ "${job_resume[next]}" = 1 ]; then
                with_signals "$train" "${words[@]}" > "${job_out[next]}.part" 2>> "${job_out[next]}.err" < /dev/null &
            else
                with_signals "$train" "${words[@]}" > "${job_out[next]}" 2> "${job_out[next]}.err" < /dev/null &
            fi
            job_of[$!]=$next start_of[$!]=${EPOCHREALTIME//[!0-9]/}
            next=$((next + 1))
            continue
        fi
        pid='' rc=0
        wait -n -p pid "${!job_of[@]}" || rc=$?
        [ -n "${pid-}" ] || continue    # a signal came: the trap passed it on
        i=${job_of[$pid]}
        unset "job_of[$pid]"
        [ "${job_resume[i]}" != 1 ] || merge_sitting "${job_out[i]}"
        done=$((done + 1))
        # times in microseconds
        local t=${start_of[$pid]} us=$((${EPOCHREALTIME//[!0-9]/} - ${start_of[$pid]}))
        printf '%d\t:\t%d.%03d\t%d.%03d\t0\t0\t%d\t%d\t%s\n' $((i + 1)) $((t / 1000000)) \
            $((t % 1000000 / 1000)) $((us / 1000000)) $((us % 1000000 / 1000)) \
            $((rc > 128 ? 0 : rc)) $((rc > 128 ? rc - 128 : 0)) "${job_label[i]}" >> "$log"
        if [ -t 2 ]; then
            local left=$((total - done)) eta=$(((SECONDS - t0) * (total - done) / done))
            printf '\r%s: %d of %d runs done, %d running, ETA %dm%02ds ' "$prog" "$done" "$total" \
                "${#job_of[@]}" $((eta / 60)) $((eta % 60)) >&2
            [ "$left" -gt 0 ] || printf '\n' >&2
        fi
    done
    trap - INT TERM
}

# run_parallel JOBS JOBLOG OPTION...: the same through GNU parallel; a job
# file holds the words, the template only {1}..{N}, and -q quotes each word
# for the shell GNU parallel starts, here or over ssh
run_parallel()
{
    local jobs=$1 log=$2 list i bar=() cols=()
    shift 2
    list=$(mktemp)
    for i in "${!job_out[@]}"; do
        printf '%s\x1f%s\x1f%s\0' "${job_out[i]}" "$train" "${job_args[i]}"
    done > "$list"
    # every job has as many words: the first one's count sizes the template
    local first=${job_args[0]} count=1
    while [[ $first == *$'\x1f'* ]]; do first=${first#*$'\x1f'}; count=$((count + 1)); done
    for ((i = 2; i <= count + 2; i++)); do cols+=("{$i}"); done
    [ ! -t 2 ] || bar=(--eta)
    trap 'interrupted=130; [ -z "${ppid-}" ] || kill -INT "$ppid" 2>/dev/null || true' INT
    trap 'interrupted=143; [ -z "${ppid-}" ] || kill -TERM "$ppid" 2>/dev/null || true' TERM
    with_signals parallel --will-cite -q -0 --colsep $'\x1f' -j "$jobs" --joblog "$log" "${bar[@]}" "$@" \
        --results '{1}' "${cols[@]}" :::: "$list" > /dev/null 2> "$list.err" &
    ppid=$!
    while ! wait "$ppid"; do
        kill -0 "$ppid" 2>/dev/null || break
    done
    ppid=
    trap - INT TERM
    # GNU parallel's own complaints (the jobs' are in FILE.jsonl.err)
    if [ -s "$list.err" ] && [ "$interrupted" = 0 ]; then
        grep -v '^parallel: Warning' "$list.err" >&2 || true
    fi
    rm -f "$list" "$list.err"
    for i in "${job_out[@]}"; do rm -f "$i.seq"; done
}

# report_failures JOBLOG: each job of this invocation that did not finish or
# did not exit 0, with its exit status and its last error line; failed_runs
# counts them. A failed run's output is moved to NAME.jsonl.failed, so that a
# summary line printed before a late error is never taken for a finished run.
report_failures()
{
    local log=$1 seq host rc sig i line how
    local -A outcome=()
    failed_runs=0
    if [ -f "$log" ]; then
        while IFS=$'\t' read -r seq host _ _ _ _ rc sig _; do
            [ "$seq" = Seq ] || outcome[$seq]="$rc $sig $host"
        done < "$log"
    fi
    local want got
    for i in "${!job_out[@]}"; do
        rc='' sig='' host='' line=''
        read -r rc sig host <<< "${outcome[$((i + 1))]-}"
        if finished "${job_out[i]}" && [ "$rc" = 0 ] && [ "$sig" = 0 ]; then
            # the data it read are the data its record was made for
            want=$(sed -n 's/^data crc32://p' "${job_out[i]%.jsonl}.cmd" 2> /dev/null)
            got=$(data_of "${job_out[i]}")
            [ "$got" != "$want" ] || continue
            line="it read other data than its record says (changed during the runs?): $got, not $want"
        fi
        failed_runs=$((failed_runs + 1))
        # interrupted (this invocation, or the run by a signal) with a
        # checkpoint: kept as it is, for the next invocation to go on from
        local resumable=''
        if [ -n "${job_ckpt[i]}" ] && [ -f "${job_ckpt[i]}" ] &&
            { [ "${interrupted:-0}" != 0 ] || [ "${sig:-0}" != 0 ]; }; then
            resumable=1
        else
            [ ! -e "${job_out[i]}" ] || mv -f "${job_out[i]}" "${job_out[i]}.failed"
            [ -z "${job_ckpt[i]}" ] || rm -f -- "${job_ckpt[i]}" "${job_out[i]%.jsonl}.sittings"
        fi
        [ "${interrupted:-0}" = 0 ] || continue
        [ -n "$line" ] || line=$(grep -F "${train##*/}: " "${job_out[i]}.err" 2>/dev/null | tail -n1)
        [ -n "$line" ] || line=$(grep . "${job_out[i]}.err" 2>/dev/null | tail -n1)
        [ -n "$line" ] || line="no error message; see ${job_out[i]}.err"
        if [ -z "$rc" ]; then how="did not run"
        elif [ "$sig" != 0 ]; then how="killed by signal $sig"
        elif [ "$rc" = 255 ] && [ "$host" != : ]; then how="exit 255: ssh to $host failed?"
        else how="exit $rc"; fi
        [ -z "$resumable" ] || line+=" (its checkpoint is kept: the same command goes on from it)"
        printf '%s: %s failed (%s): %s\n' "$prog" "${job_label[i]}" "$how" "$line" >&2
    done
}

# write_provenance DIR [NOTE]: DIR/PROVENANCE says which engine, machine and
# command made the tables beside it, so that a document quoting them can say
# so and scripts/check-docs.sh can check it (every results/ folder has one).
# Key: value lines; the engine is the binary the runs were checked against
# (reuse needs the same sha256), the machine is this one's CPU and cores (runs
# spread over --sshloginfile hosts say so in NOTE), the load average shows how
# busy it was, which the tables' seconds measure as much as the runs.
write_provenance()
{
    local dir=$1 note=${2-} commit cpu words engine sum
    train=${train:-${TRAIN:-$here/train}}
    [ -n "${train_line-}" ] || train_fingerprint
    sum=${train_line#train sha256:} engine=${train_line#train sha256:* }
    engine=${engine//;/; } sum=${sum%% *}
    engine=${engine//;  /; }
    if commit=$(git -C "$here" rev-parse --short=12 HEAD 2> /dev/null); then
        git -C "$here" diff --quiet HEAD -- src Makefile 2> /dev/null || commit+=" (src/ or Makefile changed since)"
    else
        commit="unknown (not a git checkout)"
    fi
    cpu=$(LC_ALL=C sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2> /dev/null | head -n1)
    words=''
    [ "${#script_args[@]}" -eq 0 ] || printf -v words ' %q' "${script_args[@]}"
    {
        printf 'command: scripts/%s%s\n' "${0##*/}" "$words"
        printf 'date: %s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
        printf 'engine: %s\n' "$engine"
        printf 'binary: sha256:%s\n' "$sum"
        printf 'commit: %s\n' "$commit"
        printf 'machine: %s, %s CPUs online, %s usable\n' "${cpu:-unknown CPU}" "$(getconf _NPROCESSORS_ONLN)" "$(nproc)"
        printf 'load: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg 2> /dev/null)"
        [ -z "$note" ] || printf 'note: %s\n' "$note"
    } > "$dir/PROVENANCE.tmp" && mv -f "$dir/PROVENANCE.tmp" "$dir/PROVENANCE"
}
