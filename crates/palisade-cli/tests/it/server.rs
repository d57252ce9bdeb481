//! A real `palisade serve` process for end-to-end tests, and a small HTTP client for it.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::{palisade, text};

/// A running server; killed (SIGKILL) when dropped.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) url: String,
    /// `host:port` of the syslog UDP input.
    pub(crate) syslog_udp: String,
    /// `host:port` of the syslog TCP input.
    pub(crate) syslog_tcp: String,
    /// `host:port` of the syslog TLS input, when it was turned on.
    pub(crate) syslog_tls: Option<String>,
}

impl Server {
    /// Starts `palisade serve` on a free loopback port and waits until it listens.
    pub(crate) fn start(data_dir: &Path, config: Option<&Path>) -> Server {
        Self::start_with(data_dir, config, &[])
    }

    /// [`Server::start`] with more `serve` arguments.
    pub(crate) fn start_with(data_dir: &Path, config: Option<&Path>, extra: &[&str]) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_palisade"));
        command.arg("--data-dir").arg(data_dir);
        if let Some(config) = config {
            command.arg("--config").arg(config);
        }
        let mut child = command
            .args([
                "serve",
                "--http",
                "127.0.0.1:0",
                "--syslog-udp",
                "127.0.0.1:0",
                "--syslog-tcp",
                "127.0.0.1:0",
            ])
            .args(extra)
            .env_remove("PALISADE_DATA_DIR")
            .env("PALISADE_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start palisade serve");
        let stderr = child.stderr.take().expect("stderr");
        let (found, wait) = std::sync::mpsc::channel();
        // Read the address lines (syslog first, HTTP last), then keep draining so the server
        // never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.split("listening on ").nth(1) {
                    let _ = found.send(url.trim().to_owned());
                } else {
                    eprintln!("[server] {line}");
                }
            }
        });
        let mut next = || {
            wait.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| {
                let _ = child.kill();
                panic!("palisade serve did not start within 60 s");
            })
        };
        // One line per listener, HTTP last.
        let (mut udp, mut tcp, mut tls) = (String::new(), String::new(), None);
        let url = loop {
            let line = next();
            if let Some(address) = line.strip_prefix("udp://") {
                udp = address.to_owned();
            } else if let Some(address) = line.strip_prefix("tcp://") {
                tcp = address.to_owned();
            } else if let Some(address) = line.strip_prefix("tls://") {
                tls = Some(address.to_owned());
            } else {
                break line;
            }
        };
        Server { syslog_udp: udp, syslog_tcp: tcp, syslog_tls: tls, url, child }
    }

    /// SIGKILL, as a crash would.
    pub(crate) fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Runs a query over HTTP and returns the JSON document.
    pub(crate) fn query(&self, token: &str, sql: &str) -> serde_json::Value {
        query(&self.url, token, sql)
    }

    /// `GET /api/v1/stats`.
    pub(crate) fn stats(&self, token: &str) -> serde_json::Value {
        agent()
            .get(&format!("{}/api/v1/stats", self.url))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .expect("stats answered")
            .body_mut()
            .read_json()
            .expect("json")
    }
}

/// Sends NDJSON lines to a server's ingest endpoint; returns the HTTP status, or the
/// connection error.
pub(crate) fn ingest(url: &str, token: &str, body: &str) -> Result<u16, String> {
    match agent()
        .post(&format!("{url}/api/v1/ingest"))
        .header("Authorization", &format!("Bearer {token}"))
        .send(body)
    {
        Ok(response) => Ok(response.status().as_u16()),
        Err(ureq::Error::StatusCode(code)) => Ok(code),
        Err(error) => Err(error.to_string()),
    }
}

/// Runs a query over HTTP and returns the JSON document.
pub(crate) fn query(url: &str, token: &str, sql: &str) -> serde_json::Value {
    let mut response = agent()
        .post(&format!("{url}/api/v1/query"))
        .header("Authorization", &format!("Bearer {token}"))
        .send_json(serde_json::json!({ "query": sql }))
        .expect("query answered");
    response.body_mut().with_config().limit(1 << 30).read_json().expect("json")
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(120)))
        .http_status_as_error(true)
        .build()
        .into()
}

/// Creates a token in the data directory and returns its secret.
pub(crate) fn token(data_dir: &Path, role: &str) -> String {
    let name = format!("test-{role}-{}", std::process::id());
    let output = palisade(&[
        "--data-dir",
        data_dir.to_str().expect("utf-8"),
        "token",
        "create",
        "--name",
        &name,
        "--role",
        role,
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    text(&output.stdout).trim().to_owned()
}
