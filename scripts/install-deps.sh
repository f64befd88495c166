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
  libzint-dev zbar-tools
  clang libclang-rt-14-dev
  fop default-jdk-headless poppler-utils qpdf hyperfine
  python3-aiosmtpd python3-dkim
  nodejs openssl
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
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
