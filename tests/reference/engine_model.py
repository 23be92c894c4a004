"""A second, deliberately plain implementation of the engine contract.

It follows ../shared/spec/engine.md sections 1 and 3 to 5 line by line,
with none of the engine's data structures (no timer queue, no interning, no
incremental watermark tricks): every pass scans all undecided steps, and the
quiet window's end is found by walking the zone minute by minute. It is slow
and small on purpose, so that random histories replayed by both (see
check_random_histories.py) catch a divergence of the fast engine from the
contract, in the corners the conformance cases do not reach.

Scope: every reject rule in its order (JSON by Python's parser with NaN and
Infinity refused; the line reader's UTF-8 handling is the line parser's
tests' and the fuzzer's business), every state rule and every firing rule. Where the spec is silent it does what docs/semantics.md
says.
"""

import hashlib
import json
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR

_STAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$")
_DURATION = re.compile(r"(\d+)([smhd])")
_UNIT = {"s": 1000, "m": MINUTE, "h": HOUR, "d": DAY}


def parse_time(text):
    """RFC 3339 as section 1 restricts it, to ms since the epoch; None if bad."""
    m = _STAMP.match(text)
    if not m:
        return None
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    if hour > 23 or minute > 59 or second > 59:
        return None
    try:
        base = datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
    except ValueError:
        return None
    millis = int((m.group(7) or "0")[:3].ljust(3, "0"))
    zone = m.group(8)
    offset = 0
    if zone not in ("Z", "z"):
        oh, om = int(zone[1:3]), int(zone[4:6])
        if oh > 23 or om > 59:
            return None
        offset = (oh * 60 + om) * (-1 if zone[0] == "-" else 1)
    return int(base.timestamp()) * 1000 + millis - offset * MINUTE


