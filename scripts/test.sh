#!/usr/bin/env bash
# Installs dependencies, builds with warnings as errors, and runs every test:
# the unit tests and the shared conformance suite (through CTest).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh -DGHOSTWATCH_WERROR=ON
ctest --test-dir build --output-on-failure -j"$(nproc)"
