"""What every request carries, from the settings Prefect's own client reads: the API key
or PREFECT_API_AUTH_STRING, the TLS settings (PREFECT_API_TLS_INSECURE_SKIP_VERIFY,
PREFECT_API_SSL_CERT_FILE) and the per-request timeout (PREFECT_API_REQUEST_TIMEOUT)."""

from __future__ import annotations

import base64
import functools
import os
import ssl

import httpx

from flowfleet._version import __version__
from flowfleet.model.target import Target

REQUEST_TIMEOUT = 60.0  # Prefect's default for PREFECT_API_REQUEST_TIMEOUT


def request_timeout() -> float:
    """How long one request waits for its answer: PREFECT_API_REQUEST_TIMEOUT, as for
    Prefect's own client (a slow answer is then retried)."""
    try:
        return max(0.1, float(os.environ.get("PREFECT_API_REQUEST_TIMEOUT", REQUEST_TIMEOUT)))
    except ValueError:
        return REQUEST_TIMEOUT


def headers(target: Target) -> dict[str, str]:
    """The User-Agent, and the API key as a bearer token (or PREFECT_API_AUTH_STRING as
    basic auth)."""
    headers = {"User-Agent": f"flowfleet/{__version__}"}
    auth = os.environ.get("PREFECT_API_AUTH_STRING")
    if target.api_key:
        headers["Authorization"] = f"Bearer {target.api_key}"
    elif auth:
        headers["Authorization"] = f"Basic {base64.b64encode(auth.encode()).decode()}"
    return headers


def tls_context() -> ssl.SSLContext:
    """The TLS context of Prefect's settings (PREFECT_API_TLS_INSECURE_SKIP_VERIFY,
    PREFECT_API_SSL_CERT_FILE)."""
    skip = os.environ.get("PREFECT_API_TLS_INSECURE_SKIP_VERIFY", "").lower() in ("1", "true")
    return _tls_context(skip, os.environ.get("PREFECT_API_SSL_CERT_FILE") or None)


@functools.cache
def _tls_context(skip_verify: bool, cert_file: str | None) -> ssl.SSLContext:
    """Made once per process: each one loads the whole CA bundle (~20 ms), and an apply
    opens a connection for each step of the lock as well as for planning and applying."""
    if cert_file and not skip_verify:
        return ssl.create_default_context(cafile=cert_file)
    return httpx.create_ssl_context(verify=not skip_verify)
