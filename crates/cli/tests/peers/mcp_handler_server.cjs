// A small MCP server on npm's `mcp-handler` (Vercel's Fetch-style adapter on the
// TypeScript SDK 2.x), for `tests/real_peers.rs`.
//
//     node mcp_handler_server.cjs plain PORT   (the handler mounted at /api/mcp)
//     node mcp_handler_server.cjs auth PORT    (the same behind `withMcpAuth`, required)
//
// `auth` serves what the package's docs show: `protectedResourceHandler` at
// /.well-known/oauth-protected-resource, whose default metadata names only the origin
// (a prefix of every URL on it), and an authorization server on the same origin whose
// RFC 8414 metadata is at /.well-known/oauth-authorization-server (so it is up).
//
// The handler takes a Web `Request`; a Next.js route would hand it one, here
// `fetch_adapter.cjs` makes one from node's `http` request and writes the `Response` back. Packages
// come from `.tools/peers-npm/node_modules` through NODE_PATH (set by the test). Binds
// 127.0.0.1 only; logs to stderr. Readiness is the port accepting connections.
"use strict";

const { createMcpHandler, withMcpAuth, protectedResourceHandler } = require("mcp-handler");
const { z } = require("zod");
const { serveFetch, portArg, HOST } = require("./fetch_adapter.cjs");

const [mode, portText] = process.argv.slice(2);
const usage = "node mcp_handler_server.cjs plain|auth PORT";
const port = portArg(portText, usage);
if (!(mode === "plain" || mode === "auth")) {
  console.error(`usage: ${usage}`);
  process.exit(2);
}
const origin = `http://${HOST}:${port}`;

const mcpHandler = createMcpHandler(
  (server) => {
    server.registerTool(
      "ping",
      {
        description: "Answers pong; has no side effects.",
        annotations: { readOnlyHint: true, destructiveHint: false, openWorldHint: false },
      },
      async () => ({ content: [{ type: "text", text: "pong" }] }),
    );
    server.registerTool(
      "echo",
      {
        description: "Echoes the message back.",
        inputSchema: z.object({ message: z.string() }),
        annotations: { readOnlyHint: true, openWorldHint: false },
      },
      async ({ message }) => ({ content: [{ type: "text", text: message }] }),
    );
  },
  { serverInfo: { name: "mcprobe-peer-mcp-handler", version: "0.1.0" }, telemetry: false },
);

// No token is valid: a probe without credentials must be told how to get one.
const verifyToken = async () => undefined;
const routes = new Map();
if (mode === "plain") {
  routes.set("/api/mcp", mcpHandler);
} else {
  routes.set("/api/mcp", withMcpAuth(mcpHandler, verifyToken, { required: true }));
  routes.set("/.well-known/oauth-protected-resource", protectedResourceHandler({ authServerUrls: [origin] }));
  const asMetadata = {
    issuer: origin,
    authorization_endpoint: `${origin}/oauth/authorize`,
    token_endpoint: `${origin}/oauth/token`,
    response_types_supported: ["code"],
    code_challenge_methods_supported: ["S256"],
    client_id_metadata_document_supported: true,
  };
  routes.set("/.well-known/oauth-authorization-server", () => Response.json(asMetadata));
}

serveFetch(
  port,
  (req) => {
    const route = routes.get(new URL(req.url).pathname);
    return route ? route(req) : undefined;
  },
  `mcp_handler_server (${mode})`,
);
