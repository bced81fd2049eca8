// A small MCP server on the official TypeScript SDK 1.x (`@modelcontextprotocol/sdk`),
// in each of the ways the SDK's own examples serve one, for `tests/real_peers.rs`.
//
//     node ts_sdk1_server.cjs MODE PORT
//
// MODE:
//   stateful        Streamable HTTP on /mcp, sessions (Mcp-Session-Id), answers as SSE
//   stateful-json   the same with `enableJsonResponse` (answers as application/json)
//   stateless       Streamable HTTP on /mcp, no sessions: a server and transport per request
//   stateless-json  the same with `enableJsonResponse`
//   sse             the deprecated HTTP+SSE transport (GET /sse, POST /messages)
//   auth            `stateful` behind `requireBearerAuth`, its protected-resource metadata
//                   (RFC 9728) naming this /mcp: a server that says how to get in
//   auth-elsewhere  the same, but the metadata names /api: a resource the client did not
//                   ask for, which RFC 9728 section 3.3 says must not be used
//
// The packages come from `.tools/peers-npm/node_modules` through NODE_PATH (set by the
// test). The app is `createMcpExpressApp({ host: "127.0.0.1" })`, as the SDK recommends,
// so its DNS-rebinding guard answers 403 "Invalid Host" to any Host but loopback.
// It binds 127.0.0.1 only and logs to stderr; readiness is the port accepting.
"use strict";

const { randomUUID } = require("node:crypto");
const { McpServer } = require("@modelcontextprotocol/sdk/server/mcp.js");
const { StreamableHTTPServerTransport } = require("@modelcontextprotocol/sdk/server/streamableHttp.js");
const { SSEServerTransport } = require("@modelcontextprotocol/sdk/server/sse.js");
const { createMcpExpressApp } = require("@modelcontextprotocol/sdk/server/express.js");
const { requireBearerAuth } = require("@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js");
const {
  mcpAuthMetadataRouter,
  getOAuthProtectedResourceMetadataUrl,
} = require("@modelcontextprotocol/sdk/server/auth/router.js");
const { z } = require("zod");

const HOST = "127.0.0.1";
const [mode, portText] = process.argv.slice(2);
const port = Number(portText);
if (!mode || !(port > 0 && port < 65536)) {
  console.error("usage: node ts_sdk1_server.cjs MODE PORT");
  process.exit(2);
}

function buildServer() {
  const server = new McpServer({ name: "mcprobe-peer-ts-sdk1", version: "0.1.0" });
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
      inputSchema: { message: z.string() },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ message }) => ({ content: [{ type: "text", text: message }] }),
  );
  return server;
}

const app = createMcpExpressApp({ host: HOST });

function serveStateful(path, json, guard) {
  const transports = new Map();
  const handle = async (req, res) => {
    const sessionId = req.headers["mcp-session-id"];
    let transport = sessionId ? transports.get(sessionId) : undefined;
    if (!transport) {
      if (sessionId || req.method !== "POST") {
        res.status(sessionId ? 404 : 400).json({
          jsonrpc: "2.0",
          error: { code: -32000, message: sessionId ? "Session not found" : "Bad Request: no session" },
          id: null,
        });
        return;
      }
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableJsonResponse: json,
        onsessioninitialized: (id) => transports.set(id, transport),
      });
      transport.onclose = () => transport.sessionId && transports.delete(transport.sessionId);
      await buildServer().connect(transport);
    }
    await transport.handleRequest(req, res, req.body);
  };
  app.all(path, ...guard, handle);
}

function serveStateless(path, json) {
  app.post(path, async (req, res) => {
    const server = buildServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: json });
    res.on("close", () => {
      transport.close();
      server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  const notAllowed = (_req, res) =>
    res.status(405).json({ jsonrpc: "2.0", error: { code: -32000, message: "Method not allowed." }, id: null });
  app.get(path, notAllowed);
  app.delete(path, notAllowed);
}

function serveSse() {
  const transports = new Map();
  app.get("/sse", async (_req, res) => {
    const transport = new SSEServerTransport("/messages", res);
    transports.set(transport.sessionId, transport);
    res.on("close", () => transports.delete(transport.sessionId));
    await buildServer().connect(transport);
  });
  app.post("/messages", async (req, res) => {
    const transport = transports.get(String(req.query.sessionId));
    if (!transport) {
      res.status(400).send("No transport found for sessionId");
      return;
    }
    await transport.handlePostMessage(req, res, req.body);
  });
}

function serveWithAuth(resourcePath) {
  const origin = `http://${HOST}:${port}`;
  const resourceServerUrl = new URL(resourcePath, origin);
  // The SDK's metadata router: RFC 8414 metadata for an authorization server on this
  // origin (so it is up) and RFC 9728 metadata naming `resourceServerUrl`.
  app.use(
    mcpAuthMetadataRouter({
      oauthMetadata: {
        issuer: `${origin}/`,
        authorization_endpoint: `${origin}/authorize`,
        token_endpoint: `${origin}/token`,
        response_types_supported: ["code"],
        code_challenge_methods_supported: ["S256"],
      },
      resourceServerUrl,
    }),
  );
  const verifier = {
    verifyAccessToken: async () => {
      throw new Error("no token is valid here");
    },
  };
  const guard = requireBearerAuth({
    verifier,
    resourceMetadataUrl: getOAuthProtectedResourceMetadataUrl(resourceServerUrl),
  });
  serveStateful("/mcp", false, [guard]);
}

switch (mode) {
  case "stateful":
    serveStateful("/mcp", false, []);
    break;
  case "stateful-json":
    serveStateful("/mcp", true, []);
    break;
  case "stateless":
    serveStateless("/mcp", false);
    break;
  case "stateless-json":
    serveStateless("/mcp", true);
    break;
  case "sse":
    serveSse();
    break;
  case "auth":
    serveWithAuth("/mcp");
    break;
  case "auth-elsewhere":
    serveWithAuth("/api");
    break;
  default:
    console.error(`ts_sdk1_server: unknown mode ${mode}`);
    process.exit(2);
}

app.listen(port, HOST, () => console.error(`ts_sdk1_server: ${mode} on http://${HOST}:${port}`));
