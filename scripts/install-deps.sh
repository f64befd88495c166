#!/usr/bin/env bash
# Installs the Debian packages afp needs to build, test and demo, only when missing.
# Called by `make demo` and `make test`; safe to run repeatedly. Needs root (or sudo) when
# something is missing.
set -euo pipefail

PKGS=(
  build-essential pkg-config
  postgresql-15 postgresql-server-dev-15 postgresql-15-cron postgresql-15-pgtap
  libtap-parser-sourcehandler-pgtap-perl
  libcurl4-openssl-dev libssl-dev zlib1g-dev libpng-dev libtiff-dev libfreetype-dev fonts-liberation
  libzint-dev zbar-tools fonts-droid-fallback
  clang libclang-rt-14-dev
  fop default-jdk-headless poppler-utils qpdf hyperfine
  python3-aiosmtpd python3-dkim
  postfix
  nodejs openssl
  patroni etcd-server etcd-client
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
if printf '%s\n' "${missing[@]}" | grep -qx postfix; then
  # postfix only for its smtp-sink test server (bench/delivery.sh): preseeded so that the package
  # configures and starts no mail system
  echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
fi
# etcd-server and patroni come with service units; the tests start their own etcd and Patroni on
# private ports, so nothing may start on install: a policy-rc.d that denies starts (when there is
# none), and with systemd running the units of newly installed packages are disabled and stopped
made_policy=""
if printf '%s\n' "${missing[@]}" | grep -qxE 'etcd-server|patroni' && [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null && $SUDO chmod 755 /usr/sbin/policy-rc.d
  made_policy=1
fi
rc=0
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" || rc=$?
[ -n "$made_policy" ] && $SUDO rm -f /usr/sbin/policy-rc.d
if [ -d /run/systemd/system ]; then
  for unit in etcd patroni; do
    pkg=$unit; [ "$unit" = etcd ] && pkg=etcd-server
    if printf '%s\n' "${missing[@]}" | grep -qx "$pkg"; then $SUDO systemctl disable --now "$unit.service" >/dev/null 2>&1 || true; fi
  done
fi
exit $rc
