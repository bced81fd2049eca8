//! OAuth discovery documents: RFC 9728 protected-resource metadata (and
//! whether it names the URL spoken to) and RFC 8414 / OpenID Connect
//! authorization-server metadata.

use serde_json::Value;
use url::Url;

/// The parts of an RFC 9728 protected-resource metadata document we check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceMetadata {
    pub resource: String,
    pub authorization_servers: Vec<String>,
}

/// Checks a protected-resource metadata body: a JSON object with a string
/// `resource` and a non-empty `authorization_servers` array of URLs. `Err`
/// says in one sentence what is wrong (the first problem found).
pub fn parse_resource_metadata(body: &[u8]) -> Result<ResourceMetadata, String> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let doc: Value = serde_json::from_slice(body)
        .map_err(|e| format!("The protected-resource metadata is not valid JSON ({e})."))?;
    let Value::Object(map) = &doc else {
        return Err(format!(
            "The protected-resource metadata is a JSON {}, not an object.",
            json_kind(&doc)
        ));
    };
    let resource = match map.get("resource") {
        None => return Err("The protected-resource metadata has no `resource` member.".into()),
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(Value::String(_)) => {
            return Err("The protected-resource metadata has an empty `resource`.".into())
        }
        Some(other) => {
            return Err(format!(
                "The protected-resource metadata's `resource` is a {}, not a string.",
                json_kind(other)
            ))
        }
    };
    let servers =
        match map.get("authorization_servers") {
            None => {
                return Err(
                    "The protected-resource metadata has no `authorization_servers`, so clients \
                 cannot tell where to get a token."
                        .into(),
                )
            }
            Some(Value::Array(list)) if list.is_empty() => return Err(
                "The protected-resource metadata's `authorization_servers` is empty, so clients \
                 cannot tell where to get a token."
                    .into(),
            ),
            Some(Value::Array(list)) => list,
            Some(other) => {
                return Err(format!(
                "The protected-resource metadata's `authorization_servers` is a {}, not an array.",
                json_kind(other)
            ))
            }
        };
    let mut authorization_servers = Vec::with_capacity(servers.len());
    for (i, server) in servers.iter().enumerate() {
        let Value::String(s) = server else {
            return Err(format!(
                "`authorization_servers[{i}]` is a {}, not a URL string.",
                json_kind(server)
            ));
        };
        if let Err(why) = absolute_http_url(s) {
            let shown: String = s.chars().take(120).collect();
            return Err(format!(
                "`authorization_servers[{i}]` (\"{shown}\") is not an absolute http(s) URL: {why}."
            ));
        }
        authorization_servers.push(s.clone());
    }
    Ok(ResourceMetadata {
        resource,
        authorization_servers,
    })
}

/// Does the protected resource `resource` (an RFC 9728 metadata document's
/// `resource`) cover `used`, the URL the client spoke to? RFC 9728 §3.3 says
/// metadata that does not match MUST NOT be used. Decided as the official
/// TypeScript SDK's client does (`checkResourceAllowed`): the same origin
/// (scheme, host, port), and `used`'s path is the resource's path or lies
/// below it, compared a segment at a time (`/api` covers `/api/mcp`, not
/// `/api2`). A resource naming only the origin covers every path on it, which
/// is what mcp-handler publishes. Queries and fragments play no part; text
/// that is no URL covers nothing.
pub fn resource_covers(resource: &str, used: &str) -> bool {
    let (Ok(resource), Ok(used)) = (Url::parse(resource.trim()), Url::parse(used)) else {
        return false;
    };
    if !matches!(resource.scheme(), "http" | "https") || resource.origin() != used.origin() {
        return false;
    }
    let dir = |p: &str| {
        if p.ends_with('/') {
            p.to_string()
        } else {
            format!("{p}/")
        }
    };
    used.path().len() >= resource.path().len()
        && dir(used.path()).starts_with(&dir(resource.path()))
}

/// Where an authorization server's metadata may live, in the order the
/// official TypeScript SDK tries them: RFC 8414 §3.1 (the well-known name
/// inserted between the host and the issuer's path), then OpenID Connect
/// Discovery with the same insertion, then OpenID Connect's original
/// spelling (appended to the issuer's path). An issuer without a path has
/// the two plain names only. Empty when `issuer` is not an http(s) URL.
pub fn authorization_server_metadata_urls(issuer: &str) -> Vec<String> {
    let Ok(url) = Url::parse(issuer.trim()) else {
        return Vec::new();
    };
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Vec::new();
    }
    let origin = url.origin().ascii_serialization();
    let path = url.path().trim_end_matches('/');
    if path.is_empty() {
        vec![
            format!("{origin}/.well-known/oauth-authorization-server"),
            format!("{origin}/.well-known/openid-configuration"),
        ]
    } else {
        vec![
            format!("{origin}/.well-known/oauth-authorization-server{path}"),
            format!("{origin}/.well-known/openid-configuration{path}"),
            format!("{origin}{path}/.well-known/openid-configuration"),
        ]
    }
}

