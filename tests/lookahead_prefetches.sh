#!/usr/bin/env bash
# Checks, in the built binary, that replay's loop still starts the loads its
# lookahead exists for: GCC treats a function of prefetches alone as having
# no effect, and with link-time optimisation it deleted the call to
# FeatureStore::prefetch_parties from run_replay (found in session 14;
# docs/risk-model.md, "risk-speed7") without any output changing. Fails
# when run_replay has no prefetch instruction of its own (the engine's,
# inlined) or no call to the feature store's prefetch_parties (kept out of
# line by [[gnu::noipa]]). In a build that does not inline (sanitizers),
# the loop's lambdas are read too, and calls to the engine's prefetch_*
# count for its prefetches. Skipped (77) off x86-64 or without objdump.
#
#   tests/lookahead_prefetches.sh BINARY
set -euo pipefail
binary=$1
if [ "$(uname -m)" != x86_64 ] || ! command -v objdump >/dev/null; then exit 77; fi
# The code of run_replay and its lambdas, each from its label to the next
# (awk reads on to the end, so that objdump is not cut off by a pipe).
body=$(objdump -d --no-show-raw-insn -C "$binary" |
  awk '/^[0-9a-f]+ <.*>:$/ {inside = /^[0-9a-f]+ <gw::run_replay\(/; next} inside')
if [ -z "$body" ]; then
  echo "no gw::run_replay in $binary" >&2
  exit 1
fi
prefetches=$(grep -c -E 'prefetcht0|call.*gw::Engine::prefetch_' <<<"$body" || true)
calls=$(grep -c 'call.*FeatureStore::prefetch_parties' <<<"$body" || true)
echo "run_replay: $prefetches prefetches (or calls to the engine's), $calls calls to FeatureStore::prefetch_parties"
if [ "$prefetches" -eq 0 ] || [ "$calls" -eq 0 ]; then
  echo "the lookahead's prefetches were compiled away" >&2
  exit 1
fi
