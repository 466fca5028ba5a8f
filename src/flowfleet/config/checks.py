"""Value checks shared by the models: the same rules Prefect's schedules apply."""

from __future__ import annotations

import difflib
import importlib.util
import sys
import zoneinfo
from functools import cache
from pathlib import Path
from types import ModuleType

MAX_RRULE_LENGTH = 6500  # Prefect's limit


def one_schedule_kind(cron: object, interval: object, rrule: object) -> None:
    """Raise unless exactly one of the three schedule kinds is set."""
    given = [k for k, v in (("cron", cron), ("interval", interval), ("rrule", rrule)) if v]
    if len(given) != 1:
        found = " and ".join(given) if given else "none of them"
        raise ValueError(f"a schedule needs exactly one of cron, interval or rrule; found {found}")


def cron(value: str) -> str:
    """A 5-field cron expression (or a @macro) as Prefect's CronSchedule accepts it."""
    fields = value.split()
    if not value.startswith("@") and len(fields) != 5:
        raise ValueError(
            f"cron '{value}' has {len(fields)} fields; expected 5 "
            "(minute hour day-of-month month day-of-week), e.g. '0 6 * * *'"
        )
    if value.strip().lower() == "@reboot" or not _croniter().croniter.is_valid(value):
        raise ValueError(f"invalid cron expression '{value}'")
    if any(f.casefold() in ("r", "h") for f in fields):
        raise ValueError(f"cron '{value}': random (R) and hashed (H) expressions are unsupported")
    return value


def rrule(value: str) -> str:
    """An RFC 5545 recurrence rule as dateutil (and so Prefect) parses it."""
    from dateutil.rrule import rrulestr

    if len(value) > MAX_RRULE_LENGTH:
        raise ValueError(f"rrule is {len(value)} characters; Prefect allows {MAX_RRULE_LENGTH}")
    try:
        rrulestr(value, cache=True)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"invalid rrule '{value}': {exc}") from None
    return value


def timezone(value: str) -> str:
    """An IANA time zone name, e.g. 'Europe/Berlin'."""
    zones = available_timezones()
    if value not in zones:
        close = difflib.get_close_matches(value, zones, n=1)
        hint = (
            f"; did you mean '{close[0]}'?" if close else " (an IANA name such as 'Europe/Berlin')"
        )
        raise ValueError(f"unknown time zone '{value}'{hint}")
    return value


@cache
def available_timezones() -> list[str]:
    """The IANA names Prefect accepts (it uses the same zoneinfo list)."""
    return sorted(zoneinfo.available_timezones())


@cache
def _croniter() -> ModuleType:
    """Prefect's vendored croniter, loaded from its file without importing prefect (1.5 s)."""
    name = "flowfleet._vendored_croniter"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec("prefect")
    assert spec is not None and spec.origin is not None, "prefect is not installed"
    path = Path(spec.origin).parent / "_vendor" / "croniter" / "croniter.py"
    module_spec = importlib.util.spec_from_file_location(name, path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    module_spec.loader.exec_module(module)
    return module
