"""One keep-alive HTTP/1.1 connection, h11 over asyncio streams: a client whose own cost per
request is a fraction of httpx's, as the Temporal SDK's (a Rust core) is for the bare starts
a POST is held against. ``intake.py`` times idle POSTs with both."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit

import h11


class LeanConnection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 host: str, headers: dict[str, str]) -> None:
        self._reader, self._writer = reader, writer
        self._headers = [("Host", host), *headers.items()]
        self._h11 = h11.Connection(h11.CLIENT)

    @classmethod
    async def open(cls, base_url: str, headers: dict[str, str]) -> LeanConnection:
        url = urlsplit(base_url)
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
        return cls(reader, writer, url.netloc, headers)

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        """The answer's status and body."""
        headers = list(self._headers)
        data = b""
        if body is not None:
            data = json.dumps(body).encode()
            headers += [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
        out = self._h11.send(h11.Request(method=method, target=path, headers=headers))
        if data:
            out += self._h11.send(h11.Data(data=data))
        self._writer.write(out + self._h11.send(h11.EndOfMessage()))
        status, chunks = 0, []
        while True:
            event = self._h11.next_event()
            if event is h11.NEED_DATA:
                received = await self._reader.read(65_536)
                if not received:
                    raise ConnectionError("the server closed the connection")
                self._h11.receive_data(received)
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                self._h11.start_next_cycle()
                return status, b"".join(chunks)

    async def close(self) -> None:
        self._writer.close()
        await self._writer.wait_closed()