/// The parts of an authorization server's metadata (RFC 8414 §2, or OpenID
/// Connect Discovery) a client needs to get a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthServerMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
}

/// Checks an authorization server's metadata: a JSON object with a string
/// `issuer` and absolute http(s) `authorization_endpoint` and
/// `token_endpoint` (the members the official TypeScript SDK requires before
/// it starts a login). `Err` says in one sentence what is wrong.
pub fn parse_authorization_server_metadata(body: &[u8]) -> Result<AuthServerMetadata, String> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let doc: Value =
        serde_json::from_slice(body).map_err(|e| format!("it is not valid JSON ({e})"))?;
    let Value::Object(map) = &doc else {
        return Err(format!("it is a JSON {}, not an object", json_kind(&doc)));
    };
    let text = |name: &str| match map.get(name) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(Value::String(_)) => Err(format!("its `{name}` is empty")),
        Some(other) => Err(format!(
            "its `{name}` is a {}, not a string",
            json_kind(other)
        )),
        None => Err(format!("it has no `{name}`")),
    };
    let issuer = text("issuer")?;
    let endpoint = |name: &str| {
        let url = text(name)?;
        absolute_http_url(&url).map_err(|why| {
            let shown: String = url.chars().take(120).collect();
            format!("its `{name}` (\"{shown}\") is not an absolute http(s) URL: {why}")
        })?;
        Ok::<String, String>(url)
    };
    let authorization_endpoint = endpoint("authorization_endpoint")?;
    let token_endpoint = endpoint("token_endpoint")?;
    Ok(AuthServerMetadata {
        issuer,
        authorization_endpoint,
        token_endpoint,
    })
}

pub(super) fn absolute_http_url(s: &str) -> Result<(), String> {
    let url = Url::parse(s).map_err(|e| e.to_string())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("the scheme is {}", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("it has no host".into());
    }
    Ok(())
}

