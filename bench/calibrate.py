#!/usr/bin/env python3
"""Calibration of `ghostwatch report`'s 95 % intervals on closed-loop simulations.

    bench/calibrate.py [--binary build/ghostwatch] [--runs 200] [--lift 0.15]
                       [--truth-runs 40] [--workers 2] [--json out.json]

1. A/A: --runs experiments with `simulate --effect none` (seeds 1..runs): the
   true effect on every metric is exactly 0 (the arms differ only in the
   decisions' status). Counts the intervals that cover 0.
2. Known effect: --runs experiments with `--effect reply24h=+LIFT` (other
   seeds). The true effect of each metric is the difference of per-episode
   means between a world where every freelancer is treated (the policy with
   holdout_percent = 0) and one where none is (holdout_percent = 100), both
   closed-loop with the same lift, estimated over --truth-runs runs of each
   world (seeds apart from the experiments'); its Monte Carlo standard error
   is printed beside it. Counts the intervals that cover the truth.

Every experiment is simulate -> replay -> report through the real binary,
with the policy below (half the freelancers held out, so both arms are
large). Prints a table of coverage rates with a 95 % binomial margin.
See docs/simulation.md.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

METRICS = ["reply_24h", "reply_48h", "reply_72h", "bad_outcome"]

POLICY = """[campaign]
name = "calibration"
start = "2019-08-08T00:00:00Z"
holdout_percent = {holdout}
salt = "calibration"
allowed_lateness = "5m"

[segment]
countries_include = []
countries_exclude = ["US", "GB", "IE", "FR", "DE", "NL", "BE", "LU", "CH", "AT"]
kinds = []

[limits]
max_nudges_per_day = 3
quiet_hours = "22:00-08:00"

[[ladder]]
after = "24h"
action = "nudge"
template = "reminder-1"

[[ladder]]
after = "72h"
action = "nudge"
template = "reminder-2"

[[ladder]]
after = "120h"
action = "escalate"
team = "improving-outcomes"
"""

# Each experiment: 2000 freelancers over 40 days (~110 k lines, ~5 k
# population episodes), a few tenths of a second end to end.
SIM_ARGS = ["--freelancers", "2000", "--clients", "800", "--days", "40"]


def run_experiment(binary, workdir, policy, seed, effect):
    """simulate -> replay -> report; returns report.json as a dict."""
    stem = os.path.join(workdir, f"run-{seed}-{os.path.basename(policy)}")
    events, actions, episodes, report = (stem + s for s in (".ndjson", ".actions", ".episodes", ".json"))
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    subprocess.run([binary, "simulate", "--seed", str(seed), *SIM_ARGS, "--policy", policy,
                    "--effect", effect, "--out", events], **quiet)
    subprocess.run([binary, "replay", "--config", policy, "--events", events, "--actions", actions,
                    "--episodes", episodes], **quiet)
    subprocess.run([binary, "report", "--config", policy, "--episodes", episodes, "--actions", actions,
                    "--json", report], **quiet)
    with open(report) as f:
        result = json.load(f)
    for path in (events, actions, episodes, report):
        os.remove(path)
    return result


# The report's intervals of a metric: the fixed 95 % CI, CUPED's, the always-valid one.
INTERVALS = {"fixed": lambda x: x, "cuped": lambda x: x["cuped"], "always-valid": lambda x: x["sequential"]}


def coverage(reports, truth, interval="fixed"):
    """Per metric: (covered, runs) of the intervals that contain truth[metric]."""
    out = {}
    for m in METRICS:
        covered = runs = 0
        for r in reports:
            x = INTERVALS[interval](r["metrics"][m])
            if x is None or x["ci_low"] is None:
                continue
            runs += 1
            covered += x["ci_low"] <= truth[m] <= x["ci_high"]
        out[m] = (covered, runs)
    return out


def world_truth(reports_treated, reports_control):
    """Per metric: (true diff, its Monte Carlo standard error), from runs of the
    all-treated and all-control worlds: pooled per-episode means, with the
    standard error of each world's mean from the spread of per-run means."""
    truth = {}
    for m in METRICS:
        def pooled(reports, arm):
            n = [r["metrics"][m]["n_" + arm] for r in reports]
            s = [r["metrics"][m][arm] * k for r, k in zip(reports, n)]
            mean = sum(s) / sum(n)
            # ratio estimator's variance across runs (runs are independent)
            k = len(reports)
            nbar = sum(n) / k
            var = sum((si - mean * ni) ** 2 for si, ni in zip(s, n)) / (k - 1) / k / nbar**2
            return mean, var

        t, vt = pooled(reports_treated, "treatment")
        c, vc = pooled(reports_control, "control")
        truth[m] = (t - c, math.sqrt(vt + vc))
    return truth


