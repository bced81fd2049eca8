//! Start here: `monitors.toml`, read once at start-up and checked in full
//! before anything is probed. Each `[[monitor]]` table becomes the JSON body
//! the Worker's `POST /api/monitors` takes and goes through the core's
//! [`validate_new`] and [`AlertConfig::parse`], so a mistake reads exactly as
//! the Worker's 400 would; what only the CLI has (`maintenance`, `id`,
//! `${NAME}` references, the `[watch]` table) is checked here. The file's
//! shape is documented in [`crate::watch`].

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use mcprobe_monitor::alerts::AlertConfig;
use mcprobe_monitor::error::ValidationError;
use mcprobe_monitor::monitor::{validate_new, MonitorSpec};
use mcprobe_monitor::policy::MaintenanceWindow;
use serde_json::{Map, Value};

/// Where the state goes when `[watch] state` is not given.
pub const DEFAULT_STATE_PATH: &str = "./mcprobe-watch.sqlite";
/// Longest monitor id (it is part of every incident id and dedup key).
const MAX_ID_CHARS: usize = 64;

/// A config mistake: what is wrong and what to write instead (printed as
/// one line, exit code 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}; {hint}")]
pub struct ConfigError {
    pub error: String,
    pub hint: String,
}

impl ConfigError {
    fn new(error: impl Into<String>, hint: impl Into<String>) -> Self {
        ConfigError {
            error: error.into(),
            hint: hint.into(),
        }
    }
}

/// One monitor, fully checked.
#[derive(Debug, Clone)]
pub struct WatchMonitor {
    /// Stable id: `id` if given, else a slug of the name. Part of incident
    /// ids and PagerDuty / Opsgenie dedup keys, so renaming a monitor with an
    /// explicit `id` keeps its incidents.
    pub id: String,
    pub spec: MonitorSpec,
    pub alerts: AlertConfig,
    pub maintenance: Vec<MaintenanceWindow>,
}

/// The whole file.
#[derive(Debug, Clone)]
pub struct WatchConfig {
    pub state_path: PathBuf,
    /// Base of the default runbook links (`{public_base}/runbook/{mode}`).
    pub public_base: String,
    /// Extra CA certificates (PEM) to trust when probing.
    pub cacert: Option<PathBuf>,
    pub monitors: Vec<WatchMonitor>,
}

/// Reads and checks `path`; `env` resolves `${NAME}` references.
pub fn load(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<WatchConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::new(
            format!("cannot read the config {}: {e}", path.display()),
            "give the path of a monitors.toml with --config",
        )
    })?;
    let base = path.parent().unwrap_or_else(|| Path::new("."));
    parse(&text, base, env)
}

const MONITOR_EXAMPLE: &str = "e.g. [[monitor]] name = \"docs\" url = \"https://example.com/mcp\"";

