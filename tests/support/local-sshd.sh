#!/bin/bash
# A throwaway sshd on 127.0.0.1, for testing sweeps across hosts for real.
#
#   local-sshd.sh start DIR NAME   start one (keys, client config and known
#                                  hosts shared in DIR); prints its port
#   local-sshd.sh stop DIR NAME    kill it and every process under it (its
#                                  sessions and their jobs): a host that dies
#
# Everything lives in DIR: host and user keys (made on first use, no
# passphrase), authorized_keys, sshd_config.NAME, NAME.pid, NAME.log, and
# ssh_config, which a client uses as `ssh -F DIR/ssh_config -p PORT 127.0.0.1`.
# Only 127.0.0.1 listens, on a port above 20000. A session's shell reads none
# of the user's start-up files (their time and output are no part of a test):
# SHLVL=1 keeps bash from ~/.bashrc, which it reads when started by sshd as
# the top-level shell; zsh and fish are sent to an empty folder. The timeouts
# only catch a hang: a busy machine is slow, not broken. Exit 77, with the
# reason on stderr, where sshd cannot run here (not installed, no privilege
# separation directory, a login that fails).
set -eu
skip() { echo "local-sshd: $*" >&2; exit 77; }

cmd=${1:-} dir=${2:-} name=${3:-}
if [ -z "$cmd" ] || [ ! -d "$dir" ] || ! [[ $name =~ ^[a-z0-9]+$ ]]; then
    echo "usage: local-sshd.sh start|stop DIR NAME" >&2
    exit 64
fi
dir=$(cd "$dir" && pwd)

# shellcheck source=daemon.bash
. "$(dirname "${BASH_SOURCE[0]}")/daemon.bash"

if [ "$cmd" = stop ]; then
    # only an sshd of ours: its command line names our config
    stop_daemon "$dir/$name.pid" "$dir/sshd_config.$name"
    exit 0
fi
[ "$cmd" = start ] || { echo "local-sshd: $cmd: start or stop" >&2; exit 64; }

sshd=$(command -v sshd || echo /usr/sbin/sshd)
[ -x "$sshd" ] || skip "no sshd (Debian package openssh-server)"
if ! command -v ssh > /dev/null || ! command -v ssh-keygen > /dev/null; then
    skip "no ssh client (openssh-client)"
fi
# as root, sshd needs its privilege separation directory (the Debian service
# makes it at start)
if [ "$(id -u)" = 0 ] && [ ! -d /run/sshd ]; then
    mkdir -m 0755 /run/sshd 2> /dev/null || skip "no /run/sshd and cannot make it"
fi
user=$(id -un)
mkdir -p "$dir/empty"
if [ ! -f "$dir/host_key" ]; then
    ssh-keygen -q -t ed25519 -N '' -C local-sshd-host -f "$dir/host_key"
    ssh-keygen -q -t ed25519 -N '' -C local-sshd-user -f "$dir/user_key"
    cp "$dir/user_key.pub" "$dir/authorized_keys"
    cat > "$dir/ssh_config" << EOF
Host 127.0.0.1
    User $user
    IdentityFile $dir/user_key
    IdentitiesOnly yes
    UserKnownHostsFile $dir/known_hosts
    StrictHostKeyChecking yes
    BatchMode yes
    ConnectTimeout 120
    LogLevel ERROR
EOF
fi
for try in 1 2 3 4 5 6 7 8; do
    port=$((20000 + RANDOM % 40000))
    cat > "$dir/sshd_config.$name" << EOF
Port $port
ListenAddress 127.0.0.1
HostKey $dir/host_key
PidFile $dir/$name.pid
AuthorizedKeysFile $dir/authorized_keys
AllowUsers $user
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
UseDNS no
X11Forwarding no
SetEnv SHLVL=1 ZDOTDIR=$dir/empty XDG_CONFIG_HOME=$dir/empty
LogLevel INFO
EOF
    rm -f "$dir/$name.pid"
    if "$sshd" -f "$dir/sshd_config.$name" -E "$dir/$name.log" 2> "$dir/$name.start"; then
        break
    fi
    cat "$dir/$name.start" >> "$dir/$name.log"
    grep -q 'Bind to port\|Cannot bind' "$dir/$name.log" ||
        skip "sshd does not start: $(tail -n1 "$dir/$name.log")"
    [ "$try" -lt 8 ] || skip "no free port for sshd"
done
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$dir/host_key.pub")" >> "$dir/known_hosts"
if ! out=$(timeout 300 ssh -F "$dir/ssh_config" -p "$port" 127.0.0.1 echo ok 2>&1) || [ "$out" != ok ]; then
    "$0" stop "$dir" "$name"
    [ -n "$out" ] || out="no answer within 300 s (sshd accepted the key if $name.log says so; then $user's login shell hangs in its startup files, e.g. ~/.bashrc)"
    skip "cannot log in to the test sshd: $out"
fi
echo "$port"
