"""A private certificate authority, so the embedded server speaks HTTPS that clients can verify.

EC P-256 keys keep generation to milliseconds; certificates stay valid for ten years so a persisted
CA (``--data-dir``) outlives any test run.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
import tempfile
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = datetime.timedelta(days=3650)
# Allow for clocks that disagree a little between the issuer and a verifier.
BACKDATE = datetime.timedelta(minutes=5)
CA_CERT_FILE = "ca.crt"
CA_KEY_FILE = "ca.key"


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    """Digital signatures; a CA also signs certificates and CRLs."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


class CertificateAuthority:
    """A self-signed CA that issues server and client certificates."""

    def __init__(self, certificate: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
        self.certificate = certificate
        self.key = key
        self.cert_pem: bytes = certificate.public_bytes(serialization.Encoding.PEM)
        self.key_pem: bytes = _private_key_pem(key)

    @classmethod
    def generate(cls, common_name: str) -> CertificateAuthority:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        now = _now()
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(now + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                _key_usage(ca=True),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .sign(key, hashes.SHA256())
        )
        return cls(certificate, key)

    @classmethod
    def from_pem(cls, cert_pem: bytes, key_pem: bytes) -> CertificateAuthority:
        certificate = x509.load_pem_x509_certificate(cert_pem)
        key = serialization.load_pem_private_key(key_pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("the CA key is not an EC private key")
        return cls(certificate, key)

    @classmethod
    def load_or_create(
        cls, directory: Path, common_name: str = "pytest-syncer-ca"
    ) -> CertificateAuthority:
        """Reuse the CA in ``directory`` so clients that trusted it before a restart still do."""
        cert_path = directory / CA_CERT_FILE
        key_path = directory / CA_KEY_FILE
        if cert_path.exists() and key_path.exists():
            return cls.from_pem(cert_path.read_bytes(), key_path.read_bytes())
        directory.mkdir(parents=True, exist_ok=True)
        authority = cls.generate(common_name)
        write_private_file(key_path, authority.key_pem)
        write_private_file(cert_path, authority.cert_pem, mode=0o644)
        return authority

    def issue_server_certificate(
        self, hostnames: Sequence[str], ip_addresses: Sequence[str]
    ) -> tuple[bytes, bytes]:
        """Return (certificate PEM, key PEM) for a TLS server reachable under these names."""
        names: list[x509.GeneralName] = [x509.DNSName(host) for host in hostnames]
        names += [x509.IPAddress(ipaddress.ip_address(address)) for address in ip_addresses]
        if not names:
            raise ValueError("a server certificate needs at least one hostname or IP address")
        common_name = hostnames[0] if hostnames else ip_addresses[0]
        return self._issue(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]),
            ExtendedKeyUsageOID.SERVER_AUTH,
            x509.SubjectAlternativeName(names),
        )

    def issue_client_certificate(
        self, common_name: str, organizations: Sequence[str] = ()
    ) -> tuple[bytes, bytes]:
        """Return (certificate PEM, key PEM) naming a client like Kubernetes: CN user, O groups."""
        attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
        attributes += [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)
            for organization in organizations
        ]
        return self._issue(x509.Name(attributes), ExtendedKeyUsageOID.CLIENT_AUTH, None)

    def _issue(
        self,
        subject: x509.Name,
        usage: x509.ObjectIdentifier,
        alternative_names: x509.SubjectAlternativeName | None,
    ) -> tuple[bytes, bytes]:
        key = ec.generate_private_key(ec.SECP256R1())
        now = _now()
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(now + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                _key_usage(ca=False),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
        )
        if alternative_names is not None:
            builder = builder.add_extension(alternative_names, critical=False)
        certificate = builder.sign(self.key, hashes.SHA256())
        return certificate.public_bytes(serialization.Encoding.PEM), _private_key_pem(key)


def server_ssl_context(cert_pem: bytes, key_pem: bytes) -> ssl.SSLContext:
    """A TLS 1.2+ server context; ssl loads key chains only from files, hence the temp dir."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    with tempfile.TemporaryDirectory(prefix="pytest-syncer-tls-") as directory:
        cert_path = Path(directory) / "tls.crt"
        key_path = Path(directory) / "tls.key"
        write_private_file(cert_path, cert_pem)
        write_private_file(key_path, key_pem)
        context.load_cert_chain(cert_path, key_path)
    return context


def write_private_file(path: Path, content: bytes, mode: int = 0o600) -> None:
    """Write ``content`` so the file never exists with wider permissions than ``mode``."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
    os.chmod(path, mode)


def _private_key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)
