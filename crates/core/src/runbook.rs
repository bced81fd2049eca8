//! Start here: what each mode means and the runbook's first steps, in our own
//! words, from the incident runbook this project grew from. The probe puts [`hint`] in
//! every verdict; the web page shows the whole [`Runbook`].
//!
//! The text is data, not code: one `match` arm a mode, so adding a mode to
//! [`Mode::ALL`] without a runbook fails to compile, and the tests hold every
//! entry to the same shape (3 to 5 steps, each a sentence, a hint of its own).
//! Commands use `<host>`, `<service>`, `<url>` and `<token>` as placeholders.

use crate::mode::Mode;

/// The runbook entry for one mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Runbook {
    pub mode: Mode,
    /// A short title, e.g. "Nothing is listening".
    pub title: &'static str,
    /// What it means, in two or three sentences.
    pub meaning: &'static str,
    /// The first steps, in order; `steps[0]` is the verdict's `hint`.
    pub steps: &'static [&'static str],
}

/// The runbook for a mode (every mode of `Mode::ALL` has one).
pub fn runbook(mode: Mode) -> Runbook {
    let (title, meaning, steps): (&str, &str, &[&str]) = match mode {
        Mode::Ok => (
            "All checks passed",
            "The name resolved, the connection and TLS held, the MCP handshake \
             completed, the tools were listed and the safe call answered. Nothing \
             needs doing.",
            &[
                "Nothing to fix: keep the monitor running and keep this tool list as \
                 the baseline that drift is measured against.",
                "Link the badge or status page from your README and registry listings \
                 so users see the same result you do.",
                "Before a planned deploy, set a maintenance window so the expected \
                 restart pages no one.",
            ],
        ),
        Mode::DnsUnresolved => (
            "The name does not resolve",
            "No address came back for the host name, so no client can reach the \
             server at all. The usual cause is a domain that lapsed (a renewal \
             charged to a dead card, a registrar that changed hands) or records \
             deleted during a change; the server itself may well still be running.",
            &[
                "Run `dig +short <host>` and `whois <domain>` to see whether the \
                 records are missing or the domain registration has expired.",
                "If the domain lapsed, renew it with the registrar now (most keep a \
                 grace period) and put renewal on a card and an inbox you watch.",
                "If the domain is current, compare the A/AAAA or CNAME records at your \
                 DNS provider with the address your host expects, and check that \
                 the nameservers were not switched.",
                "Add a calendar reminder two weeks before the domain expires, \
                 independent of the registrar's emails.",
                "If the server now lives under another name, update every registry \
                 listing that day.",
            ],
        ),
        Mode::ConnectRefused => (
            "Nothing is listening",
            "The host resolved but refused the connection: no process is bound to \
             the port. The server crashed, was stopped, or never started, while \
             DNS and the network path are fine.",
            &[
                "Check that the server process is running: `systemctl status \
                 <service>` (or `pm2 status`), then read the last log lines for the \
                 crash.",
                "Read the last hundred log lines (`journalctl -u <service> -n 100` or \
                 `pm2 logs --lines 100`) for the error just before it stopped.",
                "Look for an out-of-memory kill with `dmesg | grep -i oom` and `free \
                 -m`: the OOM killer leaves nothing in the app's own log.",
                "Restart it (`systemctl restart <service>`), confirm it stays up, and \
                 turn on automatic restarts (`Restart=on-failure`, Docker \
                 `--restart=on-failure:5`, or a pm2 `max_memory_restart` cap).",
                "Once it is up, send the initialize request to it by hand on \
                 localhost to confirm it answers MCP and not just TCP.",
            ],
        ),
        Mode::Timeout => (
            "No answer in time",
            "The request was accepted but nothing came back before the deadline. \
             The server is saturated, blocked, or waiting on something slow; on a \
             serverless or free-tier host a cold start can also overrun the \
             deadline once.",
            &[
                "Check CPU and memory on the host (`top`, or `kubectl top pods`) to \
                 see whether the server is saturated or its event loop is blocked.",
                "Check what the tools wait on: slow database queries (run `EXPLAIN \
                 ANALYZE` on the suspects), slow external APIs, and connection pools \
                 with no free connection.",
                "On a serverless or free-tier host, probe again before acting: a cold \
                 start clears in seconds and should never be confirmed as an outage.",
                "If load is the cause, add a replica or shed traffic at the load \
                 balancer and watch whether response times come back down.",
            ],
        ),
        Mode::TlsError => (
            "TLS handshake failed",
            "The connection opened but no trusted TLS session could be set up: \
             the certificate has expired or is not valid yet, its chain is broken, \
             or it was issued for another name. Clients refuse such a server, so \
             for them it is down.",
            &[
                "Inspect the served certificate and its dates with `openssl \
                 s_client -connect <host>:443 -servername <host> </dev/null | \
                 openssl x509 -noout -dates -subject -issuer`.",
                "If it expired, find out why renewal stopped: run the renewal by hand \
                 (`certbot renew --dry-run`) and check that its timer or cron job \
                 still runs after a reboot.",
                "If the chain is incomplete, serve the full chain (the leaf plus its \
                 intermediates), not the leaf alone.",
                "If the name does not match, check that the right virtual host is \
                 loaded: a web server's default certificate means the site's config \
                 was lost in a deploy.",
                "Behind a CDN, check its managed certificate and the DNS record its \
                 validation needs, then add an expiry alert 14 days ahead that does \
                 not depend on the renewal job.",
            ],
        ),
        Mode::PlatformAsleep => (
            "The hosting platform answered, not your server",
            "The answer is the hosting platform's own page: the app is asleep, \
             suspended, paused, out of credit, or no longer deployed. Free tiers \
             sleep when idle, cap monthly hours or credit and reclaim inactive \
             projects, and an MCP client will never click a \"wake up\" button.",
            &[
                "Open the platform's dashboard for this app, see whether it is asleep, \
                 suspended, paused or deleted, and wake, resume or redeploy it.",
                "Check the billing page: a reached credit or free-hours cap keeps the \
                 app suspended until the cap resets or the plan changes, so set a \
                 budget alert at 80% of it.",
                "Look for a platform email about inactive or reclaimed projects: a \
                 reclaimed project has to be redeployed, sometimes under a new URL.",
                "If the server is listed publicly, move it to the cheapest paid tier \
                 that does not sleep, so callers never meet a cold or missing app.",
                "If the URL changed, update the registry listings to the new one.",
            ],
        ),
        Mode::RouteMoved => (
            "The listed path moved",
            "The server is alive and speaks MCP, but at a path other than the \
             listed one, on the same origin. Typically a routing refactor (a new prefix \
             such as `/v1/mcp`) shipped without a redirect, and the registry \
             entries were never edited.",
            &[
                "Update the registry listing to the alternate URL the probe found.",
                "Keep the old path working: route it to the same handler, or answer it \
                 with a permanent redirect (308 keeps the POST) for at least a \
                 quarter.",
                "Search your README, docs and every registry that lists the server for \
                 the old path and fix each one.",
                "Monitor the URL the registries publish, not only the one in your \
                 README, so the next move is caught the day it ships.",
            ],
        ),
        Mode::HttpError => (
            "HTTP failure",
            "The server answered over HTTP with an error nothing more specific \
             explains: a 5xx, a 4xx without an auth challenge, a redirect loop, or \
             a body over the size cap. The app, a reverse proxy, a gateway or a CDN \
             may be the one failing.",
            &[
                "Replay the request with `curl -i -X POST <url> -H 'Content-Type: \
                 application/json' -H 'Accept: application/json, text/event-stream'` \
                 and read the status, headers and body that come back.",
                "Tell a proxy's or gateway's error page (nginx, a load balancer, a CDN) \
                 from the app's own error, and read the log of whichever produced it.",
                "For a 5xx from the app, find the stack trace in its log at the time \
                 of the probe and check whether a deploy went out just before.",
                "For a redirect loop, check the http-to-https and trailing-slash rules \
                 on the proxy and in the app, which often undo each other.",
                "If the cause is not clear within 15 minutes, escalate and post a \
                 status update instead of digging on alone.",
            ],
        ),
        Mode::AuthRequired => (
            "Private on purpose",
            "The server asks for credentials and says how to get them: a \
             `WWW-Authenticate` challenge pointing at OAuth protected-resource \
             metadata (RFC 9728). This is a healthy private server, not a failure.",
            &[
                "Nothing is broken: to check past the login, pass a token with \
                 `--header 'Authorization: Bearer <token>'`.",
                "Get that token from one of the authorization servers named in the \
                 protected-resource metadata, with the scope the challenge asks for.",
                "Give monitoring its own low-privilege token, rotate it like any \
                 other secret, and never put it in a shared link.",
                "If the server is meant to be public, take the login off discovery \
                 and the tool list.",
            ],
        ),
        Mode::HandshakeFailed => (
            "The MCP handshake failed",
            "The server answers HTTP, but neither `server/discover`, nor \
             `initialize`, nor the old SSE endpoint gave a usable answer: an error, \
             HTML, an empty body, or no protocol version in common. The usual \
             causes are a broken deploy, an SDK upgrade, a missing environment \
             variable or a proxy that intercepts the request.",
            &[
                "Check what was deployed in the last hour (`git log --oneline -10`, \
                 the platform's deploy list) and roll it back with `git revert HEAD` \
                 if the failure started with it.",
                "Send the initialize request by hand with curl and read the whole \
                 answer: an HTML page, an empty body, \"Method not found\" and a \
                 version error each point somewhere different.",
                "Compare the installed MCP SDK version (`npm list \
                 @modelcontextprotocol/sdk`, `pip show mcp`) with the one that last \
                 worked, and check which protocol versions it accepts.",
                "Read the startup log for a missing environment variable, a failed \
                 database connection or an import error, and check that the server \
                 runs the HTTP transport rather than stdio.",
            ],
        ),
        Mode::ToolsListFailed => (
            "The tools could not be listed",
            "The handshake passed, but `tools/list` failed, timed out or came back \
             unreadable. Clients connect and then find nothing they can use.",
            &[
                "Call `tools/list` by hand after initialize (sending back the \
                 `Mcp-Session-Id` it returned, if any) and read the exact error or \
                 body.",
                "Look in the application log for the exception raised while building \
                 the list: one tool whose schema cannot be generated breaks the whole \
                 list.",
                "Check whether registering tools depends on something production \
                 lacks: a feature flag, an environment variable, a database that \
                 holds tool definitions.",
                "If the list is paginated, follow `nextCursor` by hand to find the \
                 page that fails.",
            ],
        ),
        Mode::AuthHalfConfigured => (
            "Public listing, locked tools",
            "Anyone can connect and list the tools, but calling one is refused for \
             lack of credentials, and nothing says how to get them. To someone who \
             found the server in a public registry it looks up and is useless.",
            &[
                "Publish how to get a token (in the registry listing and the server's \
                 instructions), or open the tool calls to anonymous callers.",
                "If it is meant to be private, lock discovery and `tools/list` too and \
                 answer with a `WWW-Authenticate` challenge and RFC 9728 metadata, so \
                 clients can start a login.",
                "If strangers are not meant to use it at all, take it off the public \
                 registries.",
                "Check again with `--header 'Authorization: Bearer <token>'` to \
                 confirm the tools work once a credential is passed.",
            ],
        ),
        Mode::ToolCallError => (
            "The safe call failed",
            "A read-only call (a query-like tool, or listing resources or prompts) \
             came back with a JSON-RPC error that is not about auth. The server is \
             up, but at least one of its tools fails for callers.",
            &[
                "Make the same call by hand and find its error in the application log, \
                 with the stack trace behind the message.",
                "Check what that tool depends on (a database, an upstream API and its \
                 status page, a quota) for failures of its own.",
                "Check whether the tool needs configuration or arguments production \
                 does not have.",
                "If only some calls fail, compare them: one tool or all of them, large \
                 inputs only, one region only.",
            ],
        ),
        Mode::MalformedJsonrpc => (
            "The answers break the protocol",
            "The answers can be read, but they break JSON-RPC 2.0 or the MCP shapes \
             of their era: no `jsonrpc` member, an id that does not match, tools \
             outside `result`, an `inputSchema` that is a string. Lenient clients \
             cope; strict ones fail.",
            &[
                "Fix the violations listed in the findings, starting with the first \
                 JSON pointer, and re-run the check until the list is empty.",
                "Upgrade the MCP SDK to a current release: most of these shapes come \
                 from old SDK versions or early drafts of the spec.",
                "If the server is written by hand, validate its answers against the \
                 official MCP JSON Schema in CI before merging changes to the \
                 request and response code.",
                "Look for double encoding: a schema passed through `JSON.stringify` \
                 arrives as a string instead of an object.",
            ],
        ),
        Mode::SchemaDrift => (
            "The tool list changed",
            "The fingerprint of the tool list no longer matches the baseline: tools \
             or parameters were added, removed or retyped, or became required. \
             Breaking changes quietly fail clients built against the old shape.",
            &[
                "Read the drift diff and confirm with whoever deployed last that the \
                 change was intended.",
                "If it was intended, accept the new tool list as the baseline so the \
                 alert clears.",
                "If it was not, compare production's configuration with development's: \
                 a feature flag or environment variable may be hiding or changing a \
                 tool.",
                "For a breaking change, tell the server's users (changelog, chat, \
                 mailing list) and prefer adding a new version of a tool to changing \
                 it in place.",
            ],
        ),
        Mode::DeprecatedTransport => (
            "Only the old SSE transport",
            "The server answers only over the HTTP+SSE transport of the 2024-11-05 \
             revision, which later revisions replaced with Streamable HTTP. Older \
             clients still work; newer ones may not support it.",
            &[
                "Plan the move to Streamable HTTP: upgrade the MCP SDK and serve a \
                 single `/mcp` endpoint.",
                "Keep the old SSE endpoint running during the move so existing clients \
                 are not cut off.",
                "Once the new endpoint answers, list its URL in the registries.",
            ],
        ),
        Mode::LegacyOnly => (
            "No modern protocol revision",
            "The server speaks only the legacy revisions that open with \
             `initialize`, not the stateless `server/discover` of the current \
             revision. It works today, but clients that speak only the modern \
             revision will not reach it.",
            &[
                "Upgrade to an MCP SDK release that serves the current revision \
                 alongside the legacy ones.",
                "After the upgrade, check that `server/discover` answers and that \
                 legacy clients still complete `initialize`.",
                "This is a note, not an outage: schedule it with other upgrades.",
            ],
        ),
        Mode::ToolErrorResult => (
            "A tool reported an error",
            "The safe call reached the tool, and the tool answered with `isError: \
             true`. That is a valid tool-level answer, not a protocol failure, but \
             it may mean the tool cannot do its job.",
            &[
                "Read the text of the tool's error result to tell an expected refusal \
                 from a real failure.",
                "If it is a real failure, treat it like a failed call: check the \
                 tool's dependencies and its log.",
                "If the probe's choice of call caused it, configure the monitor with a \
                 tool and arguments that make sense for a health check.",
            ],
        ),
        Mode::SpecShould => (
            "A recommendation is not followed",
            "The server meets the spec's requirements but not one of its \
             recommendations (a SHOULD), for example tools listed in no stable \
             order. Nothing breaks today; some clients may behave less well.",
            &[
                "Read the finding's rule and pointer and decide whether the \
                 recommendation matters for your clients.",
                "Fix the cheap ones first: a stable tool order also keeps the \
                 fingerprint steady between deploys.",
                "Nothing pages for this: review it with the other low-priority items.",
            ],
        ),
        Mode::SlowStep => (
            "A step was slow",
            "One step took more than a tenth of its deadline. The server answered, \
             but this is time that turns into timeouts under load.",
            &[
                "Find the slow step in the timings (DNS, TLS, the handshake, the list \
                 or the call) and profile that path.",
                "For a slow handshake or tool list, look for work done on every \
                 request (loading models, opening database connections) and move it \
                 to startup or cache it.",
                "Watch the p95 for a day before acting: one slow probe after an idle \
                 spell is often a cold start.",
            ],
        ),
        Mode::ElevatedErrorRate => (
            "Too many failures",
            "Over the monitor's window, failing probes or failing tool calls went \
             above the threshold. It is a partial failure: some requests work and \
             some do not, which is often harder to pin down than an outage.",
            &[
                "Group the recent errors in the application log by tool and by error \
                 type to see whether one tool or one cause dominates.",
                "Check whether the failures follow a pattern: large payloads, one \
                 caller or token, one region.",
                "Check the status pages of the services your tools depend on.",
                "Watch the trend: rising means it is still degrading, flat means a \
                 bounded blast radius, falling means it is recovering, and tell the \
                 affected users specifically rather than everyone.",
            ],
        ),
        Mode::Slow => (
            "Latency above target",
            "The 95th percentile latency over the monitor's window is above its \
             threshold. Users wait, and slow answers are one step away from \
             timeouts.",
            &[
                "Line the latency graph up with recent deploys and traffic to see \
                 whether the slowdown began with a change or with load.",
                "Check the host's CPU and memory (`top`, `kubectl top pods`), slow \
                 database queries, and the response times of external APIs the tools \
                 call.",
                "Look in the logs for connection pool exhaustion and long \
                 garbage-collection pauses.",
                "If load is the cause, scale out; if a dependency is, put a timeout \
                 and a cache in front of it.",
            ],
        ),
    };
    Runbook {
        mode,
        title,
        meaning,
        steps,
    }
}

