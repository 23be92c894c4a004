#!/usr/bin/env bash
# Sets up ghostwatch on a fresh Debian 12 machine and runs the main job on the
# embedded default: installs dependencies, builds, generates a sample
# marketplace and replays the sample campaign over it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
mkdir -p demo
build/ghostwatch simulate --seed 7 --freelancers 2000 --clients 800 --days 60 --out demo/events.ndjson
build/ghostwatch replay --config examples/policy.toml --events demo/events.ndjson \
  --actions demo/actions.ndjson --episodes demo/episodes.ndjson --rejects demo/rejects.ndjson
echo "outputs in demo/: actions.ndjson (step decisions), episodes.ndjson, rejects.ndjson"
