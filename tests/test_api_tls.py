"""Prefect's TLS settings, as flowfleet's HTTP client applies them (pure: no server)."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from flowfleet.server import client_settings


def test_tls_settings_are_honoured_and_each_context_is_made_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("PREFECT_API_TLS_INSECURE_SKIP_VERIFY", raising=False)
    monkeypatch.delenv("PREFECT_API_SSL_CERT_FILE", raising=False)
    default = client_settings.tls_context()
    assert default.verify_mode == ssl.CERT_REQUIRED and default.check_hostname
    assert client_settings.tls_context() is default  # not built again for the next connection

    monkeypatch.setenv("PREFECT_API_TLS_INSECURE_SKIP_VERIFY", "true")
    assert client_settings.tls_context().verify_mode == ssl.CERT_NONE

    monkeypatch.setenv("PREFECT_API_TLS_INSECURE_SKIP_VERIFY", "false")
    monkeypatch.setenv("PREFECT_API_SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    with pytest.raises(FileNotFoundError):
        client_settings.tls_context()  # the file named is the one read
    (tmp_path / "one.pem").write_text(ssl.DER_cert_to_PEM_cert(_a_ca_certificate(default)))
    monkeypatch.setenv("PREFECT_API_SSL_CERT_FILE", str(tmp_path / "one.pem"))
    assert (
        client_settings.tls_context().cert_store_stats()["x509_ca"] == 1
    )  # that file's, not the bundle


def _a_ca_certificate(context: ssl.SSLContext) -> bytes:
    return context.get_ca_certs(binary_form=True)[0]
