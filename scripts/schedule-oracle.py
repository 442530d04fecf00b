#!/usr/bin/env python3
"""Independent oracles for the schedule engine's differential test (docs/schedules.md).

Reads JSON lines from stdin, one schedule question per line:

    {"kind": "cron" | "rrule", "expr": "...", "tz": "Europe/Berlin",
     "start": <epoch microseconds>, "after": <epoch microseconds>, "count": 50}

and writes one JSON line per question, in order: {"times": [<epoch microseconds>, ...]} with the next `count`
fire times strictly after `after` (ascending, distinct), or {"error": "..."} when the oracle refuses the
expression. Cron answers come from `cronsim`, RRULE answers from `dateutil.rrule.rrulestr`, both with
`zoneinfo` time zones. Install them with scripts/install-oracles.

The few rules applied on top of the libraries are the engine's documented contract, not its code:
- cron macros are expanded with Vixie cron's table (cronsim has no macros), and a cron schedule fires at or
  after its start;
- fire times are instants strictly after `after`, each at most once (cronsim started inside a repeated hour can
  return that hour's earlier pass first; two RRULE occurrences can land on one instant next to a DST gap);
- an RRULE's local UNTIL (no `Z`) is compared on the wall clock of the schedule's zone (dateutil refuses a naive
  UNTIL with an aware start, so it is given as an aware time of that zone, which dateutil compares on the wall
  clock), and occurrences are searched for up to local year max(start year, after year) + 100.
"""

import bisect
import json
import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from cronsim import CronSim
from dateutil.rrule import rrulestr

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
NAIVE_EPOCH = datetime(1970, 1, 1)
MICROSECOND = timedelta(microseconds=1)
HORIZON_YEARS = 100
# No zone is ahead of UTC by more than 14 hours: an occurrence at local wall time w is at an instant >= w - 14 h.
MAX_OFFSET_SECONDS = 14 * 3600
MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


def micros(moment):
    return (moment - EPOCH) // MICROSECOND


def cron_times(expr, tz, start, after, count):
    parts = expr.split()
    if len(parts) == 1 and parts[0].startswith("@"):
        if parts[0].lower() not in MACROS:
            raise ValueError("unknown macro")
        expr = MACROS[parts[0].lower()]
    last = max(after, start - 1)
    iterator = CronSim(expr, datetime.fromtimestamp(last // 1_000_000, tz))
    times = []
    for fire in iterator:  # cronsim stops when nothing matches within 50 years
        instant = micros(fire)
        if instant > last:
            times.append(instant)
            last = instant
            if len(times) == count:
                break
    return times


def rrule_times(expr, tz, start, after, count):
    dtstart = datetime.fromtimestamp(start // 1_000_000, tz)
    text = expr.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    kept, local_until = [], None
    for part in text.split(";"):
        name, _, value = part.partition("=")
        if name.upper() == "UNTIL" and not value.upper().endswith("Z"):
            local_until = datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=tz)
        else:
            kept.append(part)
    rule = rrulestr(";".join(kept), dtstart=dtstart)
    if local_until is not None:
        rule = rule.replace(until=local_until)
    horizon = max(dtstart.year, datetime.fromtimestamp(after // 1_000_000, tz).year) + HORIZON_YEARS
    found = []
    for occurrence in rule:
        if occurrence.year > horizon:
            break
        instant = micros(occurrence)
        if instant > after:
            index = bisect.bisect_left(found, instant)
            if index == len(found) or found[index] != instant:
                found.insert(index, instant)
                del found[count:]
        wall_seconds = (occurrence.replace(tzinfo=None) - NAIVE_EPOCH) // timedelta(seconds=1)
        if len(found) == count and (wall_seconds - MAX_OFFSET_SECONDS) * 1_000_000 >= found[-1]:
            break
    return found


def answer(question):
    tz = ZoneInfo(question["tz"])
    compute = {"cron": cron_times, "rrule": rrule_times}[question["kind"]]
    try:
        return {"times": compute(question["expr"], tz, question["start"], question["after"], question["count"])}
    except Exception as error:  # noqa: BLE001 - any refusal is an answer
        return {"error": f"{type(error).__name__}: {error}"}


def main():
    out = sys.stdout
    for line in sys.stdin:
        if line.strip():
            out.write(json.dumps(answer(json.loads(line))) + "\n")
    out.flush()


if __name__ == "__main__":
    main()
