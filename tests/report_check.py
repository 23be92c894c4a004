#!/usr/bin/python3
"""Independent check of `ghostwatch report`'s JSON (docs/report.md).

Recomputes, from the episode and decision NDJSON files and the policy, every
population count, metric, confidence interval, p-value, the SRM test, the
cost counts, the Kaplan-Meier summaries and the log-rank test with numpy and
scipy (1.10 has no log-rank: it is written out here), each metric's CUPED
adjustment and always-valid interval, and, with --events, the opt-out rate
and the breakdowns by country and kind (reading the events file with its own
reading of the spec's acceptance rules for user and opt_out lines), sharing
no code with the C++, and compares them with the report (relative tolerance
1e-6, absolute 1e-9 near zero). Prints each mismatch; exit status 0 when
there is none, 1 otherwise.

usage: report_check.py [--events EVENTS.ndjson] POLICY.toml EPISODES.ndjson ACTIONS.ndjson REPORT.json [UNTIL]
"""
import json
import math
import re
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
        z = 1.959964  # the definition's constant (issue #6), not norm.ppf(0.975): they differ by 2e-8, visible near 0
        out.update(se=se, ci_low=diff - z * se, ci_high=diff + z * se)
        out["p_value"] = float(2 * stats.norm.sf(abs(diff) / se)) if se > 0 else None
    return out


def duration(text):
    """The spec's durations: <int><unit> pieces, units s m h d."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    return timedelta(seconds=sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([smhd])", text)))


def sequential(diff, se, tau=0.05, alpha=0.05):
    """Johari et al.'s normal-mixture mSPRT: the always-valid interval and p-value."""
    if diff is None or se is None or se <= 0:
        return {"tau": tau, "ci_low": None, "ci_high": None, "p_value": None}
    v, t2 = se * se, tau * tau
    half = math.sqrt(v * (v + t2) / t2 * (2 * math.log(1 / alpha) + math.log((v + t2) / v)))
    likelihood_ratio = math.sqrt(v / (v + t2)) * math.exp(t2 * diff * diff / (2 * v * (v + t2)))
    return {"tau": tau, "ci_low": diff - half, "ci_high": diff + half, "p_value": min(1.0, 1 / likelihood_ratio)}


def cuped(rows):
    """rows: (arm, y, x, freelancer). theta from both arms pooled; the compare() of z = y - theta (x - mean x)."""
    x = np.array([r[2] for r in rows], dtype=float)
    y = np.array([r[1] for r in rows], dtype=float)
    xc = x - x.mean()
    sxx = float(np.sum(xc * xc))
    theta = float(np.sum(xc * (y - y.mean())) / sxx) if sxx > 0 else 0.0
    z = y - theta * xc
    arms = {"treatment": ([], []), "control": ([], [])}
    for (arm, _, _, fl), zi in zip(rows, z):
        arms[arm][0].append(zi)
        arms[arm][1].append(fl)
    c = compare(*arms["treatment"], *arms["control"])
    return theta, c


