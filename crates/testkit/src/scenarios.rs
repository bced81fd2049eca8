//! Start here: the fleet's table, one row per scenario: its name (the public
//! key tests and the `mcprobe-fleet` binary use), where its URL points, and
//! what serves it. The expected verdict of each row lives with the tests
//! (crates/cli/tests/fleet.rs); the comment on each row says what it is for.

use std::sync::Arc;

use crate::auth_faults;
use crate::engine::legacy::{BeforeInit, LegacyCfg};
use crate::engine::tools::ToolSet;
use crate::engine::{Engine, Fault};
use crate::faults;
use crate::hostile;
use crate::hostile_bounds::{self as bounds, Pages};
use crate::http_sse::HttpSse;
use crate::server::{FnHandler, Handler};
use crate::tls::CertKind;

/// How a scenario exists on the network.
pub(crate) enum Kind {
    /// No server: a URL that cannot resolve.
    Unresolvable(&'static str),
    /// A port that was bound, noted and closed: nothing listens there.
    Refused { tls: bool },
    /// A listener of its own on 127.0.0.1; the URL is `origin + path`.
    Serve {
        path: &'static str,
        tls: Option<CertKind>,
        make: fn() -> Arc<dyn Handler>,
    },
}

pub(crate) struct Scenario {
    pub name: &'static str,
    pub kind: Kind,
}

const fn serve(name: &'static str, make: fn() -> Arc<dyn Handler>) -> Scenario {
    Scenario {
        name,
        kind: Kind::Serve {
            path: "/mcp",
            tls: None,
            make,
        },
    }
}

const fn serve_at(
    name: &'static str,
    path: &'static str,
    make: fn() -> Arc<dyn Handler>,
) -> Scenario {
    Scenario {
        name,
        kind: Kind::Serve {
            path,
            tls: None,
            make,
        },
    }
}

const fn serve_tls(name: &'static str, cert: CertKind) -> Scenario {
    Scenario {
        name,
        kind: Kind::Serve {
            path: "/mcp",
            tls: Some(cert),
            make: || Arc::new(Engine::modern()),
        },
    }
}

fn plain(
    f: fn(&crate::server::State, &crate::server::Req) -> crate::server::Resp,
) -> Arc<dyn Handler> {
    Arc::new(FnHandler(f))
}

/// Up or down by the server's variant (see the `switch` scenario).
struct Switch(Arc<Engine>);

impl Handler for Switch {
    fn handle(
        self: Arc<Self>,
        st: Arc<crate::server::State>,
        req: crate::server::Req,
    ) -> futures_util::future::BoxFuture<'static, crate::server::Resp> {
        if st.variant() == 0 {
            self.0.clone().handle(st, req)
        } else {
            let resp = faults::http_503(&st, &req);
            Box::pin(async move { resp })
        }
    }
}

/// A legacy 2025-06-18 server (JSON answers, no session, strict header): the
/// default base of the fault scenarios that do not care about the era.
fn legacy_base() -> Engine {
    Engine::legacy(LegacyCfg::new("2025-06-18"))
}