pub(super) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata_error(body: &str) -> String {
        match parse_resource_metadata(body.as_bytes()) {
            Ok(md) => panic!("expected an error for {body}, got {md:?}"),
            Err(e) => e,
        }
    }

    // ---- protected-resource metadata --------------------------------------

    #[test]
    fn good_metadata() {
        let body = br#"{"resource":"https://mcp.example.com/mcp","authorization_servers":["https://auth.example.com","http://localhost:9000/realms/x"],"scopes_supported":["mcp"]}"#;
        let md = parse_resource_metadata(body).expect("valid");
        assert_eq!(md.resource, "https://mcp.example.com/mcp");
        assert_eq!(
            md.authorization_servers,
            ["https://auth.example.com", "http://localhost:9000/realms/x"]
        );
        // A UTF-8 byte-order mark in front is tolerated.
        let mut with_bom = b"\xEF\xBB\xBF".to_vec();
        with_bom.extend_from_slice(body);
        assert!(parse_resource_metadata(&with_bom).is_ok());
    }

    #[test]
    fn bad_metadata_names_the_first_problem() {
        let cases: [(&str, &str); 10] = [
            ("<html>login</html>", "not valid JSON"),
            ("", "not valid JSON"),
            ("[1,2]", "is a JSON array, not an object"),
            (
                r#"{"authorization_servers":["https://a.example"]}"#,
                "no `resource`",
            ),
            (
                r#"{"resource":42,"authorization_servers":["https://a.example"]}"#,
                "`resource` is a number",
            ),
            (
                r#"{"resource":"https://r.example"}"#,
                "no `authorization_servers`",
            ),
            (
                r#"{"resource":"https://r.example","authorization_servers":[]}"#,
                "`authorization_servers` is empty",
            ),
            (
                r#"{"resource":"https://r.example","authorization_servers":"https://a.example"}"#,
                "is a string, not an array",
            ),
            (
                r#"{"resource":"https://r.example","authorization_servers":["https://a.example",7]}"#,
                "`authorization_servers[1]` is a number",
            ),
            (
                r#"{"resource":"https://r.example","authorization_servers":["/oauth"]}"#,
                "`authorization_servers[0]` (\"/oauth\") is not an absolute http(s) URL",
            ),
        ];
        for (body, expected) in cases {
            let err = metadata_error(body);
            assert!(err.contains(expected), "{body}: {err}");
            assert!(err.ends_with('.'), "one sentence: {err}");
        }
        let err = metadata_error(r#"{"resource":"x","authorization_servers":["ftp://a.example"]}"#);
        assert!(err.contains("the scheme is ftp"), "{err}");
    }

    // ---- RFC 9728 resource matching, authorization servers ------------------

    #[test]
    fn resource_matching_follows_the_typescript_sdk() {
        let used = "https://mcp.example.com/mcp";
        for resource in [
            "https://mcp.example.com/mcp",
            // mcp-handler's default: the origin only.
            "https://mcp.example.com",
            "https://mcp.example.com/",
            "HTTPS://MCP.example.com:443/mcp",
            "https://mcp.example.com/mcp#frag",
        ] {
            assert!(
                resource_covers(resource, used),
                "{resource} should cover {used}"
            );
        }
        assert!(resource_covers(
            "https://x.example/api",
            "https://x.example/api/mcp"
        ));
        for resource in [
            // The case the SDK refuses: another path on the same origin.
            "https://mcp.example.com/api",
            "https://mcp.example.com/mc",
            "https://mcp.example.com/mcp/v2",
            "http://mcp.example.com/mcp",
            "https://mcp.example.com:8443/mcp",
            "https://other.example.com/mcp",
            "/mcp",
            "not a url",
            "",
            "mailto:a@mcp.example.com",
        ] {
            assert!(
                !resource_covers(resource, used),
                "{resource} must not cover {used}"
            );
        }
        // `/api` does not cover `/api2`; `/foo/` does not cover `/foo`.
        assert!(!resource_covers(
            "https://x.example/api",
            "https://x.example/api2"
        ));
        assert!(!resource_covers(
            "https://x.example/foo/",
            "https://x.example/foo"
        ));
    }

    #[test]
    fn authorization_server_metadata_urls_insert_the_well_known_name() {
        assert_eq!(
            authorization_server_metadata_urls("https://auth.example.com"),
            [
                "https://auth.example.com/.well-known/oauth-authorization-server",
                "https://auth.example.com/.well-known/openid-configuration",
            ]
        );
        assert_eq!(
            authorization_server_metadata_urls("https://auth.example.com/"),
            authorization_server_metadata_urls("https://auth.example.com")
        );
        assert_eq!(
            authorization_server_metadata_urls("https://kc.example.com:8443/realms/mcp/"),
            [
                "https://kc.example.com:8443/.well-known/oauth-authorization-server/realms/mcp",
                "https://kc.example.com:8443/.well-known/openid-configuration/realms/mcp",
                "https://kc.example.com:8443/realms/mcp/.well-known/openid-configuration",
            ]
        );
        assert!(authorization_server_metadata_urls("ftp://auth.example.com").is_empty());
        assert!(authorization_server_metadata_urls("/oauth").is_empty());
    }

    #[test]
    fn authorization_server_metadata_needs_the_login_endpoints() {
        let good = br#"{"issuer":"https://a.example","authorization_endpoint":"https://a.example/authorize","token_endpoint":"https://a.example/token","response_types_supported":["code"]}"#;
        let md = parse_authorization_server_metadata(good).expect("valid");
        assert_eq!(md.token_endpoint, "https://a.example/token");
        for (body, expected) in [
            ("<html>Not Found</html>", "not valid JSON"),
            ("[]", "a JSON array"),
            (
                r#"{"authorization_endpoint":"https://a/x","token_endpoint":"https://a/t"}"#,
                "no `issuer`",
            ),
            (
                r#"{"issuer":"https://a","token_endpoint":"https://a/t"}"#,
                "no `authorization_endpoint`",
            ),
            (
                r#"{"issuer":"https://a","authorization_endpoint":"https://a/x"}"#,
                "no `token_endpoint`",
            ),
            (
                r#"{"issuer":"https://a","authorization_endpoint":"/authorize","token_endpoint":"https://a/t"}"#,
                "`authorization_endpoint` (\"/authorize\") is not an absolute",
            ),
            (
                r#"{"issuer":7,"authorization_endpoint":"https://a/x","token_endpoint":"https://a/t"}"#,
                "`issuer` is a number",
            ),
        ] {
            let err = parse_authorization_server_metadata(body.as_bytes()).expect_err(body);
            assert!(err.contains(expected), "{body}: {err}");
        }
    }
}