/// The first runbook step for a mode: the verdict's `hint`.
pub fn hint(mode: Mode) -> &'static str {
    runbook(mode).steps[0]
}

/// First steps for situations narrower than their mode, which the probe puts
/// in a verdict's `hint` in place of the mode's: the same mode can mean a
/// missing API key or a Host allow-list, and each wants its own lever.
pub mod situation {
    /// A 403/421 that refuses the `Host` (DNS-rebinding protection).
    pub const HOST_REFUSED: &str = "Add the host name clients use to the server's allowed \
        hosts (its DNS-rebinding protection: `allowedHosts` in the TypeScript SDK, \
        `TransportSecuritySettings(allowed_hosts=...)` in the Python SDK, rmcp's allowed hosts, \
        `--allowed-hosts` for Playwright), or have the proxy pass on the Host the server expects.";

    /// A 403 with no auth challenge and no word about the host.
    pub const FORBIDDEN: &str = "Read the 403's body quoted in the reason: a firewall, an IP \
        allow-list, a gateway policy or the app itself refused the request; let the monitor \
        through, or pass the credential the server expects with `--header`.";

    /// Protected-resource metadata for another resource (RFC 9728 §3.3).
    pub const RESOURCE_MISMATCH: &str = "Make the `resource` of the protected-resource metadata \
        the URL clients use (or its origin), or point the challenge's `resource_metadata` at the \
        document for this URL: clients refuse metadata that names another resource.";