pub(crate) static SCENARIOS: &[Scenario] = &[
    // ---- ok -------------------------------------------------------------------
    // Modern-only 2026-07-28; `initialize` gets 404 + -32601 naming versions.
    serve("ok-modern", || Arc::new(Engine::modern())),
    serve("ok-legacy-json", || Arc::new(legacy_base())),
    serve("ok-legacy-session-sse", || {
        Arc::new(Engine::legacy(
            LegacyCfg::new("2025-11-25").sessions().sse(0),
        ))
    }),
    // Sessions, no version header expected; answers a pre-initialize request
    // with a plain 404 (the other before-initialize flavour).
    serve("ok-2025-03-26", || {
        Arc::new(Engine::legacy(
            LegacyCfg::new("2025-03-26")
                .sessions()
                .before_init(BeforeInit::PlainNotFound),
        ))
    }),
    serve("ok-dual-era", || {
        Arc::new(Engine::dual(LegacyCfg::new("2025-11-25")))
    }),
    // 25 tools over pages of 10; answers server/discover in-band with
    // 200 + -32601 (the third before-initialize flavour).
    serve("ok-paginated", || {
        Arc::new(
            Engine::legacy(LegacyCfg::new("2025-06-18").before_init(BeforeInit::MethodNotFound))
                .tools(ToolSet::TwentyFive)
                .paginate(10),
        )
    }),
    serve_at("ok-http-sse", "/sse", || Arc::new(HttpSse::new())),
    serve_tls("ok-tls", CertKind::Good),
    // set_variant(1) retypes echo.message, requires ping.channel, removes
    // delete_everything. Advertises resources so a safe call stays possible.
    serve("drift", || {
        Arc::new(legacy_base().tools(ToolSet::Drift).with_resources())
    }),
    // Healthy (modern) at variant 0; set_variant(1) takes it down with a 503
    // and set_variant(0) brings it back: outages, recoveries and flapping on
    // demand, for the alerting tests.
    serve("switch", || Arc::new(Switch(Arc::new(Engine::modern())))),
    serve("call-iserror", || {
        Arc::new(Engine::modern().fault(Fault::CallIsError))
    }),
    serve("safe-call-picks-readonly", || {
        Arc::new(legacy_base().tools(ToolSet::SafeCallPicksReadonly))
    }),
    serve("no-safe-tool", || {
        Arc::new(Engine::modern().tools(ToolSet::NoSafeTool).with_resources())
    }),
    // ---- dns_unresolved / connect_refused --------------------------------------
    Scenario {
        name: "dns-invalid",
        kind: Kind::Unresolvable("http://mcprobe-fleet.invalid/mcp"),
    },
    Scenario {
        name: "dns-invalid-tls",
        kind: Kind::Unresolvable("https://no-such-host.invalid:8443/mcp"),
    },
    Scenario {
        name: "refused",
        kind: Kind::Refused { tls: false },
    },
    Scenario {
        name: "refused-tls",
        kind: Kind::Refused { tls: true },
    },
    // ---- timeout -------------------------------------------------------------------
    serve("never-answers", || Arc::new(hostile::NeverAnswers)),
    serve("stalls-after-headers", || {
        Arc::new(hostile::StallsAfterHeaders)
    }),
    // ---- tls_error -----------------------------------------------------------------
    serve_tls("tls-expired", CertKind::Expired),
    serve_tls("tls-unknown-issuer", CertKind::UnknownIssuer),
    serve_tls("tls-name-mismatch", CertKind::NameMismatch),
    // ---- platform_asleep -----------------------------------------------------------
    serve("asleep-render", || plain(faults::asleep_render)),
    serve("asleep-heroku", || plain(faults::asleep_heroku)),
    serve("asleep-railway", || plain(faults::asleep_railway)),
    serve("asleep-vercel", || plain(faults::asleep_vercel)),
    // ---- route_moved ---------------------------------------------------------------
    // The listed /old-mcp is a 404; a good legacy server answers on /mcp.
    serve_at("moved-to-mcp", "/old-mcp", || Arc::new(legacy_base())),
    // The listed /mcp is a 404; a good modern server answers on /v1/mcp.
    serve("moved-to-v1", || Arc::new(Engine::modern().path("/v1/mcp"))),
    serve("gone-everywhere", || plain(faults::gone_everywhere)),
    // The listed path's other spelling: served on /mcp/, listed as /mcp
    // (modern), and served on /mcp, listed as /mcp/ (legacy).
    serve("moved-slash-added", || {
        Arc::new(Engine::modern().path("/mcp/"))
    }),
    serve_at("moved-slash-dropped", "/mcp/", || Arc::new(legacy_base())),
    // HTTP+SSE on /sse, and Streamable HTTP (modern) on /mcp of the same origin.
    serve_at("sse-beside-mcp", "/sse", || {
        Arc::new(crate::spellings::SseBesideMcp::new())
    }),
    // ---- http_error ----------------------------------------------------------------
    serve("http-503", || plain(faults::http_503)),
    serve("http-500-html", || plain(faults::http_500_html)),
    serve("redirect-loop", || plain(faults::redirect_loop)),
    serve("auth-401-bare", || plain(faults::auth_401_bare)),
    // ---- auth_required -------------------------------------------------------------
    serve("auth-oauth", || plain(faults::auth_oauth)),
    serve("auth-oauth-403-scope", || {
        plain(faults::auth_oauth_403_scope)
    }),
    // ---- handshake_failed ----------------------------------------------------------
    serve("handshake-html", || plain(faults::handshake_html)),
    // discover -> 200 + -32601, initialize -> 200 + -32603 "boom".
    serve("handshake-error", || {
        Arc::new(
            Engine::legacy(LegacyCfg::new("2025-06-18").before_init(BeforeInit::MethodNotFound))
                .fault(Fault::HandshakeError),
        )
    }),
    serve("handshake-empty", || plain(faults::handshake_empty)),
    serve("handshake-bad-version", || {
        Arc::new(legacy_base().fault(Fault::HandshakeBadVersion))
    }),
    // ---- tools_list_failed ---------------------------------------------------------
    serve("tools-list-error", || {
        Arc::new(legacy_base().fault(Fault::ToolsListRpcError))
    }),
    serve("tools-list-garbage", || {
        Arc::new(Engine::modern().fault(Fault::ToolsListGarbage))
    }),
    serve("tools-list-hangs", || {
        Arc::new(legacy_base().fault(Fault::ToolsListHangs))
    }),
    // ---- auth_half_configured / tool_call_error --------------------------------------
    serve("half-auth-401", || {
        Arc::new(Engine::modern().fault(Fault::CallHttp401))
    }),
    serve("half-auth-jsonrpc", || {
        Arc::new(legacy_base().fault(Fault::CallRpcError(-32001, "Unauthorized: missing API key")))
    }),
    serve("call-error", || {
        Arc::new(legacy_base().fault(Fault::CallRpcError(-32603, "database unavailable")))
    }),
    serve("call-timeout-32001", || {
        Arc::new(legacy_base().fault(Fault::CallRpcError(-32001, "Request timed out")))
    }),
    // ---- malformed_jsonrpc ---------------------------------------------------------
    serve("malformed-no-jsonrpc", || {
        Arc::new(legacy_base().fault(Fault::NoJsonrpcMember))
    }),
    serve("malformed-wrong-id", || {
        Arc::new(legacy_base().fault(Fault::WrongIdOnToolsList))
    }),
    serve("malformed-tools-outside-result", || {
        Arc::new(legacy_base().fault(Fault::ToolsOutsideResult))
    }),
    serve("malformed-schema-string", || {
        Arc::new(legacy_base().tools(ToolSet::SchemaString))
    }),
    serve("malformed-duplicate-names", || {
        Arc::new(legacy_base().tools(ToolSet::DuplicateNames))
    }),
    serve("malformed-modern-no-cache", || {
        Arc::new(Engine::modern().fault(Fault::ModernNoCacheFields))
    }),
    // ---- hostile -------------------------------------------------------------------
    serve("endless-sse", || Arc::new(hostile::EndlessSse)),
    serve("huge-body", || Arc::new(hostile::HugeBody)),
    serve("drip", || {
        Arc::new(hostile::Drip(Arc::new(Engine::dual(LegacyCfg::new(
            "2025-11-25",
        )))))
    }),
    serve("invalid-utf8", || {
        Arc::new(Engine::dual(LegacyCfg::new("2025-11-25")).fault(Fault::InvalidUtf8))
    }),
    serve("ten-thousand-tools", || {
        Arc::new(legacy_base().tools(ToolSet::TenThousand))
    }),
    serve("deep-json", || Arc::new(hostile::DeepJson)),
    // ---- auth discovery and refusals (auth_faults.rs) -----------------------------
    serve("auth-metadata-elsewhere", || {
        plain(auth_faults::auth_metadata_elsewhere)
    }),
    serve("auth-many-metadata", || {
        plain(auth_faults::auth_many_metadata)
    }),
    serve("auth-resource-mismatch", || {
        plain(auth_faults::auth_resource_mismatch)
    }),
    serve("auth-resource-origin", || {
        plain(auth_faults::auth_resource_origin)
    }),
    serve("auth-server-down", || plain(auth_faults::auth_server_down)),
    serve("auth-server-no-metadata", || {
        plain(auth_faults::auth_server_no_metadata)
    }),
    serve("auth-server-openid-inserted", || {
        plain(auth_faults::auth_server_openid_inserted)
    }),
    serve("host-refused-ts", || plain(auth_faults::host_refused_ts)),
    serve("host-refused-rmcp", || {
        plain(auth_faults::host_refused_rmcp)
    }),
    serve("host-refused-playwright", || {
        plain(auth_faults::host_refused_playwright)
    }),
    serve("host-refused-python", || {
        plain(auth_faults::host_refused_python)
    }),
    serve("forbidden-firewall", || {
        plain(auth_faults::forbidden_firewall)
    }),
    serve("auth-api-key", || plain(auth_faults::auth_api_key)),
    serve("auth-api-key-bare", || {
        plain(auth_faults::auth_api_key_bare)
    }),
    // ---- hostile: bounded answers, compression, credentials (hostile_bounds.rs) ----
    serve("huge-tools-page", || bounds::list(Pages::HugeEmpty)),
    serve("twenty-empty-pages", || bounds::list(Pages::TwentyEmpty)),
    serve("twenty-big-pages", || bounds::list(Pages::TwentyBig)),
    serve("huge-error-message", || bounds::list(Pages::HugeError)),
    serve("gzip-healthy", bounds::gzipped),
    serve("gzip-bomb", || Arc::new(bounds::GzipBomb)),
    // Both take the other origin from the probed URL: `?to=<header-recorder URL>`.
    serve("redirect-elsewhere", || plain(bounds::redirect_elsewhere)),
    serve("endpoint-elsewhere", || plain(bounds::endpoint_elsewhere)),
    serve("header-recorder", bounds::header_recorder),
    // ---- for later alerting work ------------------------------------------------------
    serve("slow-cold-start", || {
        Arc::new(Engine::modern().slow_cold_start())
    }),
    serve("sse-legacy-notifications", || {
        Arc::new(Engine::legacy(LegacyCfg::new("2025-06-18").sse(3)))
    }),
];
