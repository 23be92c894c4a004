#!/usr/bin/env python3
"""Replays random histories with `ghostwatch replay` and with engine_model.py
and fails on the first difference in actions, episodes or rejects.

usage: check_random_histories.py BINARY [--seeds N] [--first S] [--keep DIR]

Each seed draws a policy (ladder, campaign window, holdout, segment, cap,
quiet hours, allowed lateness) and a small marketplace whose events straddle
DST changes in several zones, arrive partly out of order, update users,
opt out and in, end contracts, break the state rules, and now and then
break (or only bend) section 1's rules for a line. A failing seed's
files are kept (under --keep, default a temporary directory) and named, so
`ghostwatch replay` can be rerun on them by hand.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import tomllib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from engine_model import DAY, HOUR, MINUTE, Model, Policy, format_time, parse_duration, parse_time  # noqa: E402

ZONES = ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata", "Asia/Kathmandu",
         "America/Sao_Paulo", "Pacific/Chatham", "UTC", "Not/AZone", ""]
COUNTRIES = ["US", "us", "DE", "IN", "np", "BR", "GB", ""]
KINDS = ["individual", "agency", "Agency"]
# Starts a few days before a DST change in one of the zones above.
SEASONS = ["2019-03-07T00:00:00Z", "2019-03-28T00:00:00Z", "2019-04-04T00:00:00Z",
           "2019-10-24T00:00:00Z", "2019-10-31T00:00:00Z", "2019-09-26T00:00:00Z"]
DURATIONS = ["30m", "1h", "90m", "3h", "6h", "12h", "1d", "1d12h", "2d", "3d", "5d"]


def random_policy(rng):
    lines = ["[campaign]", 'name = "random"']
    if rng.random() < 0.3:
        lines.append('salt = "%s"' % rng.choice(["a", "ag-2019", "x:y"]))
    if rng.random() < 0.5:
        lines.append("holdout_percent = %s" % rng.choice(["0", "10", "33.335", "50", "100", "0.004", "0.005"]))
    if rng.random() < 0.4:
        lines.append('allowed_lateness = "%s"' % rng.choice(["0s", "30m", "2h", "1d"]))
    window = []
    if rng.random() < 0.25:
        window.append(("start", rng.randrange(0, 5 * DAY)))
    if rng.random() < 0.25:
        window.append(("end", rng.randrange(6 * DAY, 14 * DAY)))
    lines.append("[segment]")
    if rng.random() < 0.3:
        lines.append("countries_include = %s" % json.dumps(rng.sample(["us", "DE", "IN", "NP", "BR"], 2)))
    if rng.random() < 0.3:
        lines.append("countries_exclude = %s" % json.dumps(rng.sample(["US", "gb", "de", "IN"], 2)))
    if rng.random() < 0.2:
        lines.append("kinds = %s" % json.dumps(rng.sample(KINDS, 1)))
    lines.append("[limits]")
    if rng.random() < 0.6:
        lines.append("max_nudges_per_day = %d" % rng.choice([0, 1, 2, 3]))
    if rng.random() < 0.7:
        start = rng.choice(["22:00", "21:30", "00:00", "01:45", "23:00", "02:00"])
        end = rng.choice(["08:00", "02:30", "03:15", "06:00", "01:00"])
        if start != end:
            lines.append('quiet_hours = "%s-%s"' % (start, end))
    afters = sorted(rng.sample(DURATIONS, rng.randint(1, 4)), key=parse_duration)
    for n, after in enumerate(afters, 1):
        if rng.random() < 0.75:
            lines += ["[[ladder]]", 'after = "%s"' % after, 'action = "nudge"', 'template = "r%d"' % n]
        else:
            lines += ["[[ladder]]", 'after = "%s"' % after, 'action = "escalate"', 'team = "io"']
    return lines, window


def stamp(rng, ms):
    """ms as one of the spellings section 1 allows."""
    form = rng.random()
    if form < 0.6:
        return format_time(ms)
    if form < 0.75:
        offset = rng.choice([-330, -240, 0, 60, 345, 600, 825])
        text = format_time(ms + offset * MINUTE)[:-1]
        if "." not in text and rng.random() < 0.5:
            text += ".%03d%s" % (rng.randrange(1000), rng.choice(["", "999"]))
        sign = "-" if offset < 0 else "+"
        return text + "%s%02d:%02d" % (sign, abs(offset) // 60, abs(offset) % 60)
    text = format_time(ms)
    return text.replace("T", "t").replace("Z", "z")


BAD_STAMPS = ["2019-03-07 10:00:00Z", "2019-03-07T23:59:60Z", "2019-03-07T10:00:00", "2019-03-07T10:00:00.Z",
              "2019-13-01T00:00:00Z", "2019-03-07T10:00:00+24:00", "7 March 2019"]
NOT_OBJECTS = ["[1]", '"event"', "null", "{", '{"type":"user",}', '{"type":"user","at":NaN,"id":"f0"}', "{} {}",
               '{"type":"user","at":"2019-03-07T00:00:00Z","id":"f0"} x']


def mangle(rng, e):
    """One line breaking (or only bending) section 1's rules, from event e."""
    e = dict(e)
    form = rng.randrange(9)
    if form == 0:
        del e[rng.choice(list(e))]
    elif form == 1:
        e[rng.choice(list(e))] = rng.choice([None, 5, True, {"x": 1}, ["a"]])
    elif form == 2:
        e["at"] = rng.choice(BAD_STAMPS)
    elif form == 3:
        e["type"] = rng.choice(["note", "User", ""])
    elif form == 4:
        key = rng.choice(list(e))
        return json.dumps(e)[:-1] + ', "%s": %s}' % (key, json.dumps(rng.choice([e[key], "other", 7])))
    elif form == 5:
        return rng.choice(NOT_OBJECTS)
    elif form == 6:  # valid: an escaped key, unknown fields, spaces around
        text = json.dumps(dict(e, extra={"n": [1, 2.5, None, {"deep": [True]}]}, big=0))
        return " \t" + text.replace('"type"', '"typ\\u0065"').replace('"big": 0', '"big": 1e400') + " "
    elif form == 7:
        return json.dumps(e) + "\r"
    else:
        return " \t "
    return json.dumps(e)


