"""Mutual TLS (``DRAFTER_GRPC_TLS_CERT/KEY/CA``): a service serves a peer presenting a
certificate signed by the CA, without any token, and refuses a client without one, with
one from another CA, and a plaintext client. Certificates are made here."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from drafter.chat.v1 import chat_service_pb2 as chat_pb
from drafter.chat.v1 import chat_service_pb2_grpc as chat_grpc
from drafter.config import ConfigError
from drafter.rpc.channels import open_channel
from drafter.rpc.healthcheck import check
from drafter.rpc.internal_auth import InternalAuth, MutualTls, load_internal_auth
from drafter.rpc.server import RunningServer
from drafter.services.chat.main import start as start_chat
from drafter.services.chat.settings import ChatSettings
from tests.chat.conftest import chat_request, chat_settings, complete_request
from tests.fakes.anthropic_server import FakeAnthropic

TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Pki:
    ca: bytes
    cert: bytes
    key: bytes

    def write(self, folder: Path) -> dict[str, str]:
        """The three PEM files, as the DRAFTER_GRPC_TLS_* variables naming them."""
        folder.mkdir(parents=True, exist_ok=True)
        files = {"CA": self.ca, "CERT": self.cert, "KEY": self.key}
        env = {}
        for name, pem in files.items():
            path = folder / f"{name.lower()}.pem"
            path.write_bytes(pem)
            env[f"DRAFTER_GRPC_TLS_{name}"] = str(path)
        return env


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def make_pki(ca_name: str = "Drafter test CA") -> Pki:
    """A CA and one certificate it signs for 127.0.0.1 / localhost, usable both as a
    server's and as a client's (as every Drafter process is both)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name(ca_name))
        .issuer_name(_name(ca_name))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("drafter"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return Pki(
        ca.public_bytes(serialization.Encoding.PEM),
        cert.public_bytes(serialization.Encoding.PEM),
        _pem_key(key),
    )


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki()


@pytest.fixture
async def tls_chat(
    pki: Pki,
    tmp_path: Path,
    fake_anthropic: FakeAnthropic,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[RunningServer]:
    """The chat service as it starts with the three variables set."""
    for name, value in pki.write(tmp_path / "tls").items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DRAFTER_INTERNAL_TOKEN")
    running = await start_chat(chat_settings(fake_anthropic, data_dir=tmp_path), "127.0.0.1:0")
    yield running
    await running.stop(0)


async def _complete(channel: aio.Channel) -> chat_pb.CompleteResponse:
    request = complete_request(chat_request((chat_pb.ROLE_USER, "hi")))
    return await chat_grpc.ChatServiceStub(channel).Complete(request, timeout=TIMEOUT_S)


async def test_a_peer_with_a_certificate_from_the_ca_is_served_without_a_token(
    tls_chat: RunningServer, tmp_path: Path
) -> None:
    auth = tls_chat.auth
    assert auth.tls is not None and auth.token is None
    assert not (tmp_path / "internal_token").exists()  # the token is unused
    async with open_channel(f"127.0.0.1:{tls_chat.port}", auth) as channel:
        reply = await _complete(channel)
    assert reply.choices and reply.usage.output_tokens > 0


async def test_a_client_without_a_certificate_is_refused(tls_chat: RunningServer, pki: Pki) -> None:
    server_only = grpc.ssl_channel_credentials(pki.ca)
    async with aio.secure_channel(f"127.0.0.1:{tls_chat.port}", server_only) as channel:
        with pytest.raises(aio.AioRpcError) as refused:
            await _complete(channel)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_a_certificate_from_another_ca_is_refused(tls_chat: RunningServer, pki: Pki) -> None:
    stranger = make_pki("Another CA")
    # It trusts our server's CA but presents a certificate our CA never signed.
    auth = InternalAuth(tls=MutualTls(stranger.cert, stranger.key, pki.ca))
    async with open_channel(f"127.0.0.1:{tls_chat.port}", auth) as channel:
        with pytest.raises(aio.AioRpcError) as refused:
            await _complete(channel)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_a_plaintext_client_is_refused_even_for_health(tls_chat: RunningServer) -> None:
    async with aio.insecure_channel(f"127.0.0.1:{tls_chat.port}") as channel:
        with pytest.raises(aio.AioRpcError) as refused:
            await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=TIMEOUT_S
            )
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_the_container_healthcheck_presents_the_certificate(tls_chat: RunningServer) -> None:
    """``python -m drafter.rpc.healthcheck`` reads the same variables (set by the fixture)."""
    assert await asyncio.to_thread(check, f"127.0.0.1:{tls_chat.port}")


def test_mutual_tls_needs_all_three_files(
    pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = pki.write(tmp_path)
    monkeypatch.setenv("DRAFTER_GRPC_TLS_CERT", env["DRAFTER_GRPC_TLS_CERT"])
    with pytest.raises(ConfigError, match="DRAFTER_GRPC_TLS_CA"):
        load_internal_auth(ChatSettings(data_dir=tmp_path))
