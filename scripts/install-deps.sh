#!/bin/sh
# Install what building, testing and fetching data need, from Debian's packages.
# Checks first and installs only what is missing, so it is cheap to run before every build.
# Extra arguments PACKAGE=CHECK add optional needs (CHECK: cmd:NAME, pc:NAME,
# hdr:PATH under /usr/include, glob:PATTERN, py:MODULE of Debian's /usr/bin/python3),
# as `make fuzz` and `make valgrind` do. npm:NAME@VERSION installs an npm package
# (--ignore-scripts) into ${XDG_CACHE_HOME:-~/.cache}/mnist-train/NAME, outside
# any checkout, after the Debian packages: `make test` so gets onnxruntime-node.
# As root it runs apt-get itself, otherwise through `sudo -n`; where neither works
# it prints the exact command to run and fails.
set -eu

# package  how to tell it is there
need() {
    case "$2" in
        pc:*)  pkg-config --exists "${2#pc:}" 2>/dev/null ;;
        cmd:*) command -v "${2#cmd:}" >/dev/null 2>&1 ;;
        hdr:*) [ -e "/usr/include/${2#hdr:}" ] ;;
        glob:*) ls ${2#glob:} >/dev/null 2>&1 ;;
        py:*)  /usr/bin/python3 -c "import ${2#py:}" >/dev/null 2>&1 ;;
    esac || missing="$missing $1"
}

missing=""
command -v pkg-config >/dev/null 2>&1 || missing="$missing pkg-config"
need gcc              cmd:gcc
need make             cmd:make
need zlib1g-dev       pc:zlib
need libcjson-dev     pc:libcjson
need libdnnl-dev      hdr:oneapi/dnnl/dnnl.h
need libcmocka-dev    pc:cmocka
need curl             cmd:curl
need parallel         cmd:parallel
need jq               cmd:jq
need gnuplot-nox      cmd:gnuplot
need groff-base       cmd:groff
need openssh-server   glob:/usr/sbin/sshd
# the tests build a comma-decimal locale (de_DE.UTF-8) from its source with localedef
need locales          glob:/usr/share/i18n/locales/de_DE
need ca-certificates  hdr:../share/ca-certificates
npm_pkgs=""
for extra in "$@"; do
    case "$extra" in
        --quiet) ;;
        npm:*) npm_pkgs="$npm_pkgs ${extra#npm:}" ;;
        *) need "${extra%%=*}" "${extra#*=}" ;;
    esac
done

# npm packages, each in its own folder of the user's cache (not a checkout's
# node_modules); a version already there is not fetched again
npm_install() {
    [ -n "$npm_pkgs" ] || return 0
    cache=${XDG_CACHE_HOME:-$HOME/.cache}
    case "$cache" in /*) ;; *) cache=$HOME/.cache ;; esac
    for p in $npm_pkgs; do
        name=${p%@*} version=${p##*@}
        dir=$cache/mnist-train/$name
        have=$(node -p "require('$dir/node_modules/$name/package.json').version" 2>/dev/null || true)
        [ "$have" = "$version" ] && continue
        echo "install-deps: npm install $p into $dir" >&2
        mkdir -p "$dir" && (cd "$dir" && npm install --ignore-scripts --no-audit --no-fund \
            --loglevel=error "$p" >&2) || return 1
    done
}

[ -z "$missing" ] && { npm_install; exit $?; }

cmd="apt-get install -y --no-install-recommends$missing"
echo "install-deps: installing:$missing" >&2
if [ "$(id -u)" = 0 ]; then
    run=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    run="sudo -n"
else
    echo "install-deps: not root and no password-less sudo; run this, then retry:" >&2
    echo "    sudo apt-get update && sudo $cmd" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$run apt-get update -qq >&2
# shellcheck disable=SC2086
$run $cmd >&2
npm_install
