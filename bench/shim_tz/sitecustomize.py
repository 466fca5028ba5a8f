"""A what-if for the Prefect *server* process (bench/whatif.py only, never the main bench):
cache Prefect's list of time zones, which Prefect 3.8.8 builds anew (a walk of the tz
database, ~3 ms) every time it validates a schedule — when a deployment is created and
every time one is read back. A one-line change upstream would do the same."""

import functools

import prefect._internal.schemas.validators as _validators
import prefect.types._datetime as _datetime

_cached = functools.cache(_datetime.get_timezones)
_datetime.get_timezones = _cached
_validators.get_timezones = _cached  # type: ignore[attr-defined]
