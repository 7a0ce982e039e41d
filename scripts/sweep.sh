#!/bin/bash
# Run a grid of train settings with GNU parallel; resumable; one machine or
# many. (Usage below, in help.) Every argument reaches train as data
# (scripts/common.bash); a finished run is reused only when its whole command
# is the same.
set -eu
prog=sweep
case $0 in */*) here=${0%/*}/.. ;; *) here=.. ;; esac
here=$(cd "$here" && pwd)
# shellcheck source=scripts/common.bash
. "$here/scripts/common.bash"

help()
{
    cat << 'EOF'
Usage: scripts/sweep.sh -c BASE.json -g KEY=VALUES [-g ...] [OPTION]... [-- TRAIN FLAGS...]
Run every combination of the -g values as a train run, JOBS at a time.

  -c, --config FILE      the base config
  -g, --grid KEY=VALUES  a grid axis: any config key; values comma-separated,
                         or |-separated when they contain commas
                         (-g 'hidden=256|800,800'); A..B is a range of integers
  -j, --jobs N           runs at a time (per host with --sshloginfile; default:
                         the number of cores); each gets --threads cores/N
                         unless the flags say otherwise
  -o, --out DIR          the sweep's folder (default runs/sweep)
      --sshloginfile F   spread the runs over the hosts in F (GNU parallel's
                         format: [N/][ssh command and options] [user@]host, one
                         a line; ':' is this machine); a run that fails on one
                         host is tried again on another
      --dry-run          print the jobs (NAME, then its flags) and run nothing
  -h, --help             print this help and exit

Options may come in any order; everything after -- is passed to every run as
it is. Each run is train --config BASE --json --threads T FLAGS --KEY=VALUE...
The folder receives jobs.tsv (the grid), keys (its config keys), about (the
base config, flags and binary), joblog (the last invocation's runs, in GNU
parallel's --joblog format), and per run runs/NAME.jsonl, .jsonl.err and
.cmd (the record of its command); then summary.md and summary.csv
(scripts/summarize.sh). Running
the same command again resumes: finished runs are kept, the others run. A
finished run is reused only when its command is the same (the train binary's
sha256 and --version, the base config's contents, $MNIST_DIR, every flag);
a folder holding finished runs of another command or another grid is refused
(exit 73) with what differs.

With --sshloginfile, each host needs the project at the same path, built, and
the data where the config, the flags or MNIST_DIR (passed along) say; runs
start in the same working directory; their output comes back here.

Exit status: 0 when every run finished; 1 when a run failed (its error line is
printed); 64 usage error; 66 the config or the binary is missing; 73 the
folder holds finished runs of another command or grid; 130/143 interrupted
(run the same command to resume). TRAIN=PATH runs another binary than ./train.
EOF
}

cores=$(nproc)
base="" out=runs/sweep jobs=$cores logins="" dry="" grid=() flags=()
while [ $# -gt 0 ]; do
    case $1 in
        -h | --help) help; exit 0 ;;
        -c | --config) opt_value "$1" $# "${2-}"; base=$2; shift 2 ;;
        -g | --grid) opt_value "$1" $# "${2-}"; grid+=("$2"); shift 2 ;;
        -j | --jobs) opt_value "$1" $# "${2-}"; jobs=$2; shift 2 ;;
        -o | --out) opt_value "$1" $# "${2-}"; out=$2; shift 2 ;;
        --sshloginfile) opt_value "$1" $# "${2-}"; logins=$2; shift 2 ;;
        --config=* | --grid=* | --jobs=* | --out=* | --sshloginfile=*)
            o=${1%%=*}; v=${1#*=}; shift; set -- "$o" "$v" "$@"; continue ;;
        --dry-run) dry=1; shift ;;
        --) shift; flags=("$@"); break ;;
        *) usage_error "unknown option '$1' (flags for train go after --)" ;;
    esac
done
[ -n "$base" ] || usage_error "-c BASE.json is required"
[ "${#grid[@]}" -gt 0 ] || usage_error "give at least one -g KEY=VALUES"
positive_int "-j" "$jobs"
[ -f "$base" ] || fail 66 "$base: no such config file"
[ -z "$logins" ] || [ -f "$logins" ] || fail 66 "$logins: no such file"
for a in "${flags[@]}"; do
    case $a in *$'\t'* | *$'\n'*) usage_error "flags: '$a' contains a tab or a newline" ;; esac
done
reserved_flags "set by sweep (-c)" --config --json --no-json -- "${flags[@]}"
# the hosts run it at the same path: make it absolute
case $base in
    /*) abs_base=$base ;;
    *) abs_base=$PWD/$base ;;
esac

# the axes: keys[i] and its values, \t-separated, in axis_values[i]
keys=() axis_values=()
declare -A seen_key=()
for g in "${grid[@]}"; do
    case $g in *=*) ;; *) usage_error "-g $g: expected KEY=VALUES" ;; esac
    key=${g%%=*} vals=${g#*=}
    [[ $key =~ ^[a-z0-9_]+$ ]] || usage_error "-g $g: '$key' is not a config key"
    [ -z "${seen_key[$key]-}" ] || usage_error "-g $g: $key is already a grid key"
    seen_key[$key]=1
    [ -n "$vals" ] || usage_error "-g $g: no values"
    case $vals in *$'\t'* | *$'\n'*) usage_error "-g $g: values must not contain tabs or newlines" ;; esac
    # split on | when there is one (hidden=256|800,800), else on commas
    case $vals in *'|'*) sep='|' ;; *) sep=',' ;; esac
    list=() rest=$vals$sep
    while [ -n "$rest" ]; do
        v=${rest%%"$sep"*} rest=${rest#*"$sep"}
        [ -n "$v" ] || usage_error "-g $g: an empty value"
        if [[ $v =~ ^([0-9]{1,9})\.\.([0-9]{1,9})$ ]]; then
            lo=$((10#${BASH_REMATCH[1]})) hi=$((10#${BASH_REMATCH[2]}))
            if [ "$lo" -gt "$hi" ] || [ $((hi - lo)) -ge 10000 ]; then
                usage_error "-g $g: '$v' is not a range A..B of at most 10000 integers"
            fi
            for ((i = lo; i <= hi; i++)); do list+=("$i"); done
        elif [[ $v == *..* && $v != */* ]]; then
            usage_error "-g $g: '$v' is not a range A..B"
        else
            list+=("$v")
        fi
    done
    reserved_flags "a grid key (-g $key)" "--${key//_/-}" -- "${flags[@]}"
    keys+=("$key")
    axis_values+=("$(printf '%s\t' "${list[@]}")")