def random_history(rng, base):
    freelancers = ["f%d" % i for i in range(rng.randint(2, 6))]
    clients = ["k%d" % i for i in range(rng.randint(1, 3))]
    events = []  # (ms, object or raw line)

    def user(at, uid):
        e = {"type": "user", "at": at, "id": uid}
        for field, choices in (("tz", ZONES), ("country", COUNTRIES), ("kind", KINDS)):
            if rng.random() < 0.7:
                e[field] = rng.choice(choices)
        return e

    for uid in freelancers + clients:
        if rng.random() < 0.85:
            events.append((base, user(base, uid)))
    contracts = []
    for n in range(rng.randint(2, 7)):
        cid = rng.choice(["c%d" % n, "C%d" % n, "é%d" % n, "c%d0" % n])
        client, freelancer = rng.choice(clients), rng.choice(freelancers)
        start = base + rng.randrange(0, 2 * DAY)
        events.append((start, {"type": "contract_started", "at": start, "contract": cid, "client": client,
                               "freelancer": freelancer}))
        contracts.append((cid, client, freelancer, start))
    span = 12 * DAY
    for cid, client, freelancer, start in contracts:
        t = start
        for _ in range(rng.randint(0, 25)):
            t += rng.choice([0, MINUTE, 20 * MINUTE, HOUR, 5 * HOUR, 20 * HOUR, DAY + 7 * HOUR, 3 * DAY])
            # Whole hours often, so that due times meet quiet windows' ends
            # and one another exactly; otherwise a few milliseconds off.
            t = t // HOUR * HOUR if rng.random() < 0.4 else t + rng.choice([0, 1, 999, 1500])
            sender = client if rng.random() < 0.6 else freelancer
            if rng.random() < 0.03:
                sender = rng.choice(freelancers + clients + ["stranger"])
            events.append((t, {"type": "message", "at": t, "contract": cid, "from": sender}))
        if rng.random() < 0.4:
            end = start + rng.randrange(HOUR, span)
            e = {"type": "contract_ended", "at": end, "contract": cid}
            if rng.random() < 0.7:
                e["reason"] = rng.choice(["completed", "cancelled", "replaced"])
            events.append((end, e))
    for _ in range(rng.randint(0, 6)):
        t = base + rng.randrange(0, span)
        kind = rng.random()
        if kind < 0.4:
            events.append((t, {"type": rng.choice(["opt_out", "opt_in"]), "at": t,
                               "user": rng.choice(freelancers)}))
        elif kind < 0.7:
            events.append((t, user(t, rng.choice(freelancers))))
        elif kind < 0.8:
            events.append((t, {"type": "contract_started", "at": t, "contract": "dup",
                               "client": "k0", "freelancer": "k0"}))
        elif kind < 0.9:
            events.append((t, {"type": "message", "at": t, "contract": "nowhere", "from": "k0"}))
        else:
            events.append((t, {"type": "message", "at": "2019-02-30T00:00:00Z", "contract": "c0", "from": "k0"}))
    events.sort(key=lambda x: x[0])
    # Out of order: some events swap with a neighbour within a few hours.
    for i in range(len(events) - 1):
        if rng.random() < 0.12 and events[i + 1][0] - events[i][0] < 8 * HOUR:
            events[i], events[i + 1] = events[i + 1], events[i]
    lines = []
    for _, e in events:
        if isinstance(e["at"], int):
            e = dict(e, at=stamp(rng, e["at"]))
        if rng.random() < 0.05:
            lines.append(mangle(rng, e))
        else:
            lines.append(json.dumps(e, ensure_ascii=rng.random() < 0.5))
        if rng.random() < 0.02:
            lines.append("")
    return lines


