// Start here: the check page in real headless Chromium (Debian's, driven by
// playwright-core), against `wrangler dev` serving the built page and Worker.
// Run by crates/edge-tests/tests/browser.rs, which starts the fault fleet and
// wrangler and passes everything in the environment:
//
//   MCPROBE_BASE        http://127.0.0.1:PORT (wrangler dev)
//   MCPROBE_FLEET       {"scenario": "url", ...}
//   MCPROBE_PLAYWRIGHT  the node_modules folder holding playwright-core
//   MCPROBE_CHROMIUM    /usr/bin/chromium
//   MCPROBE_PROFILE     a user-data-dir kept between phases (localStorage: drift)
//   MCPROBE_SHOTS       where screenshots go (target/browser)
//   MCPROBE_PHASE       "main" (every case, then the first drift check) or
//                       "drift" (the second drift check, after the fleet's
//                       `drift` scenario switched its tool list, then the
//                       status pages)
//   MCPROBE_MONITORS    {"refused": id, "drift": id}: monitors the harness
//                       registered and probed with cron ticks
//
// Every case is typed into the URL field and submitted with Enter; failures
// are gathered and the script exits 1 listing them all, 0 when all hold.
// The harness prints this script's output. Lines starting "measure:" are
// the numbers the issue asks for.

import { createRequire } from "node:module";
import http from "node:http";
import path from "node:path";
import fs from "node:fs";

const env = (name) => {
  const v = process.env[name];
  if (!v) {
    console.error(`check_page.mjs: ${name} is not set`);
    process.exit(2);
  }
  return v;
};
const BASE = env("MCPROBE_BASE");
const FLEET = JSON.parse(env("MCPROBE_FLEET"));
const SHOTS = env("MCPROBE_SHOTS");
const PHASE = process.env.MCPROBE_PHASE || "main";
const require = createRequire(path.join(env("MCPROBE_PLAYWRIGHT"), "noop.js"));
const { chromium } = require("playwright-core");

const failures = [];
const fail = (what) => {
  failures.push(what);
  console.log(`FAIL ${what}`);
};

