#!/usr/bin/env bash
# Configures and builds ghostwatch (Release) into build/; the binary is
# build/ghostwatch. Extra arguments go to CMake's configure step.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j"$(nproc)"