def margin(p, n):
    return 1.959964 * math.sqrt(max(p * (1 - p), 1e-12) / n)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--binary", default=os.path.join(root, "build", "ghostwatch"))
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--lift", type=float, default=0.15)
    parser.add_argument("--truth-runs", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", help="write the figures here too")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="gw-calibrate-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None) as d:
        policies = {}
        for name, holdout in (("experiment", 50.0), ("all-treated", 0.0), ("all-control", 100.0)):
            policies[name] = os.path.join(d, name + ".toml")
            with open(policies[name], "w") as f:
                f.write(POLICY.format(holdout=holdout))
        effect = f"reply24h=+{args.lift}"

        def batch(policy, seeds, eff):
            with ThreadPoolExecutor(args.workers) as pool:
                return list(pool.map(lambda s: run_experiment(args.binary, d, policy, s, eff), seeds))

        n = args.runs
        aa = batch(policies["experiment"], range(1, n + 1), "none")
        fx = batch(policies["experiment"], range(100_001, 100_001 + n), effect)
        t_seeds = range(200_001, 200_001 + args.truth_runs)
        treated = batch(policies["all-treated"], t_seeds, effect)
        control = batch(policies["all-control"], range(300_001, 300_001 + args.truth_runs), effect)

    truth = world_truth(treated, control)
    episodes = sum(r["population"]["treatment"]["episodes"] + r["population"]["control"]["episodes"] for r in aa) / n
    print(f"{n} A/A and {n} known-effect experiments (lift P = {args.lift}), ~{episodes:.0f} population episodes each")
    print("true effects (all-treated minus all-control world, ± Monte Carlo se): " +
          ", ".join(f"{m} {truth[m][0]:+.4f} ± {truth[m][1]:.4f}" for m in METRICS))
    figures = {"runs": n, "lift": args.lift, "truth_runs": args.truth_runs,
               "truth": {m: {"effect": t, "se": se} for m, (t, se) in truth.items()}, "intervals": {}}
    for interval, pick in INTERVALS.items():
        aa_cov = coverage(aa, {m: 0.0 for m in METRICS}, interval)
        fx_cov = coverage(fx, {m: truth[m][0] for m in METRICS}, interval)
        print(f"\n{interval} 95 % interval")
        print(f"{'metric':<12} {'A/A covers 0':>20} {'effect covers truth':>22} {'mean diff':>10} {'mean se':>8}")
        figures["intervals"][interval] = {}
        for m in METRICS:
            (ca, na), (cf, nf) = aa_cov[m], fx_cov[m]
            if na == 0 or nf == 0:
                print(f"{m:<12} (no interval)")
                continue
            ra, rf = ca / na, cf / nf
            shown = [pick(r["metrics"][m]) for r in fx if pick(r["metrics"][m]) is not None]
            means = ""
            if interval != "always-valid":  # it has no se of its own
                means = (f"{sum(x['diff'] for x in shown) / len(shown):>+10.4f} "
                         f"{sum(x['se'] for x in shown) / len(shown):>8.4f}")
            print(f"{m:<12} {ra:>8.1%} ± {margin(ra, na):.1%} ({na})  {rf:>10.1%} ± {margin(rf, nf):.1%} ({nf})  {means}")
            figures["intervals"][interval][m] = {"aa_coverage": ra, "aa_runs": na, "effect_coverage": rf,
                                                 "effect_runs": nf}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
