#!/usr/bin/env bash
# Configures and builds ghostwatch (Release) into build/; the binary is
# build/ghostwatch. Extra arguments go to CMake's configure step.
set -euo pipefail
cd "$(dirname "$0")/.."
# Ninja for a new build directory: it compiles the tests' batches while the
# library's are still going, where make would leave a core idle between
# targets. An existing build directory keeps the generator it was made with.
generator=()
if [ ! -f build/CMakeCache.txt ]; then generator=(-G Ninja); fi
cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j"$(nproc)"
