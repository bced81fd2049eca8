//! Start here: server text never drives the operator's terminal.
//!
//! `mcprobe watch --status` prints incident reasons (which quote servers) and
//! delivery errors (which quote webhook receivers). Here the state file holds
//! a reason and an error full of escape sequences (clear screen, window
//! title), C1 controls and bidi overrides, as a hostile server would leave
//! them; `--status` must show them escaped.

use std::path::PathBuf;
use std::process::{Command, Stdio};

const HOSTILE: &str =
    "Unauthorized\u{1b}[2J\u{1b}[H\u{1b}]0;pwned\u{7} \u{9b}31m\u{85}\u{202e}gnp.exe\u{2066}";

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "mcprobe-hostile-terminal-{}-{tag}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("creating a temp dir");
    dir
}

fn watch(config: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mcprobe"))
        .arg("watch")
        .arg("--config")
        .arg(config)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("running mcprobe watch")
}

fn assert_clean(text: &str) {
    for bad in [
        '\u{1b}', '\u{7}', '\u{9b}', '\u{85}', '\u{202e}', '\u{2066}',
    ] {
        assert!(
            !text.contains(bad),
            "{bad:?} reached the terminal: {text:?}"
        );
    }
}

#[test]
fn watch_status_shows_hostile_reasons_escaped() {
    let dir = temp_dir("status");
    let config = dir.join("monitors.toml");
    // Nothing listens on port 1: the probe is refused at once.
    std::fs::write(
        &config,
        "[watch]\nstate = \"state.sqlite\"\n\n[[monitor]]\nname = \"Target\"\n\
         url = \"http://127.0.0.1:1/mcp\"\ninterval_s = 30\n\n[monitor.alerts]\n\
         webhook = { url = \"http://127.0.0.1:1/hook\" }\n",
    )
    .expect("writing the config");
    let first = watch(&config, &["--once", "--time-scale", "30"]);
    assert_clean(&String::from_utf8_lossy(&first.stderr));
    let state = dir.join("state.sqlite");
    {
        let db = rusqlite::Connection::open(&state).expect("the state file");
        db.execute(
            "INSERT INTO incidents (id, monitor_id, severity, mode, reason, hint, \
             started_at_ms, announced_at_ms) VALUES ('inc-hostile', 'target', 'P2', \
             'tool_call_error', ?1, 'h', 0, 0)",
            [HOSTILE],
        )
        .expect("an incident");
        db.execute(
            "INSERT INTO deliveries (key, monitor_id, event, severity, channel_name, channel, \
             event_json, at_ms, status, attempts, error) VALUES ('k-hostile', 'target', \
             'incident_opened', 'P2', 'webhook', 'webhook', '{}', 0, 'failed', 4, ?1)",
            [HOSTILE],
        )
        .expect("a failed delivery");
    }
    let status = watch(&config, &["--status"]);
    let text = String::from_utf8_lossy(&status.stdout);
    assert_eq!(status.status.code(), Some(0), "{text}");
    assert!(text.contains("inc-hostile"), "{text}");
    assert_clean(&text);
    // Shown, not hidden: the operator sees what the server sent.
    assert!(text.contains("Unauthorized\\u{1b}[2J"), "{text}");
    assert!(text.contains("\\u{202e}gnp.exe"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