// ---- a tiny MCP server WITH CORS, so the page can probe it from the browser -----
// Legacy 2025-06-18 over Streamable HTTP (JSON answers). Its one tool's
// description is HTML that would run script if the page ever used innerHTML.
const XSS = `<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>`;
function corsServer() {
  const cors = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "*",
    "Access-Control-Expose-Headers": "*",
  };
  const server = http.createServer((req, res) => {
    if (req.method === "OPTIONS") {
      res.writeHead(204, cors);
      return res.end();
    }
    if (req.method !== "POST") {
      res.writeHead(405, { ...cors, Allow: "POST" });
      return res.end();
    }
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      let msg;
      try {
        msg = JSON.parse(body);
      } catch {
        res.writeHead(400, cors);
        return res.end();
      }
      const reply = (status, obj) => {
        res.writeHead(status, { ...cors, "Content-Type": "application/json" });
        res.end(JSON.stringify(obj));
      };
      switch (msg.method) {
        case "server/discover":
          return reply(400, { jsonrpc: "2.0", id: msg.id, error: { code: -32601, message: "Method not found" } });
        case "initialize":
          return reply(200, {
            jsonrpc: "2.0",
            id: msg.id,
            result: {
              protocolVersion: "2025-06-18",
              capabilities: { tools: {} },
              serverInfo: { name: "cors-test", version: "1.0.0" },
            },
          });
        case "notifications/initialized":
          res.writeHead(202, cors);
          return res.end();
        case "tools/list":
          return reply(200, {
            jsonrpc: "2.0",
            id: msg.id,
            result: {
              tools: [
                {
                  name: "echo",
                  description: XSS,
                  inputSchema: { type: "object", properties: { message: { type: "string" } } },
                },
              ],
            },
          });
        case "tools/call":
          return reply(200, { jsonrpc: "2.0", id: msg.id, result: { content: [{ type: "text", text: "ok" }] } });
        default:
          return reply(200, { jsonrpc: "2.0", id: msg.id, error: { code: -32601, message: "Method not found" } });
      }
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

// ---- helpers ----------------------------------------------------------------------
async function check(page, url) {
  await page.goto(`${BASE}/`);
  await page.locator("#url").fill(url);
  await page.locator("#url").press("Enter");
  // The button comes back when the check is over, whatever its verdict.
  await page.waitForSelector("#verdict, #error:not(:empty)", { timeout: 40_000 });
  const verdict = page.locator("#verdict");
  if ((await verdict.count()) === 0) {
    return { error: await page.locator("#error").innerText() };
  }
  const rungs = {};
  for (const li of await page.locator("#ladder > li").all()) {
    rungs[await li.getAttribute("data-layer")] = await li.getAttribute("data-state");
  }
  return {
    mode: await verdict.getAttribute("data-mode"),
    status: await verdict.getAttribute("data-status"),
    severity: await verdict.getAttribute("data-severity"),
    reason: await page.locator("#reason").innerText(),
    via: await page.locator("#via").getAttribute("data-via"),
    rungs,
    pageUrl: page.url(),
  };
}

const CASES = [
  { name: "ok-modern", mode: "ok", status: "up", rungs: { handshake: "passed", tools_list: "passed" } },
  { name: "ok-legacy-session-sse", mode: "ok", status: "up", rungs: { handshake: "passed", tools_list: "passed" } },
  { name: "refused", mode: "connect_refused", status: "down", rungs: { tcp: "failed", http: "pending", handshake: "pending" } },
  { name: "asleep-vercel", mode: "platform_asleep", status: "down", rungs: { http: "failed", handshake: "pending" }, reason: /vercel/i },
  {
    name: "malformed-schema-string",
    mode: "malformed_jsonrpc",
    status: "degraded",
    rungs: { handshake: "passed", spec: "failed" },
    pointer: "/result/tools/1/inputSchema",
  },
  { name: "half-auth-401", mode: "auth_half_configured", status: "degraded", rungs: { tools_list: "passed", tool_call: "failed" } },
];

function judge(name, got, want) {
  if (got.error) return fail(`${name}: no verdict, error: ${got.error}`);
  if (got.mode !== want.mode || got.status !== want.status) {
    fail(`${name}: verdict ${got.mode}/${got.status}, want ${want.mode}/${want.status} (${got.reason})`);
  }
  for (const [layer, state] of Object.entries(want.rungs || {})) {
    if (got.rungs[layer] !== state) fail(`${name}: rung ${layer} is ${got.rungs[layer]}, want ${state}`);
  }
  if (want.reason && !want.reason.test(got.reason)) fail(`${name}: reason ${JSON.stringify(got.reason)} !~ ${want.reason}`);
  if (want.via && got.via !== want.via) fail(`${name}: ran ${got.via}, want ${want.via}`);
  const layers = Object.keys(got.rungs).join(",");
  if (layers !== "dns,tcp,tls,http,handshake,tools_list,tool_call,spec,drift") fail(`${name}: ladder layers ${layers}`);
}

// ---- run ----------------------------------------------------------------------------
const context = await chromium.launchPersistentContext(env("MCPROBE_PROFILE"), {
  executablePath: env("MCPROBE_CHROMIUM"),
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
  viewport: { width: 1280, height: 900 },
});
const page = context.pages()[0] || (await context.newPage());
page.on("pageerror", (e) => fail(`page error: ${e.message}`));
page.on("dialog", (d) => {
  fail(`a dialog opened: ${d.message()}`);
  d.dismiss();
});
fs.mkdirSync(SHOTS, { recursive: true });

try {
  if (PHASE === "main") {
    // First render: cold (wasm not cached), then warm (cached), as the page marks it.
    for (const label of ["cold", "cached"]) {
      await page.goto(`${BASE}/`);
      await page.waitForFunction(() => window.__mcprobeRendered !== undefined, null, { timeout: 20_000 });
      const ms = await page.evaluate(() => window.__mcprobeRendered);
      console.log(`measure: first render (${label} wasm) ${ms.toFixed(0)} ms after navigation start`);
      if (label === "cached" && ms > 1000) fail(`first render with the wasm cached took ${ms.toFixed(0)} ms (> 1 s)`);
    }
    const field = page.locator("label[for=url]");
    if ((await field.count()) !== 1) fail("the URL field has no label");

    for (const c of CASES) {
      const url = FLEET[c.name];
      if (!url) {
        fail(`${c.name}: not in the fleet`);
        continue;
      }
      const t0 = Date.now();
      const got = await check(page, url);
      console.log(`case ${c.name.padEnd(24)} ${String(Date.now() - t0).padStart(5)} ms  ${got.mode}/${got.status} via ${got.via}  ${JSON.stringify(got.rungs)}`);
      judge(c.name, got, c);
      // The URL is reflected in the address bar, so the result can be shared.
      const shared = new URL(got.pageUrl || BASE).searchParams.get("url");
      if (shared !== url) fail(`${c.name}: address bar has url=${shared}`);
      if (c.pointer) {
        const pointers = await page.locator("#findings .pointer").allInnerTexts();
        if (!pointers.includes(c.pointer)) fail(`${c.name}: pointer ${c.pointer} not shown (${pointers})`);
      }
      if (c.name === "malformed-schema-string") {
        await page.screenshot({ path: path.join(SHOTS, "check-desktop.png"), fullPage: true });
        await page.setViewportSize({ width: 360, height: 780 });
        await page.screenshot({ path: path.join(SHOTS, "check-360.png"), fullPage: true });
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        if (overflow > 0) fail(`at 360 px the page scrolls sideways by ${overflow} px`);
        await page.setViewportSize({ width: 1280, height: 900 });
        await page.emulateMedia({ colorScheme: "dark" });
        await page.screenshot({ path: path.join(SHOTS, "check-dark.png"), fullPage: true });
        await page.emulateMedia({ colorScheme: "light" });
        // The transcript: the verdict as JSON, downloaded.
        const [download] = await Promise.all([page.waitForEvent("download"), page.locator("#transcript").click()]);
        const doc = JSON.parse(fs.readFileSync(await download.path(), "utf8"));
        if (doc.verdict?.mode !== "malformed_jsonrpc" || doc.via?.where !== "edge") {
          fail(`transcript: ${JSON.stringify(doc).slice(0, 200)}`);
        }
      }
    }

    // Alerts link to /runbook/{mode} (the SPA fallback serves the page).
    await page.goto(`${BASE}/runbook/connect_refused`);
    await page.waitForSelector("#runbook", { timeout: 10_000 }).catch(() => {});
    const rbTitle = await page.locator("#runbook h1").innerText().catch(() => "");
    if (!/listening/i.test(rbTitle)) fail(`/runbook/connect_refused shows ${JSON.stringify(rbTitle)}`);

    // A shared link runs the check by itself.
    await page.goto(`${BASE}/?url=${encodeURIComponent(FLEET["refused"])}`);
    await page.waitForSelector("#verdict", { timeout: 40_000 });
    const sharedMode = await page.locator("#verdict").getAttribute("data-mode");
    if (sharedMode !== "connect_refused") fail(`/?url= ran to ${sharedMode}, want connect_refused`);
    if ((await page.locator("#url").inputValue()) !== FLEET["refused"]) fail("/?url= did not fill the field");

    // In the browser (CORS allowed), and hostile text stays text.
    const server = await corsServer();
    const corsUrl = `http://127.0.0.1:${server.address().port}/mcp`;
    const got = await check(page, corsUrl);
    console.log(`case cors-xss                 ${got.mode}/${got.status} via ${got.via}  ${JSON.stringify(got.rungs)}`);
    judge("cors-xss", got, { mode: "ok", status: "up", via: "browser", rungs: { dns: "skipped", handshake: "passed", tools_list: "passed" } });
    const desc = await page.locator(".tool[data-tool=echo] .desc").innerText().catch(() => "");
    if (desc !== XSS) fail(`cors-xss: the description shows ${JSON.stringify(desc)}, want the raw text`);
    if ((await page.locator("#tools img, #tools script").count()) !== 0) fail("cors-xss: the description became elements");
    const xss = await page.evaluate(() => window.__xss);
    if (xss !== undefined) fail(`cors-xss: the description ran script (window.__xss=${xss})`);
    const schema = page.locator(".tool[data-tool=echo] details");
    await schema.locator("summary").click();
    if (!(await schema.locator("pre").innerText()).includes('"message"')) fail("cors-xss: the input schema does not show");
    server.close();

    // Drift, first look: remembered in this profile's localStorage.
    const first = await check(page, FLEET["drift"]);
    console.log(`case drift (first)            ${first.mode}/${first.status} via ${first.via}`);
    if (first.error) fail(`drift first: ${first.error}`);
    const note = await page.locator("#drift").innerText();
    if (!/first check/i.test(note)) fail(`drift first: ${JSON.stringify(note)}`);
  } else if (PHASE === "drift") {
    const second = await check(page, FLEET["drift"]);
    console.log(`case drift (second)           ${second.mode}/${second.status} via ${second.via}`);
    const state = await page.locator("#drift [data-drift]").getAttribute("data-drift").catch(() => null);
    if (state !== "breaking") fail(`drift second: data-drift=${state}, want breaking`);
    const removed = await page.locator("#drift li[data-kind=tool_removed]").allInnerTexts();
    if (!removed.some((t) => t.includes("delete_everything"))) fail(`drift second: removals ${JSON.stringify(removed)}`);
    if (second.rungs && second.rungs.drift !== "warned") fail(`drift second: drift rung ${second.rungs && second.rungs.drift}, want warned`);
    // The drift server is monitored: the check page offers its badge.
    await page.waitForSelector("#badge #md-snippet", { timeout: 10_000 }).catch(() => fail("drift second: no badge for a monitored server"));

    // ---- status pages, from the history the harness seeded -------------------
    const MON = JSON.parse(env("MCPROBE_MONITORS"));
    await page.goto(`${BASE}/status`);
    await page.waitForSelector(`#monitors li[data-id="${MON.refused}"] .pill[data-status=down]`, { timeout: 20_000 })
      .catch(() => fail("/status: the refused monitor is not listed as down"));
    await page.goto(`${BASE}/status/${MON.refused}`);
    await page.waitForSelector("#mon-verdict, .error", { timeout: 20_000 });
    const st = await page.locator("#mon-verdict").getAttribute("data-status").catch(() => null);
    if (st !== "down") fail(`/status/refused: status ${st}, want down (${await page.locator("main").innerText()})`);
    const bars = await page.locator("#bars .bar").count();
    if (bars !== 90) fail(`/status/refused: ${bars} bars, want 90`);
    const lastBar = await page.locator("#bars .bar").last().getAttribute("class");
    if (!/down/.test(lastBar || "")) fail(`/status/refused: today's bar is ${lastBar}`);
    await page.locator("#bars .bar").last().click();
    const detail = await page.locator("#bar-detail").innerText();
    if (!/connect_refused/.test(detail)) fail(`/status/refused: tapping today's bar shows ${JSON.stringify(detail)}`);
    const incidents = await page.locator("#incidents li.incident").allInnerTexts();
    if (!incidents.some((t) => t.includes("connect_refused"))) fail(`/status/refused: incidents ${JSON.stringify(incidents)}`);
    if ((await page.locator("#latency").count()) !== 1) fail("/status/refused: no latency chart");
    const md = await page.locator("#md-snippet").innerText();
    if (!md.includes(`/badge/${MON.refused}.svg`)) fail(`/status/refused: badge snippet ${md}`);
    await page.screenshot({ path: path.join(SHOTS, "status-desktop.png"), fullPage: true });
    await page.setViewportSize({ width: 360, height: 780 });
    await page.screenshot({ path: path.join(SHOTS, "status-360.png"), fullPage: true });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (overflow > 0) fail(`/status at 360 px scrolls sideways by ${overflow} px`);
    await page.setViewportSize({ width: 1280, height: 900 });
    console.log(`case status/refused          ${st}, ${bars} bars, ${incidents.length} incident(s)`);

    await page.goto(`${BASE}/status/${MON.drift}`);
    await page.waitForSelector("#drift-events", { timeout: 20_000 }).catch(() => {});
    const events = await page.locator("#drift-events li.drift-event").allInnerTexts();
    if (!events.some((t) => t.includes("delete_everything"))) fail(`/status/drift: drift events ${JSON.stringify(events)}`);
    console.log(`case status/drift            ${events.length} drift event(s)`);

    // ---- /audit: the registry audit (no REGISTRIES here: every mode, zero counts)
    await page.goto(`${BASE}/audit`);
    await page.waitForSelector("#audit-table, .error", { timeout: 20_000 }).catch(() => {});
    const auditModes = await page.locator("#audit-table tbody tr").evaluateAll((rows) => rows.map((r) => r.dataset.mode));
    for (const m of ["ok", "connect_refused", "handshake_failed", "auth_required", "malformed_jsonrpc"]) {
      if (!auditModes.includes(m)) fail(`/audit: no row for ${m} (rows: ${JSON.stringify(auditModes)})`);
    }
    if ((await page.locator('nav a[href="/audit"]').count()) !== 1) fail("/audit: no link in the nav");
    const crawlFacts = await page.locator("#crawl-facts").innerText().catch(() => "");
    if (!/REGISTRIES/.test(crawlFacts)) fail(`/audit: crawl facts say ${JSON.stringify(crawlFacts)}`);
    console.log(`case audit                   ${auditModes.length} mode rows`);
  } else {
    fail(`unknown phase ${PHASE}`);
  }
} catch (e) {
  fail(`exception: ${e.stack || e}`);
  await page.screenshot({ path: path.join(SHOTS, `failure-${PHASE}.png`), fullPage: true }).catch(() => {});
} finally {
  await context.close();
}

if (failures.length) {
  console.log(`${failures.length} failure(s):\n${failures.map((f) => `  - ${f}`).join("\n")}`);
  process.exit(1);
}
console.log(`phase ${PHASE}: all checks hold`);
