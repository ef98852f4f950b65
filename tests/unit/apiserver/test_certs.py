"""The private CA: real TLS handshakes on 127.0.0.1 verified by Python's ssl module."""

from __future__ import annotations

import asyncio
import ssl
import stat

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pytest_syncer.apiserver.certs import CertificateAuthority, server_ssl_context


@pytest.fixture(scope="module")
def authority() -> CertificateAuthority:
    return CertificateAuthority.generate("test-ca")


async def _serve_once(context: ssl.SSLContext) -> tuple[asyncio.Server, int, list[object]]:
    peers: list[object] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peers.append(writer.get_extra_info("peercert"))
        line = await reader.readline()
        writer.write(b"echo:" + line)
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    return server, port, peers


async def _round_trip(port: int, client: ssl.SSLContext, server_hostname: str) -> bytes:
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=client, server_hostname=server_hostname
    )
    writer.write(b"hello\n")
    await writer.drain()
    answer = await reader.readline()
    writer.close()
    await writer.wait_closed()
    return answer


def _client_context(authority: CertificateAuthority) -> ssl.SSLContext:
    context = ssl.create_default_context(cadata=authority.cert_pem.decode())
    assert context.check_hostname
    assert context.verify_mode == ssl.CERT_REQUIRED
    return context


@pytest.mark.parametrize("server_hostname", ["localhost", "127.0.0.1"])
async def test_handshake_verifies_against_ca_and_name(authority, server_hostname):
    cert_pem, key_pem = authority.issue_server_certificate(["localhost"], ["127.0.0.1"])
    server, port, _ = await _serve_once(server_ssl_context(cert_pem, key_pem))
    async with server:
        answer = await _round_trip(port, _client_context(authority), server_hostname)
    assert answer == b"echo:hello\n"


async def test_handshake_fails_for_a_name_not_in_the_certificate(authority):
    cert_pem, key_pem = authority.issue_server_certificate(["localhost"], ["127.0.0.1"])
    server, port, _ = await _serve_once(server_ssl_context(cert_pem, key_pem))
    async with server:
        with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
            await _round_trip(port, _client_context(authority), "other.example")


async def test_handshake_fails_against_another_ca(authority):
    cert_pem, key_pem = authority.issue_server_certificate(["localhost"], [])
    stranger = CertificateAuthority.generate("stranger")
    server, port, _ = await _serve_once(server_ssl_context(cert_pem, key_pem))
    async with server:
        with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
            await _round_trip(port, _client_context(stranger), "localhost")


async def test_mutual_tls_names_the_client(authority, tmp_path):
    cert_pem, key_pem = authority.issue_server_certificate(["localhost"], ["127.0.0.1"])
    server_context = server_ssl_context(cert_pem, key_pem)
    server_context.verify_mode = ssl.CERT_REQUIRED
    server_context.load_verify_locations(cadata=authority.cert_pem.decode())
    client_cert, client_key = authority.issue_client_certificate("target-1", ["syncers"])
    client_context = _client_context(authority)
    (tmp_path / "c.crt").write_bytes(client_cert)
    (tmp_path / "c.key").write_bytes(client_key)
    client_context.load_cert_chain(tmp_path / "c.crt", tmp_path / "c.key")
    server, port, peers = await _serve_once(server_context)
    async with server:
        answer = await _round_trip(port, client_context, "localhost")
    assert answer == b"echo:hello\n"
    subject = dict(pair[0] for pair in peers[0]["subject"])  # type: ignore[index]
    assert subject == {"commonName": "target-1", "organizationName": "syncers"}


def test_server_tls_context_refuses_tls_below_1_2(authority):
    cert_pem, key_pem = authority.issue_server_certificate(["localhost"], [])
    assert server_ssl_context(cert_pem, key_pem).minimum_version == ssl.TLSVersion.TLSv1_2


def test_certificates_carry_the_right_usages(authority):
    server_pem, _ = authority.issue_server_certificate(["localhost", "api.test"], ["::1"])
    client_pem, _ = authority.issue_client_certificate("alice")
    server_cert = x509.load_pem_x509_certificate(server_pem)
    client_cert = x509.load_pem_x509_certificate(client_pem)
    sans = server_cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["localhost", "api.test"]
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["::1"]
    server_usage = server_cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    client_usage = client_cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(server_usage) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert list(client_usage) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert client_cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "alice"
    assert server_cert.issuer == authority.certificate.subject


def test_a_server_certificate_needs_a_name(authority):
    with pytest.raises(ValueError, match="at least one hostname"):
        authority.issue_server_certificate([], [])


def test_load_or_create_returns_the_same_ca_twice(tmp_path):
    first = CertificateAuthority.load_or_create(tmp_path / "pki")
    second = CertificateAuthority.load_or_create(tmp_path / "pki")
    assert first.cert_pem == second.cert_pem
    assert first.key_pem == second.key_pem
    assert stat.S_IMODE((tmp_path / "pki" / "ca.key").stat().st_mode) == 0o600
    assert (tmp_path / "pki" / "ca.crt").read_bytes() == first.cert_pem
    other = CertificateAuthority.load_or_create(tmp_path / "elsewhere")
    assert other.cert_pem != first.cert_pem
