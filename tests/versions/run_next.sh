#!/usr/bin/env bash
# `make versions-next`: the smoke tier (tests/versions) and the file-transfer recognition (tests/cmlab/test_transfer.py)
# under the ansible-core releases whose controller needs Python 3.12 or later, which this project's machines
# (Debian 12, Python 3.11) do not have. They run in a Debian 13 (trixie, Python 3.13) chroot made with
# debootstrap from Debian's own mirror; the lab and pytest stay in the project's venv, on the same loopback.
#
# Needs root (debootstrap, chroot, bind mounts). Not part of `make test`: about 4 minutes the first time
# (the chroot and one venv per version), under a minute after that; CMSCP_NEXT_TIERS=integration adds the
# integration tier under each version. The chroot lives outside the checkout,
# so nothing that walks the repository (ruff, ansible-lint, the collection's tarball) ever enters it.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
VERSIONS=${CMSCP_NEXT_VERSIONS:-"2.20.10 2.21.5"}
ROOT=${CMSCP_CHROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/configmgr.scp/trixie}
MIRROR=${CMSCP_DEBIAN_MIRROR:-http://deb.debian.org/debian}

if [ "$(id -u)" != 0 ]; then
    echo "make versions-next needs root (debootstrap, chroot, mount)" >&2
    exit 2
fi
command -v debootstrap >/dev/null || apt-get install -y -q debootstrap >/dev/null

if [ ! -e "$ROOT/.configmgr-scp-ready" ]; then
    mkdir -p "$ROOT"
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates trixie "$ROOT" "$MIRROR"
    touch "$ROOT/.configmgr-scp-ready"
fi
# The host's trust store and pip settings (a registry mirror or proxy CA of this machine, if any).
cp /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/ca-certificates.crt"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
[ -f /etc/pip.conf ] && cp /etc/pip.conf "$ROOT/etc/pip.conf"

# The checkout, /tmp (pytest's and the lab's files) and the project venv's Python (tests that run a play on the
# local connection name it as the interpreter) at the same paths inside, for as long as the tests run.
base_python=$("$REPO/.venv/bin/python" -c 'import sys; print(sys.base_prefix)')
mounts=()
cleanup() {
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount "${mounts[i]}" || true; done
}
trap cleanup EXIT
for dir in "$REPO" /tmp "$base_python"; do
    case "$dir" in /usr | /usr/*) continue ;; esac # the chroot has its own /usr
    # A run killed before its cleanup leaves its bind mounts: remove them first, so that they never stack and
    # deleting the chroot never reaches the checkout through them.
    while mountpoint -q "$ROOT$dir"; do umount "$ROOT$dir"; done
    mkdir -p "$ROOT$dir"
    mount --bind "$dir" "$ROOT$dir"
    mounts+=("$ROOT$dir")
done
mountpoint -q "$ROOT/proc" || { mount -t proc proc "$ROOT/proc" && mounts+=("$ROOT/proc"); }

for version in $VERSIONS; do
    venv=/opt/ansible-$version
    if [ ! -x "$ROOT$venv/bin/ansible-playbook" ]; then
        chroot "$ROOT" /usr/bin/python3 -m venv "$venv" # the chroot's own 3.13, whatever PATH says
        # jmespath: log_info's `query` (the integration tier asks for it)
        chroot "$ROOT" "$venv/bin/pip" install --quiet "ansible-core==$version" -r "$REPO/tests/versions/requirements.txt" \
            "$(grep -i '^jmespath==' "$REPO/requirements.txt")"
    fi
    # .venv-ansible/<version>/bin/{ansible-playbook,python} run the chroot's, in the caller's folder.
    bin="$REPO/.venv-ansible/$version/bin"
    mkdir -p "$bin"
    for tool in ansible-playbook python; do
        printf '#!/bin/sh\nexec /usr/sbin/chroot %q /bin/sh -c %q "$PWD" "$@"\n' \
            "$ROOT" "cd \"\$0\" && exec $venv/bin/$tool \"\$@\"" >"$bin/$tool"
        chmod +x "$bin/$tool"
    done
done

cd "$REPO"
# shellcheck disable=SC2086 # CMSCP_PYTEST_ARGS: more pytest options, e.g. "-v -rs"
CMSCP_ANSIBLE_CORE_VERSIONS="$VERSIONS" .venv/bin/python -m pytest -q -n 2 ${CMSCP_PYTEST_ARGS:-} tests/versions tests/cmlab/test_transfer.py
# CMSCP_NEXT_TIERS=integration: the whole integration tier too, once per version (about 7 minutes each).
if [[ " ${CMSCP_NEXT_TIERS:-} " == *" integration "* ]]; then
    for version in $VERSIONS; do
        echo "integration tier under ansible-core $version"
        # shellcheck disable=SC2086
        CMSCP_ANSIBLE_PLAYBOOK="$REPO/.venv-ansible/$version/bin/ansible-playbook" \
            .venv/bin/python -m pytest -q -n 4 --dist worksteal ${CMSCP_PYTEST_ARGS:-} tests/integration
    done
fi
