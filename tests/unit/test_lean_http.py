"""bench/lean_http.py: requests one after another on one kept-alive connection."""

from __future__ import annotations

import asyncio
import json

from bench.lean_http import LeanConnection


async def test_two_requests_on_one_connection_read_their_answers() -> None:
    seen: list[bytes] = []
    connections = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        while head := await reader.readuntil(b"\r\n\r\n"):
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            body = await reader.readexactly(length)
            seen.append(head.split(b"\r\n")[0] + b" " + body)
            answer = json.dumps({"n": len(seen)}).encode()
            writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: %d\r\n\r\n%s" % (len(answer), answer))
            await writer.drain()
            if len(seen) == 2:
                break
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        lean = await LeanConnection.open(f"http://127.0.0.1:{port}", {"Authorization": "Bearer k"})
        assert await lean.request("POST", "/api/tickets", {"a": 1}) == (202, b'{"n": 1}')
        assert await lean.request("GET", "/healthz") == (202, b'{"n": 2}')
        await lean.close()
    assert connections == 1
    assert seen == [b'POST /api/tickets HTTP/1.1 {"a": 1}', b"GET /healthz HTTP/1.1 "]