/// Parses the text of a config; relative paths in `[watch]` are taken from
/// `base` (the config's folder), so a systemd unit and a shell agree.
pub fn parse(
    text: &str,
    base: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<WatchConfig, ConfigError> {
    let doc: toml::Table = toml::from_str(text).map_err(|e| {
        ConfigError::new(
            format!("the config is not valid TOML: {}", one_line(&e.to_string())),
            "see the example in `mcprobe watch --help`",
        )
    })?;
    let mut state_path = base.join(DEFAULT_STATE_PATH);
    let mut public_base = String::new();
    let mut cacert = None;
    let mut monitors_raw = None;
    for (key, value) in &doc {
        match key.as_str() {
            "watch" => {
                let t = value.as_table().ok_or_else(|| {
                    ConfigError::new(
                        "[watch] must be a table",
                        "e.g. [watch] state = \"/var/lib/mcprobe/watch.sqlite\"",
                    )
                })?;
                for (k, v) in t {
                    let s = v.as_str().filter(|s| !s.is_empty()).ok_or_else(|| {
                        ConfigError::new(
                            format!("watch.{k} must be a non-empty string"),
                            "quote it: watch.state = \"./mcprobe-watch.sqlite\"",
                        )
                    })?;
                    match k.as_str() {
                        "state" => state_path = base.join(s),
                        "public_base" => {
                            if !(s.starts_with("https://") || s.starts_with("http://")) {
                                return Err(ConfigError::new(
                                    "watch.public_base is not an http(s) URL",
                                    "give the base of your runbook pages, e.g. \"https://status.example.com\"",
                                ));
                            }
                            public_base = s.trim_end_matches('/').to_string();
                        }
                        "cacert" => cacert = Some(base.join(s)),
                        other => {
                            return Err(ConfigError::new(
                                format!("watch.{other} is not a setting"),
                                "[watch] takes state, public_base and cacert",
                            ))
                        }
                    }
                }
            }
            "monitor" => monitors_raw = Some(value),
            other => {
                return Err(ConfigError::new(
                    format!("top-level key {other:?} is not part of the config"),
                    "the config has an optional [watch] table and [[monitor]] tables",
                ))
            }
        }
    }
    let list = match monitors_raw {
        None => &Vec::new(),
        Some(v) => v.as_array().ok_or_else(|| {
            ConfigError::new(
                "monitor must be an array of tables",
                format!("write each monitor as [[monitor]] (two brackets); {MONITOR_EXAMPLE}"),
            )
        })?,
    };
    if list.is_empty() {
        return Err(ConfigError::new(
            "the config has no [[monitor]]",
            MONITOR_EXAMPLE,
        ));
    }
    let mut monitors = Vec::new();
    let mut ids = BTreeSet::new();
    for (i, raw) in list.iter().enumerate() {
        let m = monitor(i, raw, env)?;
        if !ids.insert(m.id.clone()) {
            return Err(ConfigError::new(
                format!(
                    "monitor {} ({:?}): id {:?} is used twice",
                    i + 1,
                    m.spec.name,
                    m.id
                ),
                "give each monitor its own name, or an explicit id = \"...\"",
            ));
        }
        monitors.push(m);
    }
    Ok(WatchConfig {
        state_path,
        public_base,
        cacert,
        monitors,
    })
}

fn monitor(
    i: usize,
    raw: &toml::Value,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<WatchMonitor, ConfigError> {
    let n = i + 1;
    let table = raw
        .as_table()
        .ok_or_else(|| ConfigError::new(format!("monitor {n} is not a table"), MONITOR_EXAMPLE))?;
    let label = match table.get("name").and_then(toml::Value::as_str) {
        Some(name) => format!("monitor {n} ({name:?})"),
        None => format!("monitor {n}"),
    };
    let at = |e: ValidationError| ConfigError::new(format!("{label}: {}", e.error), e.hint);
    let mut body = Map::new();
    let mut maintenance = Vec::new();
    let mut id = None;
    for (k, v) in table {
        match k.as_str() {
            "maintenance" => maintenance = windows(&label, v)?,
            "id" => {
                let s = v.as_str().unwrap_or_default();
                if !valid_id(s) {
                    return Err(ConfigError::new(
                        format!("{label}: id must be 1..{MAX_ID_CHARS} characters of a-z, 0-9, '-' and '_'"),
                        "e.g. id = \"docs-prod\"",
                    ));
                }
                id = Some(s.to_string());
            }
            "headers" | "alerts" => {
                let mut json = to_json(v);
                expand_env(&mut json, &format!("{label}: {k}"), env)?;
                body.insert(k.clone(), json);
            }
            _ => {
                body.insert(k.clone(), to_json(v));
            }
        }
    }
    // `public` means "on the public status page": the Worker's, not ours.
    if body.contains_key("public") {
        return Err(ConfigError::new(
            format!("{label}: \"public\" is a setting of the edge monitor only"),
            "remove it: mcprobe watch has no status page",
        ));
    }
    let spec = validate_new(&Value::Object(body)).map_err(at)?;
    let alerts = spec.alerts.clone();
    let id = match id {
        Some(id) => id,
        None => {
            let slug = slug(&spec.name);
            if slug.is_empty() {
                return Err(ConfigError::new(
                    format!("{label}: the name gives no id (no letters or digits)"),
                    "add id = \"my-server\"",
                ));
            }
            slug
        }
    };
    Ok(WatchMonitor {
        id,
        spec,
        alerts,
        maintenance,
    })
}

fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.chars().count() <= MAX_ID_CHARS
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// `My Docs Server!` -> `my-docs-server`.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    out.chars()
        .take(MAX_ID_CHARS)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

fn windows(label: &str, v: &toml::Value) -> Result<Vec<MaintenanceWindow>, ConfigError> {
    let hint =
        "e.g. maintenance = [{start = \"2026-11-23T02:00:00Z\", end = \"2026-11-23T03:00:00Z\"}]";
    let list = v
        .as_array()
        .ok_or_else(|| ConfigError::new(format!("{label}: maintenance must be a list"), hint))?;
    let mut out = Vec::new();
    for (j, w) in list.iter().enumerate() {
        let t = w.as_table().ok_or_else(|| {
            ConfigError::new(format!("{label}: maintenance[{j}] must be a table"), hint)
        })?;
        let time = |field: &str| -> Result<u64, ConfigError> {
            let raw = match t.get(field) {
                Some(toml::Value::String(s)) => s.clone(),
                Some(toml::Value::Datetime(d)) => d.to_string(),
                _ => {
                    return Err(ConfigError::new(
                        format!("{label}: maintenance[{j}] needs {field}"),
                        hint,
                    ))
                }
            };
            mcprobe_core::time::parse_rfc3339_ms(&raw).ok_or_else(|| {
                ConfigError::new(
                    format!("{label}: maintenance[{j}].{field} {raw:?} is not an RFC 3339 time with an offset"),
                    hint,
                )
            })
        };
        if let Some(k) = t.keys().find(|k| *k != "start" && *k != "end") {
            return Err(ConfigError::new(
                format!("{label}: maintenance[{j}].{k} is not a field"),
                hint,
            ));
        }
        let (start_ms, end_ms) = (time("start")?, time("end")?);
        if end_ms <= start_ms {
            return Err(ConfigError::new(
                format!("{label}: maintenance[{j}] ends before it starts"),
                hint,
            ));
        }
        out.push(MaintenanceWindow { start_ms, end_ms });
    }
    Ok(out)
}

/// TOML to JSON, datetimes as their RFC 3339 text.
fn to_json(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => {
            serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
        }
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.iter().map(to_json).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
    }
}

/// Replaces `${NAME}` in every string of `v` with the variable's value, so
/// tokens live in the service's environment, not in the file. An unset
/// variable is an error naming it (never a value).
fn expand_env(
    v: &mut Value,
    at: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    match v {
        Value::String(s) => *s = expand_str(s, at, env)?,
        Value::Array(a) => {
            for x in a {
                expand_env(x, at, env)?;
            }
        }
        Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                expand_env(x, &format!("{at}.{k}"), env)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn expand_str(
    s: &str,
    at: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, ConfigError> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find("${") {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 2..];
        let Some(end) = after.find('}') else {
            return Err(ConfigError::new(
                format!("{at}: \"${{\" without a closing \"}}\""),
                "write ${NAME} to use the environment variable NAME",
            ));
        };
        let name = &after[..end];
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(ConfigError::new(
                format!("{at}: ${{{name}}} is not a variable name"),
                "names are letters, digits and '_', e.g. ${MCP_TOKEN}",
            ));
        }
        let value = env(name).ok_or_else(|| {
            ConfigError::new(
                format!("{at} uses ${{{name}}}, which is not set"),
                format!("export {name}=... (systemd: Environment= or EnvironmentFile=)"),
            )
        })?;
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn env(name: &str) -> Option<String> {
        (name == "TOKEN").then(|| "s3cret".to_string())
    }

    fn err(text: &str) -> ConfigError {
        parse(text, Path::new("/etc/mcprobe"), &env).expect_err("refused")
    }

    #[test]
    fn rfc3339_times_parse_with_offsets_and_fractions() {
        use mcprobe_core::time::parse_rfc3339_ms;
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339_ms("2026-01-01T00:00:00Z"),
            Some(20_454 * 86_400_000)
        );
        assert_eq!(
            parse_rfc3339_ms("2026-01-01T01:00:00.5+01:00"),
            Some(20_454 * 86_400_000 + 500)
        );
        assert_eq!(
            parse_rfc3339_ms("2000-02-29T00:00:00Z"),
            Some(951_782_400_000)
        );
        for bad in [
            "2026-01-01",
            "2026-01-01T00:00:00",
            "2026-13-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "2026-01-01T00:00:00+0100",
            "２026-01-01T00:00:00Z",
        ] {
            assert_eq!(parse_rfc3339_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_full_config_parses_with_env_references_expanded() {
        let cfg = parse(
            r#"
            [watch]
            state = "state/watch.sqlite"
            public_base = "https://status.example.com/"

            [[monitor]]
            name = "Docs Server"
            url = "https://example.com/mcp"
            interval_s = 120
            headers = { Authorization = "Bearer ${TOKEN}" }
            maintenance = [{ start = "2026-11-23T02:00:00Z", end = 2026-11-23T03:00:00Z }]
            [monitor.alerts]
            webhook = { url = "https://hooks.example.com/${TOKEN}" }
            pagerduty = { routing_key = "${TOKEN}" }
            quiet_hours = { start_hour = 22, end_hour = 7 }

            [[monitor]]
            id = "second"
            name = "x"
            url = "https://example.org/mcp"
            "#,
            Path::new("/etc/mcprobe"),
            &env,
        )
        .expect("parses");
        assert_eq!(cfg.state_path, Path::new("/etc/mcprobe/state/watch.sqlite"));
        assert_eq!(cfg.public_base, "https://status.example.com");
        assert_eq!(cfg.monitors.len(), 2);
        let m = &cfg.monitors[0];
        assert_eq!(m.id, "docs-server");
        assert_eq!(m.spec.interval_s, 120);
        assert_eq!(m.spec.headers["Authorization"], "Bearer s3cret");
        assert_eq!(m.alerts.channels.len(), 2);
        assert_eq!(m.alerts.channels[0].url, "https://hooks.example.com/s3cret");
        assert_eq!(m.alerts.channels[1].secret.as_deref(), Some("s3cret"));
        assert!(m.alerts.quiet_hours.is_some());
        assert_eq!(m.maintenance.len(), 1);
        assert_eq!(
            m.maintenance[0].end_ms - m.maintenance[0].start_ms,
            3_600_000
        );
        assert_eq!(cfg.monitors[1].id, "second");
        assert_eq!(cfg.monitors[1].spec.interval_s, 60);
    }

    #[test]
    fn mistakes_say_where_and_what_to_write() {
        let one = |extra: &str| {
            format!("[[monitor]]\nname = \"a\"\nurl = \"https://e.com/mcp\"\n{extra}")
        };
        for (text, needle) in [
            ("", "no [[monitor]]"),
            ("[monitor]\nname = \"a\"", "array of tables"),
            ("[[monitor]]\nname = \"a\"", "\"url\" is missing"),
            (&one("interval_s = 5"), "interval_s"),
            (&one("colour = \"red\""), "colour"),
            (&one("[monitor.alerts]\nslak = { url = \"https://x\" }"), "not a channel name"),
            (&one("headers = { X = \"${NOPE}\" }"), "${NOPE}, which is not set"),
            (&one("headers = { X = \"${bad name}\" }"), "not a variable name"),
            (&one("maintenance = [{ start = \"yesterday\", end = \"2026-01-01T00:00:00Z\" }]"), "RFC 3339"),
            (&one("maintenance = [{ start = \"2026-01-02T00:00:00Z\", end = \"2026-01-01T00:00:00Z\" }]"), "ends before"),
            (&one("public = true"), "edge monitor only"),
            ("[watch]\nstat = \"x\"\n[[monitor]]\nname = \"a\"\nurl = \"https://e.com/mcp\"", "watch.stat"),
            ("[[monitor]]\nname = \"a\"\nurl = \"https://e.com/mcp\"\n[[monitor]]\nname = \"A\"\nurl = \"https://f.com/mcp\"", "used twice"),
            ("not toml = = 1", "not valid TOML"),
        ] {
            let e = err(text);
            assert!(e.error.contains(needle), "{text:?}: {e}");
            assert!(!e.hint.is_empty(), "{text:?}");
        }
        // The error names the monitor, and never quotes a secret.
        let e = err(&one(
            "headers = { Authorization = \"Bearer ${TOKEN}\" }\ninterval_s = 1",
        ));
        assert!(e.error.starts_with("monitor 1 (\"a\"): "), "{e}");
        assert!(!e.to_string().contains("s3cret"));
        assert!(parse(&one(""), Path::new("."), &no_env).is_ok());
    }

    #[test]
    fn slugs_are_ids() {
        assert_eq!(slug("My Docs Server!"), "my-docs-server");
        assert_eq!(slug("  --a__b  "), "a-b");
        assert_eq!(slug("ünï"), "n");
        assert_eq!(slug("!!!"), "");
    }
}
