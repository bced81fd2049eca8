"""A small MCP server on the official Python SDK 1.x (`FastMCP`), for mcprobe's tests.

Start here: `crates/cli/tests/peers.rs` starts this with the venv `cargo xtask install`
makes (`.tools/py-mcp1/bin/python`) and probes it with `mcprobe check`. SDK 1.x
speaks only the legacy revisions (the `initialize` handshake, sessions with
`Mcp-Session-Id`) over Streamable HTTP at `http://127.0.0.1:PORT/mcp`: most servers in
the wild look like this.

    python py_mcp1_server.py --port 8000      (or the env var MCPROBE_PEER_PORT)
    python py_mcp1_server.py --stdio          (one conversation on stdin/stdout)

It always binds 127.0.0.1: nothing here may listen beyond the machine.
With --stdio it listens on nothing: `mcprobe check -- python py_mcp1_server.py --stdio`
starts it and speaks newline-delimited JSON-RPC on its stdin/stdout (the SDK's
stdio transport); it exits when stdin closes. Logs go to stderr only.
Readiness: the TCP port accepts connections (uvicorn also logs
"Uvicorn running on http://127.0.0.1:PORT" on stderr).

Drift knob (same as py_mcp2_server.py): when MCPROBE_DRIFT_FILE names a file whose
content is "1", `echo` loses its optional `upper` parameter and gains a required
`channel` one. Read once, at startup.
"""

from __future__ import annotations

import argparse
import os
import sys

from mcp.server.fastmcp import FastMCP
from mcp.types import ToolAnnotations

HOST = "127.0.0.1"

READ_ONLY = ToolAnnotations(readOnlyHint=True, destructiveHint=False, openWorldHint=False)


def drifted() -> bool:
    path = os.environ.get("MCPROBE_DRIFT_FILE")
    if not path:
        return False
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip() == "1"
    except OSError:
        return False


def build(drift: bool, port: int | None) -> FastMCP:
    # FastMCP 1.x takes host and port in the constructor; with a loopback host it
    # also turns on its DNS-rebinding guard (Host must be 127.0.0.1:* or localhost:*).
    # No port: the stdio transport, which listens on nothing.
    if port is None:
        server = FastMCP("mcprobe-peer-py-mcp1")
    else:
        server = FastMCP("mcprobe-peer-py-mcp1", host=HOST, port=port)

    @server.tool(description="Answers pong; has no side effects.", annotations=READ_ONLY)
    def ping() -> str:
        return "pong"

    if drift:

        @server.tool(description="Echoes the message back on a channel.", annotations=READ_ONLY)
        def echo(message: str, channel: str) -> str:
            return f"{channel}: {message}"

    else:

        @server.tool(description="Echoes the message back.", annotations=READ_ONLY)
        def echo(message: str, upper: bool = False) -> str:
            return message.upper() if upper else message

    return server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("MCPROBE_PEER_PORT", "0")))
    parser.add_argument("--stdio", action="store_true", help="serve one conversation on stdin/stdout instead of HTTP")
    args = parser.parse_args()
    if args.stdio:
        # stdout carries the protocol: anything else printed there breaks the stream.
        drift = drifted()
        print(f"py_mcp1_server: drift={'on' if drift else 'off'} stdio", file=sys.stderr, flush=True)
        build(drift, None).run("stdio")
        return 0
    if not 0 < args.port < 65536:
        print("py_mcp1_server: give a port with --port N or MCPROBE_PEER_PORT", file=sys.stderr)
        return 2
    drift = drifted()
    print(f"py_mcp1_server: drift={'on' if drift else 'off'} port={args.port}", file=sys.stderr, flush=True)
    build(drift, args.port).run("streamable-http")
    return 0


if __name__ == "__main__":
    sys.exit(main())
