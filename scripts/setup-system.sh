#!/usr/bin/env bash
# Installs the system packages neurospice needs: an OSDI-capable ngspice (>= 40) and its
# shared library. Idempotent: when a good ngspice is already installed it does nothing.
# On Debian 12 (bookworm) the main suite has ngspice 39 (no OSDI), so it uses bookworm-backports.
set -euo pipefail

say() { echo "[setup] $*"; }
need_version=40

ngspice_version() {
    command -v ngspice >/dev/null 2>&1 || { echo 0; return; }
    ngspice -v 2>/dev/null | sed -n 's/.*ngspice-\([0-9][0-9]*\).*/\1/p' | head -n1 | grep . || echo 0
}
have_shared_lib() {
    ldconfig -p 2>/dev/null | grep -q 'libngspice\.so\b' || ls /usr/lib/*/libngspice.so >/dev/null 2>&1
}

have_venv() { python3 -c 'import venv, ensurepip' >/dev/null 2>&1; }

# Debian's chromium, for the documentation test that opens a built device page headless and
# screenshots it. Installed by default; NEUROSPICE_CHROMIUM=0 skips it (the test then skips
# with its reason). Run before every exit, so a machine that already has ngspice gets it too.
ensure_chromium() {
    [[ ${NEUROSPICE_CHROMIUM:-1} == 1 && ! -x /usr/bin/chromium ]] || return 0
    command -v apt-get >/dev/null 2>&1 || { say "no apt-get: chromium not installed"; return 0; }
    local c=""; [[ $(id -u) -eq 0 ]] || c="sudo"
    say "installing chromium (documentation screenshot test; NEUROSPICE_CHROMIUM=0 skips)"
    export DEBIAN_FRONTEND=noninteractive
    $c apt-get install -y -qq chromium >/dev/null 2>&1 \
        || { $c apt-get update -qq && $c apt-get install -y -qq chromium >/dev/null; } \
        || say "chromium not installed: the screenshot test will skip"
}

v=$(ngspice_version)
if [[ $v -ge $need_version ]] && have_shared_lib && have_venv; then
    say "ngspice $v with shared library, and python3 venv, already installed"
    ensure_chromium
    exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { say "need root (or sudo) to install ngspice >= $need_version"; exit 1; }
    SUDO="sudo"
fi
command -v apt-get >/dev/null 2>&1 || {
    say "no apt-get here: install ngspice >= $need_version with OSDI support and libngspice by hand"; exit 1; }

. /etc/os-release
pkgs=(ngspice libngspice0 libngspice0-dev)
export DEBIAN_FRONTEND=noninteractive
if ! have_venv; then
    say "python3 cannot create virtual environments: installing python3-venv"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq python3-venv >/dev/null
fi
if [[ $v -ge $need_version ]] && have_shared_lib; then
    say "ngspice $v with shared library already installed"
    ensure_chromium
    exit 0
fi
if [[ ${ID:-} == debian && ${VERSION_CODENAME:-} == bookworm ]]; then
    src=/etc/apt/sources.list.d/neurospice-backports.list
    if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        say "adding the bookworm-backports suite ($src)"
        echo "deb http://deb.debian.org/debian bookworm-backports main" | $SUDO tee "$src" >/dev/null
    fi
    say "apt-get update"
    $SUDO apt-get update -qq
    say "installing ${pkgs[*]} from bookworm-backports"
    $SUDO apt-get install -y -qq -t bookworm-backports "${pkgs[@]}" >/dev/null
else
    say "apt-get update"
    $SUDO apt-get update -qq
    say "installing ${pkgs[*]} from the main suite"
    $SUDO apt-get install -y -qq "${pkgs[@]}" >/dev/null
fi
v=$(ngspice_version)
if [[ $v -lt $need_version ]]; then
    say "installed ngspice is version $v; neurospice needs >= $need_version with OSDI"; exit 1
fi
say "ngspice $v installed"
ensure_chromium
