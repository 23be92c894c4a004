#!/usr/bin/python3
"""Independent check of `ghostwatch report`'s JSON (docs/report.md).

Recomputes, from the episode and decision NDJSON files and the policy, every
population count, metric, confidence interval, p-value, the SRM test, the
cost counts, the Kaplan-Meier summaries and the log-rank test with numpy and
scipy (1.10 has no log-rank: it is written out here), sharing no code with
the C++, and compares them with the report (relative tolerance 1e-6, absolute 1e-9 near zero).
Prints each mismatch; exit status 0 when there is none, 1 otherwise.

usage: report_check.py POLICY.toml EPISODES.ndjson ACTIONS.ndjson REPORT.json [UNTIL]
"""
import json
import math
import sys
import tomllib
from datetime import datetime, timedelta

import numpy as np
from scipy import stats


def when(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))


def rfc3339(t):
    """The spec's UTC form: milliseconds only when non-zero."""
    ms = t.microsecond // 1000
    return t.strftime("%Y-%m-%dT%H:%M:%S") + (f".{ms:03d}" if ms else "") + "Z"


def rate_and_variance(ys, clusters):
    """Mean and the clustered variance (G/(G-1)) sum_g (sum_{i in g} (y_i - mean))^2 / n^2."""
    n = len(ys)
    if n == 0:
        return None, None, 0, 0
    y = np.asarray(ys, dtype=float)
    mean = float(y.mean())
    labels, inverse = np.unique(np.asarray(clusters), return_inverse=True)
    sums = np.bincount(inverse, weights=y - mean)
    g = len(labels)
    var = None if g < 2 else g / (g - 1) * float(np.sum(sums ** 2)) / n ** 2
    return mean, var, n, g


def compare(t_ys, t_cl, c_ys, c_cl):
    rt, vt, nt, gt = rate_and_variance(t_ys, t_cl)
    rc, vc, nc, gc = rate_and_variance(c_ys, c_cl)
    out = {"treatment": rt, "control": rc, "n_treatment": nt, "n_control": nc,
           "freelancers_treatment": gt, "freelancers_control": gc,
           "diff": None, "relative": None, "se": None, "ci_low": None, "ci_high": None, "p_value": None}
    if rt is None or rc is None:
        return out
    diff = rt - rc
    out["diff"] = diff
    out["relative"] = diff / rc if rc != 0 else None
    if vt is not None and vc is not None:
        se = math.sqrt(vt + vc)
        z = stats.norm.ppf(0.975)
        out.update(se=se, ci_low=diff - z * se, ci_high=diff + z * se)
        out["p_value"] = float(2 * stats.norm.sf(abs(diff) / se)) if se > 0 else None
    return out


def kaplan_meier(t, ev):
    """Event times, survival after each, and the median (first time with S <= 0.5)."""
    times = np.unique(t[ev])
    at_risk = np.array([np.sum(t >= x) for x in times], dtype=float)
    deaths = np.array([np.sum((t == x) & ev) for x in times], dtype=float)
    surv = np.cumprod(1 - deaths / at_risk) if len(times) else np.array([])
    below = np.nonzero(surv <= 0.5)[0]
    median = float(times[below[0]]) if len(below) else None
    return times, surv, median


def survival_at(times, surv, x):
    k = np.searchsorted(times, x, side="right")
    return 1.0 if k == 0 else float(surv[k - 1])


def logrank(t1, e1, t0, e0):
    """Mantel-Haenszel log-rank of arm 1 against arm 0."""
    t = np.concatenate([t1, t0])
    e = np.concatenate([e1, e0])
    observed = expected = var = 0.0
    for x in np.unique(t[e]):
        n1 = np.sum(t1 >= x)
        n = np.sum(t >= x)
        d1 = np.sum((t1 == x) & e1)
        d = np.sum((t == x) & e)
        observed += d1
        expected += d * n1 / n
        if n > 1:
            var += d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1)
    chi2 = (observed - expected) ** 2 / var if var > 0 else None
    return {"observed_treatment": float(observed), "expected_treatment": float(expected), "chi2": chi2,
            "p_value": float(stats.chi2.sf(chi2, 1)) if chi2 is not None else None}


