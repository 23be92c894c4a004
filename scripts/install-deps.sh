#!/usr/bin/env bash
# Installs ghostwatch's build and test dependencies from Debian 12's packages.
# Uses sudo when not run as root. Safe to run again.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
PACKAGES=(
  cmake g++ make ninja-build pkg-config python3 openssl
  libsimdjson-dev libtomlplusplus-dev libcli11-dev libfmt-dev libhowardhinnant-date-dev tzdata
  libssl-dev libxxhash-dev libsqlite3-dev libsqlitecpp-dev nlohmann-json3-dev libcpp-httplib-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libgmime-3.0-dev libcurl4-openssl-dev libkainjow-mustache-dev libxml2-dev python3-aiosmtpd python3-scipy
  libpqxx-dev postgresql-15 libnats-dev nats-server chromium libxgboost-dev xgboost libeigen3-dev zlib1g-dev
)
# The dashboard's toolchain (web/): node 18 or later with npm. Debian's
# nodejs and npm packages when no node is installed (NodeSource's nodejs
# brings npm with it).
if ! command -v npm >/dev/null 2>&1; then PACKAGES+=(nodejs npm); fi
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The dashboard's npm packages, exactly as web/package-lock.json pins them
# (the build runs this again only when the lock file changes).
WEB="$(dirname "$0")/../web"
if [ ! -f "$WEB/node_modules/.package-lock.json" ] || [ "$WEB/package-lock.json" -nt "$WEB/node_modules/.package-lock.json" ]; then
  (cd "$WEB" && npm ci --no-audit --no-fund --loglevel=error)
fi
