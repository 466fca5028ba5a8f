"""Value checks shared by the models: the same rules Prefect's schedules apply."""

from __future__ import annotations

import difflib
import importlib.util
import re
import sys
import unicodedata
import zoneinfo
from collections.abc import Iterator
from functools import cache, lru_cache
from pathlib import Path
from types import ModuleType

MAX_RRULE_LENGTH = 6500  # Prefect's limit
SHOWN = 60  # characters of a value quoted in a message


def shown(value: str) -> str:
    """`value` in quotes for a message, cut short if long (a 10 MB value stays readable)."""
    return repr(value if len(value) <= SHOWN else value[: SHOWN - 3] + "...")


def one_schedule_kind(cron: object, interval: object, rrule: object) -> None:
    """Raise unless exactly one of the three schedule kinds is set."""
    given = [k for k, v in (("cron", cron), ("interval", interval), ("rrule", rrule)) if v]
    if len(given) != 1:
        found = " and ".join(given) if given else "none of them"
        raise ValueError(f"a schedule needs exactly one of cron, interval or rrule; found {found}")


CRON_FIELDS = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day-of-month", 1, 31),
    ("month", 1, 12),
    ("day-of-week", 0, 7),
)


def cron(value: str) -> str:
    """A 5-field cron expression (or a @macro) as Prefect's CronSchedule accepts it."""
    fields = value.split()
    if not value.startswith("@") and len(fields) != 5:
        raise ValueError(
            f"cron {shown(value)} has {len(fields)} fields; expected 5 "
            "(minute hour day-of-month month day-of-week), e.g. '0 6 * * *'"
        )
    if any(f.casefold() in ("r", "h") or f.upper().startswith("H(") for f in fields):
        raise ValueError(
            f"cron {shown(value)}: random (R) and hashed (H) expressions are unsupported"
        )
    if value.strip().lower() == "@reboot" or not _valid_cron(value):
        raise ValueError(f"invalid cron expression {shown(value)}{_out_of_range(fields)}")
    return value


@lru_cache(maxsize=4096)
def _valid_cron(value: str) -> bool:
    """croniter's verdict, once per expression (many deployments share one)."""
    return bool(_croniter().croniter.is_valid(value))


def _out_of_range(fields: list[str]) -> str:
    """Which field holds a number outside its range (croniter does not say)."""
    for text, (name, low, high) in zip(fields, CRON_FIELDS, strict=False):
        for number in re.findall(r"\d+", text.split("/")[0]):
            if not low <= int(number) <= high:
                return f": {name} {number} is out of range {low}-{high}"
    return ""


def only_for(name: str, value: object, kind_value: object, kind: str) -> object:
    """`name` may only be set on schedules of `kind`."""
    if value is not None and kind_value is None:
        raise ValueError(f"'{name}' applies to {kind} schedules only; remove it")
    return value


def replaces(value: str, slug: str | None) -> str:
    """A schedule's `replaces` (its old slug) needs a new slug, different from it."""
    if slug is None:
        raise ValueError(
            f"'replaces' renames the schedule {shown(value)} to this schedule's slug, but "
            "this schedule has none: add its new name as 'slug'"
        )
    if value == slug:
        raise ValueError(
            f"'replaces' names this schedule's own slug {shown(value)}: put the old slug "
            "in 'replaces' and the new one in 'slug', or remove 'replaces'"
        )
    return value


def renamed_slugs(
    slugs: list[str], given: list[bool], replaced: list[str | None]
) -> Iterator[tuple[int, str]]:
    """(index, message) for each `replaces` of one schedules list that another schedule
    of the list already replaces, or still has as its slug (`slugs`: each schedule's slug,
    `given` or by position)."""
    first: dict[str, int] = {}
    for index, old in enumerate(replaced):
        if old is None:
            continue
        if old in first:
            message = (
                f"'replaces' names {shown(old)}, which schedules[{first[old]}] already "
                "replaces; a slug can be renamed into one schedule only: remove one of the two"
            )
            yield index, message
        elif old in slugs:
            other = slugs.index(old)
            how = "" if given[other] else " by position"
            message = (
                f"'replaces' names {shown(old)}, the slug schedules[{other}] has{how} and "
                "keeps; a slug that stays cannot be renamed: remove 'replaces', or that schedule"
            )
            yield index, message
        first.setdefault(old, index)


def name(value: str) -> str:
    """A deployment or schedule name as Prefect accepts it."""
    if not value:
        raise ValueError("expected a non-empty name, found the text ''")
    if any(c in value for c in "/%&><"):
        raise ValueError(
            f"a name cannot contain '/', '%', '&', '>' or '<'; found the text {shown(value)}"
        )
    invisible = next((c for c in value if unicodedata.category(c) in ("Cc", "Cf")), None)
    if invisible is not None:  # zero-width, right-to-left marks, control characters
        what = unicodedata.name(invisible, "a control character")
        raise ValueError(
            f"a name cannot contain invisible characters; found U+{ord(invisible):04X} ({what}) "
            f"at position {value.index(invisible) + 1} of {shown(value)}: remove it "
            "(two names that look the same would be different deployments)"
        )
    return value


def variable_name(value: str) -> str:
    """The name of an environment variable."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        raise ValueError(
            "expected the name of an environment variable (letters, digits and '_'), "
            f"found the text {shown(value)}"
        )
    return value


def rrule(value: str) -> str:
    """An RFC 5545 recurrence rule as dateutil (and so Prefect) parses it."""
    from dateutil.rrule import rrulestr

    if len(value) > MAX_RRULE_LENGTH:
        raise ValueError(f"rrule is {len(value)} characters; Prefect allows {MAX_RRULE_LENGTH}")
    try:
        rrulestr(value, cache=True)
    except (ValueError, TypeError) as exc:
        reason = str(exc)
        if "unpack" in reason or not reason:
            reason = "expected NAME=VALUE parts separated by ';', e.g. 'FREQ=WEEKLY;BYDAY=MO'"
        raise ValueError(f"invalid rrule {shown(value)}: {reason}") from None
    return value


def timezone(value: str) -> str:
    """An IANA time zone name, e.g. 'Europe/Berlin'."""
    zones = available_timezones()
    if value not in zones:
        close = difflib.get_close_matches(value, zones, n=1) if len(value) <= SHOWN else []
        hint = (
            f"; did you mean '{close[0]}'?" if close else " (an IANA name such as 'Europe/Berlin')"
        )
        raise ValueError(f"unknown time zone {shown(value)}{hint}")
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