def main(argv):
    policy_path, episodes_path, actions_path, report_path = argv[1:5]
    with open(policy_path, "rb") as f:
        policy = tomllib.load(f)
    holdout = float(policy["campaign"].get("holdout_percent", 0))
    with open(report_path) as f:
        report = json.load(f)

    episodes = {}
    times = []
    with open(episodes_path) as f:
        for line in f:
            e = json.loads(line)
            episodes[(e["contract"], e["episode"])] = e
            times.append(when(e["opened_at"]))
            if e["closed_at"] is not None:
                times.append(when(e["closed_at"]))
    decisions = {}
    with open(actions_path) as f:
        for line in f:
            d = json.loads(line)
            decisions.setdefault((d["contract"], d["episode"]), []).append(d)
            times.append(when(d["at"]))
    data_end = when(argv[5]) if len(argv) > 5 else max(times)

    pop = []
    for key, e in episodes.items():
        ds = decisions.get(key, [])
        if not e["in_segment"] or not ds:
            continue
        pop.append((e, min(when(d["at"]) for d in ds), ds))

    expected = {"campaign": policy["campaign"]["name"],
                "data_end": rfc3339(data_end),
                "population": {}, "cost": {}, "metrics": {}}
    for arm in ("treatment", "control"):
        mine = [p for p in pop if p[0]["arm"] == arm]
        freelancers = {p[0]["freelancer"] for p in mine}
        nudges = sum(1 for p in mine for d in p[2] if d["action"] == "nudge" and d["status"] == "sent")
        escalated = sum(1 for p in mine if any(d["action"] == "escalate" and d["status"] == "sent" for d in p[2]))
        expected["population"][arm] = {"episodes": len(mine), "freelancers": len(freelancers)}
        expected["cost"][arm] = {
            "nudges_sent": nudges, "escalated_episodes": escalated,
            "nudges_sent_per_freelancer": nudges / len(freelancers) if freelancers else None,
            "escalation_rate": escalated / len(mine) if mine else None}

    nt = expected["population"]["treatment"]["freelancers"]
    nc = expected["population"]["control"]["freelancers"]
    total = nt + nc
    exp_c = total * holdout / 100
    exp_t = total - exp_c
    if total > 0 and exp_c > 0 and exp_t > 0:
        chi2, p = stats.chisquare([nt, nc], [exp_t, exp_c])  # two categories: 1 degree of freedom
        expected["srm"] = {"treatment": nt, "control": nc, "expected_treatment": exp_t, "expected_control": exp_c,
                           "chi2": float(chi2), "p_value": float(p)}

    def metric(y_of):
        groups = {"treatment": ([], []), "control": ([], [])}
        for e, trigger, _ in pop:
            y = y_of(e, trigger)
            if y is not None:
                groups[e["arm"]][0].append(y)
                groups[e["arm"]][1].append(e["freelancer"])
        return compare(*groups["treatment"], *groups["control"])

    for hours in (24, 48, 72):
        window = timedelta(hours=hours)

        def reply(e, trigger, window=window):
            if trigger + window > data_end:
                return None
            return 1.0 if e["outcome"] == "replied" and when(e["closed_at"]) <= trigger + window else 0.0

        expected["metrics"][f"reply_{hours}h"] = metric(reply)
    expected["metrics"]["bad_outcome"] = metric(
        lambda e, _t: 1.0 if e["outcome"] == "contract_ended" and e.get("reason") in ("cancelled", "replaced") else 0.0)

    hour_ms = 3600 * 1000
    followed = {"treatment": ([], []), "control": ([], [])}
    for e, trigger, _ in pop:
        if trigger > data_end:
            continue
        end, event = data_end, False
        if e["closed_at"] is not None and when(e["closed_at"]) <= data_end:
            end, event = when(e["closed_at"]), e["outcome"] == "replied"
        followed[e["arm"]][0].append(max(0, (end - trigger) // timedelta(milliseconds=1)))
        followed[e["arm"]][1].append(event)
    arrays = {arm: (np.array(ts, dtype=np.int64), np.array(es, dtype=bool)) for arm, (ts, es) in followed.items()}
    expected["survival"] = {"logrank": logrank(*arrays["treatment"], *arrays["control"])}
    for arm, (t, ev) in arrays.items():
        times, surv, median = kaplan_meier(t, ev)
        curve = {"episodes": len(t), "events": int(ev.sum()), "censored": int((~ev).sum()),
                 "median_hours": median / hour_ms if median is not None else None}
        for hours in (24, 48, 72):
            curve[f"survival_{hours}h"] = survival_at(times, surv, hours * hour_ms)
        expected["survival"][arm] = curve

    problems = []

    def check(path, want, got):
        if isinstance(want, dict):
            if not isinstance(got, dict):
                problems.append(f"{path}: expected an object, report has {got!r}")
                return
            for k, v in want.items():
                if k not in got:
                    problems.append(f"{path}.{k}: missing from the report")
                else:
                    check(f"{path}.{k}", v, got[k])
        elif want is None or isinstance(want, str):
            if got != want:
                problems.append(f"{path}: expected {want!r}, report has {got!r}")
        elif isinstance(want, int) and not isinstance(want, bool):
            if got != want:
                problems.append(f"{path}: expected {want}, report has {got!r}")
        else:
            if got is None or not math.isclose(float(got), float(want), rel_tol=1e-6, abs_tol=1e-9):
                problems.append(f"{path}: expected {want!r}, report has {got!r}")

    check("report", expected, report)
    for p in problems:
        print(p)
    print(f"report_check: {len(pop)} population episodes, {len(problems)} mismatches")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