    /// Valid protected-resource metadata whose authorization server has none.
    pub const AUTHORIZATION_SERVER_DOWN: &str = "Bring back the authorization server the \
        protected-resource metadata names, or serve its metadata at \
        `/.well-known/oauth-authorization-server` (RFC 8414): until then no client can get a \
        token.";

    /// The refusal speaks of an API key: `bearer` when its challenge's scheme
    /// is Bearer (the key then goes in `Authorization`).
    pub fn api_key(bearer: bool) -> &'static str {
        if bearer {
            "This server wants an API key, not an OAuth login: get one from its provider and \
             pass it as its challenge asks, `--header 'Authorization: Bearer <api key>'`, or in \
             the header its documentation names."
        } else {
            "This server wants an API key, not an OAuth login: get one from its provider and \
             pass it in the header its documentation names, such as `--header 'X-API-Key: <api \
             key>'`."
        }
    }

    /// Every situation hint, for tests.
    pub fn all() -> [&'static str; 6] {
        [
            HOST_REFUSED,
            FORBIDDEN,
            RESOURCE_MISMATCH,
            AUTHORIZATION_SERVER_DOWN,
            api_key(true),
            api_key(false),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_mode_has_a_runbook_of_three_to_five_steps() {
        for mode in Mode::ALL {
            let rb = runbook(mode);
            assert_eq!(rb.mode, mode);
            assert!(!rb.title.trim().is_empty(), "{mode}: empty title");
            assert!(!rb.title.ends_with('.'), "{mode}: a title, not a sentence");
            assert!(
                rb.meaning.ends_with('.'),
                "{mode}: meaning must end a sentence"
            );
            assert!(
                (3..=5).contains(&rb.steps.len()),
                "{mode}: {} steps",
                rb.steps.len()
            );
            for step in rb.steps {
                assert!(step.ends_with('.'), "{mode}: step not a sentence: {step}");
                assert!(!step.contains("  "), "{mode}: double space in {step:?}");
            }
            assert!(
                !rb.meaning.contains("  "),
                "{mode}: double space in meaning"
            );
        }
    }

    #[test]
    fn hints_are_the_first_step_and_unique() {
        let mut seen = HashSet::new();
        for mode in Mode::ALL {
            let h = hint(mode);
            assert_eq!(h, runbook(mode).steps[0]);
            assert!(h.ends_with('.'), "{mode}: hint must end with a period: {h}");
            assert!(seen.insert(h), "{mode}: hint shared with another mode: {h}");
        }
    }

    #[test]
    fn situation_hints_are_sentences_of_their_own() {
        let modes: HashSet<&str> = Mode::ALL.into_iter().map(hint).collect();
        let mut seen = HashSet::new();
        for h in situation::all() {
            assert!(h.ends_with('.'), "not a sentence: {h}");
            assert!(!h.contains("  "), "double space in {h:?}");
            assert!(!modes.contains(h), "shared with a mode: {h}");
            assert!(seen.insert(h), "twice: {h}");
        }
        assert!(situation::HOST_REFUSED.contains("allowed hosts"));
        assert!(situation::api_key(false).contains("X-API-Key"));
        assert!(!situation::api_key(false).contains("Bearer"));
    }

    #[test]
    fn titles_are_unique() {
        let mut seen = HashSet::new();
        for mode in Mode::ALL {
            assert!(seen.insert(runbook(mode).title), "{mode}: duplicate title");
        }
    }

    #[test]
    fn hints_carry_the_mode_specific_action() {
        // Spot checks that the first thing a person reads is the right lever.
        assert!(hint(Mode::ConnectRefused).contains("systemctl status"));
        assert!(hint(Mode::DnsUnresolved).contains("dig +short"));
        assert!(hint(Mode::TlsError).contains("openssl s_client"));
        assert!(hint(Mode::TlsError).contains("-servername"));
        assert!(hint(Mode::AuthRequired).contains("Authorization: Bearer"));
        assert!(hint(Mode::RouteMoved).contains("alternate URL"));
        assert!(hint(Mode::SchemaDrift).contains("intended"));
        assert!(hint(Mode::MalformedJsonrpc).contains("violations"));
        assert!(hint(Mode::HandshakeFailed).contains("deployed"));
    }
}
