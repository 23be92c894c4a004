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
  libxgboost-dev xgboost libeigen3-dev zlib1g-dev
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