RFC3339 = re.compile(r"^(\d{4}-\d{2}-\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
USER_FIELDS = {"user": ("id", ["id", "role", "country", "tz", "email", "name", "kind"]), "opt_out": ("user", ["user"])}


def accepted_user_event(raw):
    """A user or opt_out event the spec accepts (rules 1-7), else None."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None

    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise ValueError("duplicate key")
        return dict(pairs)

    def no_constant(_):
        raise ValueError("NaN")

    try:
        e = json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constant)
    except ValueError:
        return None
    if not isinstance(e, dict) or e.get("type") not in USER_FIELDS or not isinstance(e.get("at"), str):
        return None
    required, listed = USER_FIELDS[e["type"]]
    if required not in e or any(k in e and not isinstance(e[k], str) for k in listed):
        return None
    m = RFC3339.match(e["at"])
    if not m or int(m.group(2)) > 23 or int(m.group(3)) > 59 or int(m.group(4)) > 59:
        return None
    fraction = (m.group(5) or ".0")[1:4].ljust(3, "0")
    zone = "+00:00" if m.group(6) in "Zz" else m.group(6)
    try:
        e["at"] = datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}:{m.group(3)}:{m.group(4)}.{fraction}{zone}")
    except ValueError:
        return None
    return e


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
    events_path = None
    if len(argv) > 2 and argv[1] == "--events":
        events_path = argv[2]
        argv = argv[:1] + argv[3:]
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
    def bad(e, _t=None):
        return 1.0 if e["outcome"] == "contract_ended" and e.get("reason") in ("cancelled", "replaced") else 0.0

    expected["metrics"]["bad_outcome"] = metric(bad)
    for m in expected["metrics"].values():
        m["sequential"] = sequential(m["diff"], m["se"])

    # CUPED: pre-period episodes end their metric window by the campaign start
    # (else the first decision); each freelancer's pre-period mean is x.
    start = policy["campaign"].get("start")
    pre_end = when(start) if start else (min(when(d["at"]) for ds in decisions.values() for d in ds) if decisions else None)
    expected["pre_period_end"] = rfc3339(pre_end) if pre_end else None
    first_after = duration(policy["ladder"][0]["after"])
    windows = {"reply_24h": 24, "reply_48h": 48, "reply_72h": 72, "bad_outcome": None}
    for name, hours in windows.items():
        pre = {}
        for e in episodes.values():
            if pre_end is None:
                break
            w = when(e["opened_at"]) + first_after
            closed = when(e["closed_at"]) if e["closed_at"] is not None else None
            if closed is not None and closed <= w:
                continue
            if hours is None:
                if w > pre_end:
                    continue
                y = 1.0 if bad(e) and closed <= pre_end else 0.0
            else:
                if w + timedelta(hours=hours) > pre_end:
                    continue
                y = 1.0 if e["outcome"] == "replied" and closed <= w + timedelta(hours=hours) else 0.0
            pre.setdefault(e["freelancer"], []).append(y)
        rows = []
        for e, trigger, _ in pop:
            if hours is None:
                y = bad(e)
            elif trigger + timedelta(hours=hours) > data_end:
                continue
            else:
                y = 1.0 if e["outcome"] == "replied" and when(e["closed_at"]) <= trigger + timedelta(hours=hours) else 0.0
            x = float(np.mean(pre[e["freelancer"]])) if e["freelancer"] in pre else None
            rows.append((e["arm"], y, x, e["freelancer"]))
        known = [r[2] for r in rows if r[2] is not None]
        if not known:
            expected["metrics"][name]["cuped"] = None
            continue
        fill = float(np.mean(known))
        theta, c = cuped([(a, y, fill if x is None else x, fl) for a, y, x, fl in rows])
        plain_se = expected["metrics"][name]["se"]
        expected["metrics"][name]["cuped"] = {
            "theta": theta, "episodes_with_pre_period": len(known),
            **{k: c[k] for k in ("treatment", "control", "diff", "se", "ci_low", "ci_high", "p_value")},
            "variance_reduction": 1 - (c["se"] / plain_se) ** 2}

    if events_path:
        first_trigger = {}
        for e, trigger, _ in pop:
            fl = e["freelancer"]
            first_trigger[fl] = min(first_trigger.get(fl, trigger), trigger)
        attrs = {fl: {"country": None, "kind": None} for fl in first_trigger}
        opt_outs = {}
        with open(events_path, "rb") as f:
            for raw in f:
                ev = accepted_user_event(raw.rstrip(b"\n").rstrip(b"\r"))
                if ev is None:
                    continue
                fl = ev["id"] if ev["type"] == "user" else ev["user"]
                if fl not in first_trigger:
                    continue
                if ev["type"] == "user" and ev["at"] <= first_trigger[fl]:
                    if "country" in ev:
                        attrs[fl]["country"] = ev["country"].upper()
                    if "kind" in ev:
                        attrs[fl]["kind"] = ev["kind"]
                elif ev["type"] == "opt_out" and first_trigger[fl] < ev["at"] <= data_end:
                    opt_outs[fl] = True
        arm_of = {}
        for e, _, _ in pop:
            arm_of.setdefault(e["freelancer"], e["arm"])
        groups = {"treatment": ([], []), "control": ([], [])}
        for fl, arm in arm_of.items():
            groups[arm][0].append(1.0 if fl in opt_outs else 0.0)
            groups[arm][1].append(fl)
        opt = compare(*groups["treatment"], *groups["control"])
        opt["opted_out_treatment"] = int(sum(groups["treatment"][0]))
        opt["opted_out_control"] = int(sum(groups["control"][0]))
        expected["cost"]["opt_out"] = opt
        expected["breakdowns"] = {}
        for attribute in ("country", "kind"):
            values = sorted({attrs[e["freelancer"]][attribute] for e, _, _ in pop}, key=lambda v: (v is not None, v or ""))
            out = []
            for value in values:
                mine = [p for p in pop if attrs[p[0]["freelancer"]][attribute] == value]

                def group_metric(y_of, mine=mine):
                    g = {"treatment": ([], []), "control": ([], [])}
                    for e, trigger, _ in mine:
                        y = y_of(e, trigger)
                        if y is not None:
                            g[e["arm"]][0].append(y)
                            g[e["arm"]][1].append(e["freelancer"])
                    return compare(*g["treatment"], *g["control"])

                metrics = {}
                for hours in (24, 48, 72):
                    def reply(e, trigger, window=timedelta(hours=hours)):
                        if trigger + window > data_end:
                            return None
                        return 1.0 if e["outcome"] == "replied" and when(e["closed_at"]) <= trigger + window else 0.0
                    metrics[f"reply_{hours}h"] = group_metric(reply)
                metrics["bad_outcome"] = group_metric(bad)
                out.append({"group": value,
                            "episodes_treatment": sum(1 for p in mine if p[0]["arm"] == "treatment"),
                            "episodes_control": sum(1 for p in mine if p[0]["arm"] == "control"),
                            "metrics": metrics})
            expected["breakdowns"][attribute] = out

    daily = {}
    for e, trigger, _ in pop:
        day = trigger.date()
        daily.setdefault(day, {"treatment": 0, "control": 0})[e["arm"]] += 1
    expected["daily_triggers"] = []
    if daily:
        day, last = min(daily), max(daily)
        while day <= last:
            counts = daily.get(day, {"treatment": 0, "control": 0})
            expected["daily_triggers"].append({"date": day.isoformat(), **counts})
            day += timedelta(days=1)

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
        if isinstance(want, list):
            if not isinstance(got, list) or len(got) != len(want):
                problems.append(f"{path}: expected a list of {len(want)}, report has {got!r:.200}")
                return
            for i, (w, g) in enumerate(zip(want, got)):
                check(f"{path}[{i}]", w, g)
        elif isinstance(want, dict):
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
