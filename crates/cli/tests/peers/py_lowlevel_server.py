"""An MCP server on the official Python SDK 1.x's low-level `Server`, with an event store.

Start here: `tests/real_peers.rs` runs this with the `mcp` 1.x venv. It is the shape
of the SDK's "simple-streamablehttp" example: a low-level `Server`, its
`StreamableHTTPSessionManager` with an `EventStore` (so every SSE event carries an id a
client could resume from) under Starlette on /mcp, and the SDK's DNS-rebinding guard
(`TransportSecuritySettings`), which answers 421 "Invalid Host header" to a Host it
does not serve.

    python py_lowlevel_server.py PORT

Binds 127.0.0.1 only; logs go to stderr. Readiness is the port accepting connections.
"""

from __future__ import annotations

import contextlib
import itertools
import sys
from collections.abc import AsyncIterator

import mcp.types as types
import uvicorn
from mcp.server.lowlevel import Server
from mcp.server.streamable_http import EventCallback, EventId, EventMessage, EventStore, StreamId
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.types import Receive, Scope, Send

HOST = "127.0.0.1"


class InMemoryEventStore(EventStore):
    """Every event kept in order, with an id a client can resume after (as in the SDK's example)."""

    def __init__(self) -> None:
        self.events: list[tuple[EventId, StreamId, types.JSONRPCMessage | None]] = []
        self.ids = itertools.count(1)

    async def store_event(self, stream_id: StreamId, message: types.JSONRPCMessage | None) -> EventId:
        event_id = str(next(self.ids))
        self.events.append((event_id, stream_id, message))
        return event_id

    async def replay_events_after(self, last_event_id: EventId, send_callback: EventCallback) -> StreamId | None:
        position = next((i for i, e in enumerate(self.events) if e[0] == last_event_id), None)
        if position is None:
            return None
        stream_id = self.events[position][1]
        for event_id, stream, message in self.events[position + 1 :]:
            if stream == stream_id and message is not None:
                await send_callback(EventMessage(message, event_id))
        return stream_id


def build_server() -> Server:
    server = Server("mcprobe-peer-py-lowlevel")
    read_only = types.ToolAnnotations(readOnlyHint=True, destructiveHint=False, openWorldHint=False)

    @server.list_tools()
    async def list_tools() -> list[types.Tool]:
        return [
            types.Tool(
                name="ping",
                description="Answers pong; has no side effects.",
                inputSchema={"type": "object", "properties": {}},
                annotations=read_only,
            ),
            types.Tool(
                name="echo",
                description="Echoes the message back.",
                inputSchema={
                    "type": "object",
                    "properties": {"message": {"type": "string"}},
                    "required": ["message"],
                },
                annotations=read_only,
            ),
        ]

    @server.call_tool()
    async def call_tool(name: str, arguments: dict) -> list[types.TextContent]:
        text = "pong" if name == "ping" else str(arguments.get("message", ""))
        return [types.TextContent(type="text", text=text)]

    return server


def main() -> int:
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        print("usage: py_lowlevel_server.py PORT", file=sys.stderr)
        return 2
    port = int(sys.argv[1])
    manager = StreamableHTTPSessionManager(
        app=build_server(),
        event_store=InMemoryEventStore(),
        security_settings=TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=[f"{HOST}:{port}", f"localhost:{port}"],
        ),
    )

    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        await manager.handle_request(scope, receive, send)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with manager.run():
            yield

    app = Starlette(routes=[Mount("/mcp", app=handle)], lifespan=lifespan)
    uvicorn.run(app, host=HOST, port=port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
