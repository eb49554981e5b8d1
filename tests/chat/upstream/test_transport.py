"""The upstream transport (``services.chat.upstream.transport``) under httpx2's client, against
real servers on loopback: plain HTTP servers scripted per test, and TLS with a
certificate made here."""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from drafter.services.chat.upstream.transport import (
    UpstreamTransport,
    body_reader,
    take_on_arrival,
)
from tests.chat.upstream.conftest import Reader, ScriptedServer, Writer


@pytest.fixture
async def client() -> AsyncIterator[httpx2.AsyncClient]:
    async with httpx2.AsyncClient(transport=UpstreamTransport(), timeout=5) as client:
        yield client


def _ok(body: bytes, *headers: str) -> bytes:
    head = ["HTTP/1.1 200 OK", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def _echo(body: bytes, reader: Reader, writer: Writer) -> bool:
    writer.write(_ok(b"got " + body, "Content-Type: text/plain"))
    return True


async def test_answers_are_read_and_the_connection_is_reused(
    serve: Callable[..., Awaitable[tuple[ScriptedServer, str]]], client: httpx2.AsyncClient
) -> None:
    server, url = await serve(_echo)

    first = await client.post(url + "/v1/messages", content=b"one")
    second = await client.post(url + "/v1/messages", content=b"two")

    assert (first.status_code, first.text, second.text) == (200, "got one", "got two")
    assert first.headers["content-type"] == "text/plain"
    assert server.requests == [b"one", b"two"]
    assert server.connections == 1


async def test_a_chunked_answer_streams_each_piece_as_it_comes(
    serve: Callable[..., Awaitable[tuple[ScriptedServer, str]]], client: httpx2.AsyncClient
) -> None:
    release = asyncio.Event()

    async def chunked(body: bytes, reader: Reader, writer: Writer) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n")
        await writer.drain()
        await release.wait()
        writer.write(b"6\r\nsecond\r\n0\r\n\r\n")
        return True

    server, url = await serve(chunked)
    pieces = []
    async with client.stream("POST", url, content=b"x") as response:
        async for piece in response.aiter_bytes():
            pieces.append(piece)
            release.set()  # the second piece is sent only once the first arrived
    again = await client.post(url, content=b"y")

    assert pieces == [b"first", b"second"]
    assert again.text == "firstsecond"
    assert server.connections == 1


async def test_connection_close_is_not_reused(
    serve: Callable[..., Awaitable[tuple[ScriptedServer, str]]], client: httpx2.AsyncClient
) -> None:
    async def closing(body: bytes, reader: Reader, writer: Writer) -> bool:
        writer.write(_ok(b"bye", "Connection: close"))
        return False

    server, url = await serve(closing)

    assert (await client.post(url, content=b"1")).text == "bye"
    assert (await client.post(url, content=b"2")).text == "bye"
    assert server.connections == 2


async def test_a_pooled_connection_closed_while_idle_is_replaced(
    serve: Callable[..., Awaitable[tuple[ScriptedServer, str]]], client: httpx2.AsyncClient
) -> None:
    async def once_then_hang_up(body: bytes, reader: Reader, writer: Writer) -> bool:
        writer.write(_ok(b"ok"))  # says nothing about closing, then closes
        return False

    server, url = await serve(once_then_hang_up)

    assert (await client.post(url, content=b"1")).text == "ok"
    await asyncio.sleep(0.05)  # the close reaches the client's idle connection
    assert (await client.post(url, content=b"2")).text == "ok"
    assert server.connections == 2


async def test_an_answer_cut_short_is_a_read_error(
    serve: Callable[..., Awaitable[tuple[ScriptedServer, str]]], client: httpx2.AsyncClient
) -> None:
    async def cut(body: bytes, reader: Reader, writer: Writer) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part")
        return False

    _, url = await serve(cut)

    with pytest.raises(httpx2.TransportError):
        await client.post(url, content=b"x")


async def test_no_answer_in_time_is_a_read_timeout(
    serve: Callable[..., Awaitable[tuple[ScriptedServer, str]]],
) -> None:
    async def silent(body: bytes, reader: Reader, writer: Writer) -> bool:
        await asyncio.sleep(5)
        return False

    _, url = await serve(silent)
    async with httpx2.AsyncClient(transport=UpstreamTransport(), timeout=0.2) as client:
        with pytest.raises(httpx2.ReadTimeout):
            await client.post(url, content=b"x")


async def test_a_body_that_stalls_is_a_read_timeout_but_a_slow_steady_one_is_not(
    serve: Callable[..., Awaitable[tuple[ScriptedServer, str]]],
) -> None:
    """The read timeout bounds each wait between two reads, not the whole body: chunks
    0.1 s apart for 0.6 s pass under a 0.25 s timeout, a 1 s silence does not."""

    async def steady_then_silent(body: bytes, reader: Reader, writer: Writer) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(6):
            writer.write(b"1\r\nx\r\n")
            await writer.drain()
            await asyncio.sleep(0.1)
        if body == b"stall":
            await asyncio.sleep(1.0)
        writer.write(b"0\r\n\r\n")
        return True

    _, url = await serve(steady_then_silent)
    async with httpx2.AsyncClient(transport=UpstreamTransport(), timeout=0.25) as client:
        answer = await client.post(url, content=b"steady")
        assert answer.content == b"x" * 6
        async with client.stream("POST", url, content=b"stall") as stalled:
            received = b""
            with pytest.raises(httpx2.ReadTimeout):
                async for chunk in stalled.aiter_bytes():
                    received += chunk
            assert received == b"x" * 6


async def test_a_refused_connection_is_a_connect_error(client: httpx2.AsyncClient) -> None:
    probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()

    with pytest.raises(httpx2.ConnectError):
        await client.post(f"http://127.0.0.1:{port}/", content=b"x")


async def test_cancelling_while_waiting_closes_the_connection(
    serve: Callable[..., Awaitable[tuple[ScriptedServer, str]]], client: httpx2.AsyncClient
) -> None:
    async def slow(body: bytes, reader: Reader, writer: Writer) -> bool:
        for _ in range(250):  # until the client hangs up
            if reader.at_eof():
                break
            await asyncio.sleep(0.02)
        return False

    server, url = await serve(slow)
    request = asyncio.ensure_future(client.post(url, content=b"x"))
    await asyncio.sleep(0.1)
    request.cancel()

    with pytest.raises(asyncio.CancelledError):
        await request
    await asyncio.wait_for(server.disconnected.wait(), 2)


async def test_compressed_answers_are_decoded_by_the_client(
    serve: Callable[..., Awaitable[tuple[ScriptedServer, str]]], client: httpx2.AsyncClient
) -> None:
    async def compressed(body: bytes, reader: Reader, writer: Writer) -> bool:
        writer.write(_ok(gzip.compress(b'{"ok": true}'), "Content-Encoding: gzip"))
        return True

    _, url = await serve(compressed)

    assert (await client.post(url, content=b"x")).json() == {"ok": True}


async def test_https_with_the_servers_certificate(
    serve: Callable[..., Awaitable[tuple[ScriptedServer, str]]], tmp_path: Path
) -> None:
    server_tls, client_tls = _self_signed_tls(tmp_path)
    server, url = await serve(_echo, tls=server_tls)

    async with httpx2.AsyncClient(transport=UpstreamTransport(client_tls)) as client:
        first = await client.post(url, content=b"secret")
        second = await client.post(url, content=b"again")

    assert (first.text, second.text) == ("got secret", "got again")
    assert server.connections == 1


async def test_https_refuses_an_unknown_certificate(
    serve: Callable[..., Awaitable[tuple[ScriptedServer, str]]], tmp_path: Path
) -> None:
    server_tls, _ = _self_signed_tls(tmp_path)
    _, url = await serve(_echo, tls=server_tls)

    async with httpx2.AsyncClient(transport=UpstreamTransport()) as client:
        with pytest.raises(httpx2.ConnectError):
            await client.post(url, content=b"x")


def _self_signed_tls(folder: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return server, client


async def test_an_answer_closed_unread_does_not_leak_into_the_next(
    serve: Callable[..., Awaitable[tuple[ScriptedServer, str]]], client: httpx2.AsyncClient
) -> None:
    answers = iter((b"HTTP/1.1 529 \r\nContent-Length: 9\r\n\r\noverload!", _ok(b"fine")))

    async def scripted(body: bytes, reader: Reader, writer: Writer) -> bool:
        writer.write(next(answers))
        return True

    server, url = await serve(scripted)
    async with client.stream("POST", url, content=b"1") as first:
        await asyncio.sleep(0.05)  # the whole answer arrived; its body is never read
    second = await client.post(url, content=b"2")

    assert first.status_code == 529
    assert (second.status_code, second.text) == (200, "fine")
    assert server.connections == 1


async def test_body_reader_reads_a_streamed_answer_piece_by_piece_off_the_connection(
    serve: Callable[..., Awaitable[tuple[ScriptedServer, str]]],
) -> None:
    async def two_pieces(body: bytes, reader: Reader, writer: Writer) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n")
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(b"6\r\nsecond\r\n0\r\n\r\n")
        return True

    server, url = await serve(two_pieces)
    transport = UpstreamTransport()
    request = httpx2.Request("POST", url, content=b"x")
    response = await transport.handle_async_request(request)
    read = body_reader(response)

    assert [await read(), await read(), await read()] == [b"first", b"second", None]
    await response.aclose()
    second = await transport.handle_async_request(httpx2.Request("POST", url, content=b"y"))
    await second.aread()
    await second.aclose()
    await transport.aclose()
    assert server.connections == 1  # read to its end, the connection went back to the pool


async def test_body_reader_decodes_a_compressed_answer_which_is_not_taken_as_it_arrives(
    serve: Callable[..., Awaitable[tuple[ScriptedServer, str]]],
) -> None:
    async def compressed(body: bytes, reader: Reader, writer: Writer) -> bool:
        writer.write(_ok(gzip.compress(b"data: {}\n\n"), "Content-Encoding: gzip"))
        return True

    _, url = await serve(compressed)
    transport = UpstreamTransport()
    response = await transport.handle_async_request(httpx2.Request("POST", url, content=b"x"))
    assert not take_on_arrival(response, lambda piece: True)
    read = body_reader(response)

    pieces = []
    while (piece := await read()) is not None:
        pieces.append(piece)
    await response.aclose()
    await transport.aclose()
    assert b"".join(pieces) == b"data: {}\n\n"


async def _chunked(writer: Writer, pieces: list[bytes], gap_s: float) -> None:
    """A chunked answer: its head, then each piece ``gap_s`` apart, then its end."""
    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    for piece in pieces:
        await asyncio.sleep(gap_s)
        writer.write(b"%x\r\n%b\r\n" % (len(piece), piece))
        await writer.drain()
    await asyncio.sleep(gap_s)
    writer.write(b"0\r\n\r\n")


async def _open(url: str, read_timeout: float = 5.0) -> tuple[UpstreamTransport, httpx2.Response]:
    transport = UpstreamTransport()
    request = httpx2.Request(
        "POST", url, content=b"x", extensions={"timeout": {"read": read_timeout}}
    )
    return transport, await transport.handle_async_request(request)


async def test_bytes_are_taken_as_they_arrive_while_a_read_waits(
    serve: Callable[..., Awaitable[tuple[ScriptedServer, str]]],
) -> None:
    """Taken within the connection's callback, with the read still waiting, until the
    taker asks for its reader to be woken: the read then returns b"" (nothing left)."""

    async def three(body: bytes, reader: Reader, writer: Writer) -> bool:
        await _chunked(writer, [b"one", b"two-wake", b"three"], 0.05)
        return True

    _, url = await serve(three)
    transport, response = await _open(url)
    taken: list[bytes] = []

    def take(piece: bytes) -> bool:
        taken.append(piece)
        return b"wake" in piece

    assert take_on_arrival(response, take)
    read = body_reader(response)
    assert await read() == b""
    assert taken == [b"one", b"two-wake"]
    assert await read() is None  # "three" was taken while this read waited
    assert taken == [b"one", b"two-wake", b"three"]
    await response.aclose()
    await transport.aclose()


async def test_bytes_that_arrived_before_a_read_are_read_not_taken(
    serve: Callable[..., Awaitable[tuple[ScriptedServer, str]]],
) -> None:
    async def two_then_more(body: bytes, reader: Reader, writer: Writer) -> bool:
        await _chunked(writer, [b"a", b"b", b"late"], 0.0)
        return True

    _, url = await serve(two_then_more)
    transport, response = await _open(url)
    taken: list[bytes] = []
    take_on_arrival(response, lambda piece: bool(taken.append(piece)))
    await asyncio.sleep(0.1)  # the whole answer is here before anyone reads

    read = body_reader(response)
    assert await read() == b"ablate"
    assert await read() is None
    assert taken == []
    await response.aclose()
    await transport.aclose()


async def test_bytes_taken_as_they_arrive_keep_the_read_timeout_from_firing(
    serve: Callable[..., Awaitable[tuple[ScriptedServer, str]]],
) -> None:
    """The read timeout bounds the silence between two arrivals, taken or read: pieces
    0.1 s apart for 0.6 s, all taken by one waiting read, pass under 0.25 s; a 1 s
    silence after them does not."""

    async def steady_then_silent(body: bytes, reader: Reader, writer: Writer) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(6):
            await asyncio.sleep(0.1)
            writer.write(b"1\r\nx\r\n")
            await writer.drain()
        await asyncio.sleep(1.0)
        writer.write(b"0\r\n\r\n")
        return True

    _, url = await serve(steady_then_silent)
    transport, response = await _open(url, read_timeout=0.25)
    taken: list[bytes] = []
    take_on_arrival(response, lambda piece: bool(taken.append(piece)))
    started = asyncio.get_running_loop().time()

    with pytest.raises(httpx2.ReadTimeout):
        await body_reader(response)()
    assert b"".join(taken) == b"x" * 6
    assert asyncio.get_running_loop().time() - started > 0.8  # not cut at 0.25 s
    await transport.aclose()


async def test_a_connection_back_in_the_pool_takes_nothing_for_its_next_answer(
    serve: Callable[..., Awaitable[tuple[ScriptedServer, str]]],
) -> None:
    async def pieces(body: bytes, reader: Reader, writer: Writer) -> bool:
        await _chunked(writer, [body, b"!"], 0.02)
        return True

    server, url = await serve(pieces)
    transport = UpstreamTransport()
    first = await transport.handle_async_request(httpx2.Request("POST", url, content=b"1"))
    taken: list[bytes] = []
    take_on_arrival(first, lambda piece: bool(taken.append(piece)))
    read = body_reader(first)
    assert await read() is None
    await first.aclose()

    second = await transport.handle_async_request(httpx2.Request("POST", url, content=b"2"))
    read = body_reader(second)
    pieces = []
    while (piece := await read()) is not None:
        pieces.append(piece)
    await second.aclose()
    assert b"".join(pieces) == b"2!"
    await transport.aclose()
    assert taken == [b"1", b"!"] and server.connections == 1
