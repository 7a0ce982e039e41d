#!/bin/bash
# What a Slurm job of a sweep runs (scripts/slurm.bash submits it; every path
# absolute: sbatch runs a copy of this file, from its spool folder).
#
#   slurm-task.sh run JOBS     array task SLURM_ARRAY_TASK_ID: record number
#                              SLURM_ARRAY_TASK_ID of JOBS (NUL-ended records,
#                              fields split by \x1f: output file, binary,
#                              arguments), run with stdout to the output file
#                              and stderr to FILE.err, as a local run is
#   slurm-task.sh collect SCRIPT ARG...
#                              the table job: SCRIPT ARG... as it is
set -u
case ${1-} in
    run)
        [ -n "${SLURM_ARRAY_TASK_ID-}" ] || { echo "slurm-task: not an array task" >&2; exit 64; }
        mapfile -d '' records < "$2" || exit 66
        [ "$SLURM_ARRAY_TASK_ID" -lt "${#records[@]}" ] ||
            { echo "slurm-task: $2 has no record $SLURM_ARRAY_TASK_ID" >&2; exit 66; }
        mapfile -t -d $'\x1f' words < <(printf '%s\x1f' "${records[SLURM_ARRAY_TASK_ID]}")
        out=${words[0]}
        # scancel's SIGTERM may reach this shell before train: the shell
        # passes it on and stays until train has ended, so that no train
        # outlives its task (Slurm tracks the task by its processes) to finish
        # a cancelled run behind the table job's back. A cancelled run leaves
        # no summary line: it is not finished, and is submitted again.
        "${words[1]}" "${words[@]:2}" > "$out" 2> "$out.err" < /dev/null &
        child=$!
        trap 'kill -TERM "$child" 2> /dev/null' TERM INT
        while :; do
            rc=0
            wait "$child" || rc=$?
            kill -0 "$child" 2> /dev/null || break
        done
        # a run that failed after its summary line is no finished run
        [ "$rc" -eq 0 ] || [ ! -e "$out" ] || mv -f "$out" "$out.failed"
        exit "$rc" ;;
    collect)
        shift
        exec "$@" ;;
    *)
        echo "usage: slurm-task.sh run JOBS | collect SCRIPT ARG..." >&2
        exit 64 ;;
esac