done

# the cartesian product, in a fixed order: rows of --key=value, \t-separated
rows=("")
for i in "${!keys[@]}"; do
    IFS=$'\t' read -r -a list <<< "${axis_values[i]}"
    next=()
    for row in "${rows[@]}"; do
        for v in "${list[@]}"; do next+=("$row${row:+$'\t'}--${keys[i]//_/-}=$v"); done
    done
    rows=("${next[@]}")
done
# each row's name: its settings, with what a file name cannot hold as '-'
declare -A seen_name=()
names=()
for row in "${rows[@]}"; do
    name=${row//--/}
    name=${name//$'\t'/_}
    name=${name//[^A-Za-z0-9_=.,:-]/-}
    if [ "${#name}" -gt 160 ]; then
        name=${name:0:140}-$(printf '%s' "$row" | sha256sum | cut -c1-12)
    fi
    [ -z "${seen_name[$name]-}" ] || usage_error "two grid points would both be named $name"
    seen_name[$name]=1
    names+=("$name")
done

table=$(for i in "${!rows[@]}"; do printf '%s\t%s\n' "${names[i]}" "${rows[i]}"; done)
if [ -n "$dry" ]; then
    printf '%s\n' "$table"
    exit 0
fi
claim_folder "$out"
# a folder with finished runs of another grid is refused
if [ -f "$out/jobs.tsv" ] && [ "$(< "$out/jobs.tsv")" != "$table" ]; then
    while IFS=$'\t' read -r name _; do
        finished "$out/runs/$name.jsonl" &&
            fail 73 "$out holds finished runs of another grid (jobs.tsv); nothing was run; use another -o DIR"
    done < "$out/jobs.tsv"
fi
mkdir -p -- "$out/runs" || fail 73 "$out/runs: cannot create the folder"

threads=$((cores / jobs)); [ "$threads" -ge 1 ] || threads=1
if ! command -v parallel > /dev/null || ! command -v jq > /dev/null; then
    "$here/scripts/install-deps.sh" parallel=cmd:parallel jq=cmd:jq
fi
train=${TRAIN:-$here/train}
# the checkout's own binary is built when missing; TRAIN=PATH must exist
[ -n "${TRAIN:-}" ] || [ -x "$train" ] || make -C "$here" --no-print-directory all >&2
train_fingerprint

# what each run would be; check every finished one before running anything
todo=() todo_records=()
for i in "${!rows[@]}"; do
    f=$out/runs/${names[i]}.jsonl
    IFS=$'\t' read -r -a settings <<< "${rows[i]}"
    args=(--json --threads "$threads" "${flags[@]}" "${settings[@]}")
    run_record "$abs_base" "${args[@]}"
    reusable "$f" && continue
    todo+=("$f") todo_records+=("$record")
    add_job "$f" "${names[i]}" --config "$abs_base" "${args[@]}"
done
refuse_others
printf '%s\n' "$table" > "$out/jobs.tsv"
printf '%s\n' "${keys[@]}" > "$out/keys"
for i in "${!todo[@]}"; do record=${todo_records[i]}; write_record "${todo[i]}"; done
about="$base"
if [ "${#flags[@]}" -gt 0 ]; then
    printf -v quoted ' %q' "${flags[@]}"
    about+=" with$quoted"
fi
sum=${train_line#train sha256:} version=${train_line#* * }
printf '%s, by %s (sha256 %s)\n' "$about" "${version%%;*}" "${sum:0:12}" > "$out/about"

n=${#rows[@]}
case " ${flags[*]} " in
    *" --threads"*) how="" ;;
    *) how=" with --threads $threads" ;;
esac
echo "$prog: ${#todo[@]} of $n runs to do, $jobs at a time$how, in $out" >&2
# across hosts: GNU parallel, in this working directory there, with MNIST_DIR;
# a job that fails on one host is tried on another
extra=()
if [ -n "$logins" ]; then
    hosts=$(grep -c '[^[:space:]]' "$logins" || true)
    extra=(--sshloginfile "$logins" --retries "$((hosts > 2 ? hosts : 2))" --wd .)
    [ -z "${MNIST_DIR+set}" ] || extra+=(--env MNIST_DIR)
fi
status=0
run_jobs "$jobs" "$out/joblog" "${extra[@]}" || status=$?
[ "$status" -eq 0 ] || [ "$status" -eq 1 ] || exit "$status"
"$here/scripts/summarize.sh" "$out"
write_provenance "$out" "${logins:+runs spread over the hosts of --sshloginfile $logins}"
if [ "$status" -ne 0 ]; then
    echo "$prog: $failed_runs run(s) failed; run the same command to run them again" >&2
fi
exit "$status"
