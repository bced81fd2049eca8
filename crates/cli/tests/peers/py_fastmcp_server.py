"""A small MCP server on PyPI's `fastmcp` (2.x, 3.x or 4.x), for `tests/real_peers.rs`.

    python py_fastmcp_server.py stdio
    python py_fastmcp_server.py http PORT     (Streamable HTTP on /mcp)
    python py_fastmcp_server.py sse PORT      (the deprecated HTTP+SSE transport on /sse)

The same file runs on every major version: the test picks the venv (`.tools/peers-py/...`)
and so the version. HTTP binds 127.0.0.1 only; logs go to stderr. Readiness is the port
accepting connections; on stdio, stdout carries only the protocol.
"""

from __future__ import annotations

import sys

from fastmcp import FastMCP

HOST = "127.0.0.1"

mcp = FastMCP("mcprobe-peer-fastmcp")


@mcp.tool(
    description="Answers pong; has no side effects.",
    annotations={"readOnlyHint": True, "destructiveHint": False, "openWorldHint": False},
)
def ping() -> str:
    return "pong"


@mcp.tool(description="Echoes the message back.", annotations={"readOnlyHint": True, "openWorldHint": False})
def echo(message: str) -> str:
    return message


def main() -> int:
    args = sys.argv[1:]
    if args == ["stdio"]:
        mcp.run("stdio", show_banner=False)
        return 0
    if len(args) == 2 and args[0] in ("http", "sse"):
        mcp.run(args[0], host=HOST, port=int(args[1]), show_banner=False)
        return 0
    print("usage: py_fastmcp_server.py stdio | http PORT | sse PORT", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