def sorted_rows(path):
    with open(path, encoding="utf-8") as f:
        return sorted(json.dumps(json.loads(line), sort_keys=True, ensure_ascii=False) for line in f if line.strip())


def check(binary, seed, keep):
    rng = random.Random(seed)
    base = parse_time(rng.choice(SEASONS))
    policy_lines, window = random_policy(rng)
    for key, offset in window:
        policy_lines.insert(2, '%s = "%s"' % (key, format_time(base + offset)))
    policy_text = "\n".join(policy_lines) + "\n"
    lines = random_history(rng, base)
    until = None
    if rng.random() < 0.3:
        until = base + rng.randrange(DAY, 16 * DAY)
    model = Model(Policy(tomllib.loads(policy_text)))
    model.replay(lines, until)

    work = os.path.join(keep, "seed-%d" % seed)
    os.makedirs(work, exist_ok=True)
    with open(os.path.join(work, "policy.toml"), "w", encoding="utf-8") as f:
        f.write(policy_text)
    with open(os.path.join(work, "events.ndjson"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    args = [binary, "replay", "--config", os.path.join(work, "policy.toml"),
            "--events", os.path.join(work, "events.ndjson")]
    if until is not None:
        args += ["--until", format_time(until)]
    for kind in ("actions", "episodes", "rejects"):
        args += ["--" + kind, os.path.join(work, kind + ".ndjson")]
    run = subprocess.run(args, capture_output=True, text=True)
    if run.returncode != 0:
        return "seed %d: exit status %d: %s" % (seed, run.returncode, run.stderr.strip()[-300:])
    expected = {"actions": model.actions, "episodes": model.episodes,
                "rejects": [{"line": r["line"], "reason": r["reason"], "raw": r["raw"]} for r in model.rejects]}
    for kind, rows in expected.items():
        want = sorted(json.dumps(r, sort_keys=True, ensure_ascii=False) for r in rows)
        got = sorted_rows(os.path.join(work, kind + ".ndjson"))
        if kind == "rejects":
            got = sorted(json.dumps({k: json.loads(r)[k] for k in ("line", "reason", "raw")}, sort_keys=True,
                                    ensure_ascii=False) for r in got)
        if want != got:
            missing = sorted(set(want) - set(got))[:3]
            extra = sorted(set(got) - set(want))[:3]
            return "seed %d: %s differ (files in %s)\n  model only: %s\n  engine only: %s" % (
                seed, kind, work, "\n    ".join(missing), "\n    ".join(extra))
    for name in os.listdir(work):
        os.remove(os.path.join(work, name))
    os.rmdir(work)
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--seeds", type=int, default=300)
    parser.add_argument("--first", type=int, default=1)
    parser.add_argument("--keep", default=None)
    opts = parser.parse_args()
    keep = opts.keep or tempfile.mkdtemp(prefix="ghostwatch-reference-")
    failures = 0
    for seed in range(opts.first, opts.first + opts.seeds):
        problem = check(opts.binary, seed, keep)
        if problem:
            failures += 1
            print(problem)
            if failures == 5:
                break
    print("random histories: %d seeds, %d differ from the model" % (opts.seeds, failures))
    if failures == 0 and opts.keep is None:
        os.rmdir(keep)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