def format_time(ms):
    secs, millis = divmod(ms, 1000)
    text = datetime.fromtimestamp(secs, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return text + (".%03d" % millis if millis else "") + "Z"


def parse_duration(text):
    total, pos = 0, 0
    for m in _DURATION.finditer(text):
        if m.start() != pos:
            raise ValueError(text)
        total += int(m.group(1)) * _UNIT[m.group(2)]
        pos = m.end()
    if pos != len(text) or pos == 0:
        raise ValueError(text)
    return total


class Policy:
    """The TOML config, already loaded into a dict (tomllib)."""

    def __init__(self, config):
        campaign = config.get("campaign", {})
        segment = config.get("segment", {})
        limits = config.get("limits", {})
        self.start = parse_time(campaign["start"]) if "start" in campaign else None
        self.end = parse_time(campaign["end"]) if "end" in campaign else None
        self.holdout_cut = int(float(campaign.get("holdout_percent", 0)) * 100 + 0.5)
        self.salt = campaign.get("salt", "")
        self.lateness = parse_duration(campaign.get("allowed_lateness", "0s"))
        self.include = {c.upper() for c in segment.get("countries_include", [])}
        self.exclude = {c.upper() for c in segment.get("countries_exclude", [])}
        self.kinds = set(segment.get("kinds", []))
        self.cap = limits.get("max_nudges_per_day", 0)
        quiet = limits.get("quiet_hours", "")
        self.quiet = None
        if quiet:
            a, b = quiet.split("-")
            self.quiet = (int(a[:2]) * 60 + int(a[3:]), int(b[:2]) * 60 + int(b[3:]))
        self.ladder = [dict(step, after=parse_duration(step["after"])) for step in config["ladder"]]

    def arm(self, freelancer):
        digest = hashlib.sha256((self.salt + ":" + freelancer).encode()).digest()
        bucket = int.from_bytes(digest[:8], "big") % 10000
        return "control" if bucket < self.holdout_cut else "treatment"

    def in_segment(self, user):
        country = user.get("country")
        country = country.upper() if country is not None else None
        if self.include and country not in self.include:
            return False
        if country is not None and country in self.exclude:
            return False
        if self.kinds and user.get("kind") not in self.kinds:
            return False
        return True


def _zone(name):
    try:
        return ZoneInfo(name) if name else timezone.utc
    except (ValueError, OSError, KeyError):
        return timezone.utc


def _local_minute_of_day(ms, zone):
    local = datetime.fromtimestamp(ms / 1000, timezone.utc).astimezone(zone)
    return local.hour * 60 + local.minute


def _inside(minute_of_day, window):
    start, end = window
    if start < end:
        return start <= minute_of_day < end
    return minute_of_day >= start or minute_of_day < end


def quiet_window_end(ms, window, zone):
    """The first instant after ms whose local wall time is outside the window,
    or None when ms is outside. Offsets of the zones tested are whole
    minutes and change at whole UTC minutes, so the answer is one."""
    if not _inside(_local_minute_of_day(ms, zone), window):
        return None
    t = (ms // MINUTE + 1) * MINUTE
    while _inside(_local_minute_of_day(t, zone), window):
        t += MINUTE
    return t


class Episode:
    def __init__(self, contract, number, opened_at, in_segment):
        self.contract = contract
        self.number = number
        self.opened_at = opened_at
        self.in_segment = in_segment
        self.steps_sent = 0
        # step index (0-based) -> effective time, for undecided steps
        self.undecided = {}


class Contract:
    def __init__(self, cid, client, freelancer):
        self.id = cid
        self.client = client
        self.freelancer = freelancer
        self.last_fl_at = None
        self.last_client_at = None
        self.episode = None
        self.episodes = 0
        self.ended = False


_REQUIRED = {
    "user": ["id"],
    "contract_started": ["contract", "client", "freelancer"],
    "contract_ended": ["contract"],
    "message": ["contract", "from"],
    "opt_out": ["user"],
    "opt_in": ["user"],
}
_OPTIONAL = {
    "user": ["role", "country", "tz", "email", "name", "kind"],
    "contract_ended": ["reason"],
    "message": ["id"],
}


class _Object(dict):
    """A JSON object that remembers which keys it had more than once."""

    duplicates = frozenset()


def _object(pairs):
    obj, duplicates = _Object(), set()
    for key, value in pairs:
        if key in obj:
            duplicates.add(key)
        obj[key] = value
    obj.duplicates = duplicates
    return obj


def _not_json(name):
    raise ValueError(name + " is not JSON")


def read_event(line):
    """The line as a JSON object (an _Object), or None when rule 1 rejects it."""
    try:
        event = json.loads(line, object_pairs_hook=_object, parse_constant=_not_json)
    except ValueError:
        return None
    return event if isinstance(event, _Object) else None


class Model:
    def __init__(self, policy):
        self.policy = policy
        self.users = {}
        self.opted_out = set()
        self.contracts = {}
        self.watermark = None  # minus infinity
        self.sent_nudges = {}  # freelancer -> [stamp]
        self.actions, self.episodes, self.rejects = [], [], []
        self.largest_at = None

    # -- input -------------------------------------------------------------

    def replay(self, lines, until=None):
        for number, line in enumerate(lines, 1):
            if line.endswith("\r"):
                line = line[:-1]
            if line.strip(" \t") == "":
                continue
            event = read_event(line)
            reason = self._check(event) if event is not None else "bad_json"
            if reason:
                self.rejects.append({"line": number, "reason": reason, "raw": line})
                continue
            at = parse_time(event["at"])
            self.largest_at = at if self.largest_at is None else max(self.largest_at, at)
            w2 = at - self.policy.lateness
            if self.watermark is not None:
                w2 = max(self.watermark, w2)
            self._evaluate(lambda t: t < w2)
            self.watermark = w2
            self._apply(event, at)
        if until is None:
            until = self.largest_at
        if until is not None:
            self._evaluate(lambda t: t <= until)
        for cid in sorted(self.contracts, key=lambda c: c.encode()):
            episode = self.contracts[cid].episode
            if episode is not None:
                self._episode_record(episode, "open", None)

    def _check(self, e):
        if "type" not in e or "at" not in e:
            return "missing_field"
        if not isinstance(e["type"], str) or not isinstance(e["at"], str) or {"type", "at"} & e.duplicates:
            return "bad_field"
        kind = e["type"]
        if kind not in _REQUIRED:
            return "unknown_type"
        if any(f not in e for f in _REQUIRED[kind]):
            return "missing_field"
        listed = _REQUIRED[kind] + _OPTIONAL.get(kind, [])
        if any(f in e and (not isinstance(e[f], str) or f in e.duplicates) for f in listed):
            return "bad_field"
        if parse_time(e["at"]) is None:
            return "bad_time"
        if kind == "contract_started":
            if e["contract"] in self.contracts:
                return "duplicate_contract"
            if e["client"] == e["freelancer"]:
                return "bad_field"
        if kind in ("contract_ended", "message"):
            contract = self.contracts.get(e["contract"])
            if contract is None:
                return "unknown_contract"
            if contract.ended:
                return "contract_ended"
            if kind == "message" and e["from"] not in (contract.client, contract.freelancer):
                return "not_a_party"
        return None

    def _apply(self, e, at):
        kind = e["type"]
        if kind == "user":
            user = self.users.setdefault(e["id"], {})
            for field in _OPTIONAL["user"]:
                if field in e:
                    user[field] = e[field]
        elif kind == "opt_out":
            self.opted_out.add(e["user"])
        elif kind == "opt_in":
            self.opted_out.discard(e["user"])
        elif kind == "contract_started":
            self.contracts[e["contract"]] = Contract(e["contract"], e["client"], e["freelancer"])
        elif kind == "contract_ended":
            contract = self.contracts[e["contract"]]
            contract.ended = True
            if contract.episode is not None:
                self._close(contract, "contract_ended", at, reason=e.get("reason"))
        else:
            contract = self.contracts[e["contract"]]
            if e["from"] == contract.client:
                contract.last_client_at = at if contract.last_client_at is None else max(contract.last_client_at, at)
                if contract.episode is None and (contract.last_fl_at is None or at > contract.last_fl_at):
                    self._open(contract, at)
            else:
                contract.last_fl_at = at if contract.last_fl_at is None else max(contract.last_fl_at, at)
                episode = contract.episode
                if episode is not None and at >= episode.opened_at:
                    self._close(contract, "replied", at)
                    if contract.last_client_at > at:
                        self._open(contract, contract.last_client_at)

    def _open(self, contract, pending_since):
        contract.episodes += 1
        user = self.users.get(contract.freelancer, {})
        episode = Episode(contract, contract.episodes, pending_since, self.policy.in_segment(user))
        for i, step in enumerate(self.policy.ladder):
            episode.undecided[i] = pending_since + step["after"]
        contract.episode = episode

    def _close(self, contract, outcome, at, reason=None):
        episode = contract.episode
        episode.undecided.clear()
        contract.episode = None
        self._episode_record(episode, outcome, at, reason)

    def _episode_record(self, episode, outcome, closed_at, reason=None):
        contract = episode.contract
        record = {
            "contract": contract.id, "episode": episode.number, "freelancer": contract.freelancer,
            "client": contract.client, "arm": self.policy.arm(contract.freelancer),
            "in_segment": episode.in_segment, "opened_at": format_time(episode.opened_at),
            "closed_at": format_time(closed_at) if closed_at is not None else None, "outcome": outcome,
            "response_seconds": (closed_at - episode.opened_at) // 1000 if outcome == "replied" else None,
            "steps_sent": episode.steps_sent,
        }
        if outcome == "contract_ended":
            record["reason"] = reason
        self.episodes.append(record)

    # -- firing ------------------------------------------------------------

    def _evaluate(self, due):
        while True:
            candidates = [(t, c.id.encode(), i, c.episode)
                          for c in self.contracts.values() if c.episode is not None
                          for i, t in c.episode.undecided.items() if due(t)]
            if not candidates:
                return
            t, _, i, episode = min(candidates, key=lambda x: x[:3])
            self._decide(episode, i, t)

    def _decide(self, episode, i, t):
        policy, contract = self.policy, episode.contract
        step = policy.ladder[i]
        user = self.users.get(contract.freelancer, {})
        if (policy.start is not None and t < policy.start) or (policy.end is not None and t >= policy.end) \
                or not policy.in_segment(user):
            del episode.undecided[i]
            return
        if policy.quiet is not None:
            end = quiet_window_end(t, policy.quiet, _zone(user.get("tz")))
            if end is not None:
                episode.undecided[i] = end
                return
        del episode.undecided[i]
        status, reason = "sent", None
        arm = policy.arm(contract.freelancer)
        nudge = step["action"] == "nudge"
        if any(episode.opened_at + later["after"] <= t for later in policy.ladder[i + 1:]):
            status, reason = "skipped", "superseded"
        elif arm == "control":
            status = "held_out"
        elif nudge and contract.freelancer in self.opted_out:
            status, reason = "suppressed", "opted_out"
        elif nudge and policy.cap and sum(
                1 for s in self.sent_nudges.get(contract.freelancer, []) if abs(s - t) < DAY) >= policy.cap:
            status, reason = "suppressed", "frequency_cap"
        record = {"at": format_time(t), "contract": contract.id, "episode": episode.number, "step": i + 1,
                  "action": step["action"]}
        record["template" if nudge else "team"] = step["template" if nudge else "team"]
        record.update({"freelancer": contract.freelancer, "client": contract.client, "arm": arm, "status": status})
        if reason:
            record["reason"] = reason
        self.actions.append(record)
        if status == "sent":
            episode.steps_sent += 1
            if nudge:
                self.sent_nudges.setdefault(contract.freelancer, []).append(t)
