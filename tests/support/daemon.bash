# Sourced by the throwaway daemons of the tests (local-sshd.sh, local-slurm.sh):
# stopping one of ours without touching anyone else's.

# the pids of a process and all its descendants, children first
tree()
{
    local c
    for c in $(ps -o pid= --ppid "$1" 2> /dev/null); do tree "$c"; done
    echo "$1"
}

# stop_daemon PIDFILE MARK: kill the process PIDFILE names and what runs
# under it, only if its command line holds MARK (a path of ours: a pid file
# may outlive its process, and the pid be another's by now); the pid file goes
stop_daemon()
{
    local pid
    [ -f "$1" ] || return 0
    pid=$(< "$1")
    if tr '\0' ' ' < "/proc/$pid/cmdline" 2> /dev/null | grep -qF -- "$2"; then
        # shellcheck disable=SC2046
        kill -KILL $(tree "$pid") 2> /dev/null || true
    fi
    rm -f "$1"
}
