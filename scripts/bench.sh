#!/usr/bin/env bash
# Builds the project with the benchmarks in bench/ (build/bench/...);
# docs/benchmarks.md says how to run each one.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh -DGHOSTWATCH_BENCH=ON
