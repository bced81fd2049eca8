//! Start here: the address bar. [`route`] reads a path and query into the
//! [`Route`] to show (plain, host-tested); [`set_query_url`] writes a
//! checked URL back into it so a result can be shared.

use wasm_bindgen::JsValue;

/// The page to show, from the location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Check {
        url: Option<String>,
    },
    StatusList,
    /// `/audit`: the registry audit.
    Audit,
    Status {
        id: String,
    },
    /// `/runbook/{mode}`: where alerts link (`notify`'s default runbook URL).
    Runbook {
        mode: String,
    },
    NotFound {
        path: String,
    },
}

/// Routes a path and query string (`?url=...`, already without the `?`).
pub fn route(path: &str, query: &str) -> Route {
    let path = path.trim_end_matches('/');
    match path {
        "" | "/index.html" => Route::Check {
            url: url::form_urlencoded::parse(query.as_bytes())
                .find(|(k, _)| k == "url")
                .map(|(_, v)| v.into_owned()),
        },
        "/status" => Route::StatusList,
        "/audit" => Route::Audit,
        p => match (p.strip_prefix("/status/"), p.strip_prefix("/runbook/")) {
            (Some(id), _) if !id.is_empty() && !id.contains('/') => Route::Status {
                id: percent_decode(id),
            },
            (_, Some(mode)) if !mode.is_empty() && !mode.contains('/') => Route::Runbook {
                mode: percent_decode(mode),
            },
            _ => Route::NotFound {
                path: p.to_string(),
            },
        },
    }
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_string())
}

/// Puts `/?url=...` in the address bar (replacing the entry), so a result
/// can be shared. Only the URL: never a header.
pub fn set_query_url(target: &str) {
    let Some(w) = web_sys::window() else {
        return;
    };
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("url", target)
        .finish();
    if let Ok(history) = w.history() {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&format!("/?{query}")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_route_to_pages() {
        assert_eq!(route("/", ""), Route::Check { url: None });
        assert_eq!(
            route("/", "url=https%3A%2F%2Fe.com%2Fmcp%3Fa%3D1"),
            Route::Check {
                url: Some("https://e.com/mcp?a=1".into())
            }
        );
        assert_eq!(route("/status", ""), Route::StatusList);
        assert_eq!(route("/status/", ""), Route::StatusList);
        assert_eq!(
            route("/status/mon%20a", ""),
            Route::Status { id: "mon a".into() }
        );
        assert!(matches!(route("/status/a/b", ""), Route::NotFound { .. }));
        assert_eq!(
            route("/runbook/connect_refused", ""),
            Route::Runbook {
                mode: "connect_refused".into()
            }
        );
        assert!(matches!(route("/nope", ""), Route::NotFound { .. }));
    }
}
