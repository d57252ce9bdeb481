//! Syslog over TLS (RFC 5425) into `palisade serve`, from rsyslog with its GnuTLS driver
//! (Debian `rsyslog-gnutls`): RFC 5424, octet counting, mutual TLS with a client certificate
//! from a CA the server was told to trust. Then clients that must be turned away: plain TCP on
//! the TLS port, and a TLS client without a certificate. Certificates are made by the
//! `openssl` command for each run.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::server::{Server, agent, token};
use crate::syslog::{host_port, logger, wait_for_rows};

fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl").current_dir(dir).args(args).output().expect("run openssl");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A CA, a server certificate for localhost/127.0.0.1 and a client certificate, all P-256.
struct Pki {
    ca: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
}

fn make_pki(dir: &Path) -> Pki {
    std::fs::create_dir_all(dir).expect("mkdir");
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=Palisade test CA",
    ]);
    openssl(dir, &ca);
    for (name, san) in [
        ("server", "subjectAltName=DNS:localhost,IP:127.0.0.1"),
        ("client", "subjectAltName=DNS:client.example.com"),
    ] {
        let subject =
            format!("/CN={}", if name == "server" { "localhost" } else { "client.example.com" });
        let (key, csr, cert, ext) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.pem"),
            format!("{name}.ext"),
        );
        std::fs::write(dir.join(&ext), format!("{san}\n")).expect("ext");
        let mut request = vec!["req"];
        request.extend(ec);
        request.extend(["-keyout", &key, "-out", &csr, "-subj", &subject]);
        openssl(dir, &request);
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &cert,
                "-days",
                "2",
                "-extfile",
                &ext,
            ],
        );
    }
    Pki {
        ca: dir.join("ca.pem"),
        server_cert: dir.join("server.pem"),
        server_key: dir.join("server.key"),
        client_cert: dir.join("client.pem"),
        client_key: dir.join("client.key"),
    }
}

/// rsyslogd with its GnuTLS network driver, when installed (CI installs both Debian
/// packages); a loud skip elsewhere.
fn rsyslogd_with_gnutls() -> Option<&'static Path> {
    let daemon = Path::new("/usr/sbin/rsyslogd");
    let driver = Path::new("/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so");
    if daemon.exists() && driver.exists() {
        return Some(daemon);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "rsyslogd or its GnuTLS driver is missing and CI=true (apt-get install rsyslog rsyslog-gnutls)"
    );
    eprintln!(
        "\n!!! SKIPPED: rsyslog-gnutls not installed (apt-get install rsyslog rsyslog-gnutls) !!!\n"
    );
    None
}

/// The value of one `palisade_input_*` series for an input.
fn metric(server: &Server, secret: &str, name: &str, input: &str) -> f64 {
    let text = agent()
        .get(&format!("{}/metrics", server.url))
        .header("Authorization", &format!("Bearer {secret}"))
        .call()
        .expect("metrics answered")
        .body_mut()
        .read_to_string()
        .expect("text");
    let prefix = format!("{name}{{input=\"{input}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {prefix} in\n{text}"))
}

#[test]
fn rsyslog_forwards_over_mutual_tls_and_strangers_are_refused() {
    let Some(rsyslogd) = rsyslogd_with_gnutls() else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let pki = make_pki(&dir.path().join("pki"));
    let secret = token(&data, "admin");
    let server = Server::start_with(
        &data,
        None,
        &[
            "--syslog-tls",
            "127.0.0.1:0",
            "--tls-cert",
            pki.server_cert.to_str().expect("utf-8"),
            "--tls-key",
            pki.server_key.to_str().expect("utf-8"),
            "--tls-client-ca",
            pki.ca.to_str().expect("utf-8"),
        ],
    );
    let tls = server.syslog_tls.clone().expect("the TLS listener is reported");
    let (host, port) = host_port(&tls);

    // rsyslogd chdir()s to /: every path in its configuration is absolute.
    let work = dir.path().join("rsyslog");
    std::fs::create_dir_all(&work).expect("mkdir");
    let socket = work.join("log.sock");
    let config = work.join("rsyslog.conf");
    std::fs::write(
        &config,
        format!(
            r#"global(workDirectory="{work}" maxMessageSize="64k"
       DefaultNetstreamDriver="gtls"
       DefaultNetstreamDriverCAFile="{ca}"
       DefaultNetstreamDriverCertFile="{cert}"
       DefaultNetstreamDriverKeyFile="{key}")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="{socket}" CreatePath="on" UseSpecialParser="off" ParseHostname="on")
action(type="omfwd" target="{host}" port="{port}" protocol="tcp"
       StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="x509/name"
       StreamDriverPermittedPeers="localhost"
       template="RSYSLOG_SyslogProtocol23Format" TCP_Framing="octet-counted"
       action.resumeRetryCount="-1" action.resumeInterval="1" queue.type="LinkedList" queue.size="10000")
"#,
            work = work.display(),
            ca = pki.ca.display(),
            cert = pki.client_cert.display(),
            key = pki.client_key.display(),
            socket = socket.display(),
        ),
    )
    .expect("config");
    let check =
        Command::new(rsyslogd).arg("-N1").arg("-f").arg(&config).output().expect("rsyslogd -N1");
    assert!(check.status.success(), "rsyslog config: {}", String::from_utf8_lossy(&check.stderr));
    let mut daemon = Command::new(rsyslogd)
        .arg("-n")
        .arg("-f")
        .arg(&config)
        .arg("-i")
        .arg(work.join("rsyslogd.pid"))
        .spawn()
        .expect("start rsyslogd");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !socket.exists() {
        assert!(Instant::now() < deadline, "rsyslogd did not create its socket");
        std::thread::sleep(Duration::from_millis(50));
    }
    let socket_text = socket.to_str().expect("utf-8");
    let sent: Vec<String> = (0..40)
        .map(|n| {
            format!("Accepted publickey for deploy{n} from 2001:db8::{n:x} port {} ssh2", 40000 + n)
        })
        .collect();
    for line in &sent {
        logger(&["-u", socket_text, "--tag", "sshd", "--id=4242", "-p", "authpriv.info", line]);
    }
    let answer = wait_for_rows(
        &server,
        &secret,
        r#"SELECT message, "user.name" AS user, "source.ip" AS ip, "source.port" AS port,
           "event.action" AS action, "process.pid" AS pid FROM events
           WHERE "process.name" = 'sshd' ORDER BY port"#,
        sent.len(),
    );
    for (row, (n, line)) in
        answer["rows"].as_array().expect("rows").iter().zip(sent.iter().enumerate())
    {
        assert_eq!(row["message"].as_str(), Some(line.as_str()));
        assert_eq!(row["user"].as_str(), Some(format!("deploy{n}").as_str()));
        assert_eq!(row["ip"].as_str(), Some(format!("2001:db8::{n:x}").as_str()));
        assert_eq!(row["port"].as_i64(), Some(40000 + n as i64));
        assert_eq!(row["action"].as_str(), Some("ssh_login"));
        assert_eq!(row["pid"].as_i64(), Some(4242));
    }
    let _ = daemon.kill();
    let _ = daemon.wait();
    assert_eq!(metric(&server, &secret, "palisade_input_received_total", "syslog_tls"), 40.0);

    // A plain-text sender on the TLS port: its bytes are not a handshake, nothing is stored.
    let mut plain = std::net::TcpStream::connect(&tls).expect("connect");
    plain
        .write_all(b"<34>1 2026-12-01T10:00:00Z host app - - - plain text on the TLS port\n")
        .expect("write");
    drop(plain);
    // A TLS client without a certificate, while the server requires one.
    let mut stranger = Command::new("openssl")
        .args(["s_client", "-connect", &tls, "-CAfile", pki.ca.to_str().expect("utf-8"), "-quiet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl s_client");
    let mut input = stranger.stdin.take().expect("stdin");
    let _ =
        input.write_all(b"70 <34>1 2026-12-01T10:00:00Z host app - - - no client certificate\n");
    drop(input);
    let deadline = Instant::now() + Duration::from_secs(20);
    while metric(&server, &secret, "palisade_input_tls_failures_total", "syslog_tls") < 2.0 {
        assert!(Instant::now() < deadline, "the two strangers were not counted as TLS failures");
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = stranger.kill();
    let _ = stranger.wait();
    let all = wait_for_rows(&server, &secret, "SELECT message FROM events", sent.len());
    assert!(
        all["rows"].as_array().expect("rows").iter().all(|row| {
            let message = row["message"].as_str().unwrap_or_default();
            !message.contains("plain text") && !message.contains("no client certificate")
        }),
        "{all}"
    );
    let _ = host;
    server.kill();
}

#[test]
fn tls_without_a_certificate_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let output = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args(["serve", "--http", "127.0.0.1:0", "--syslog-udp", "off", "--syslog-tcp", "off"])
        .args(["--syslog-tls", "127.0.0.1:0"])
        .env_remove("PALISADE_DATA_DIR")
        .output()
        .expect("run palisade");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("--tls-cert"), "{output:?}");
    let key = dir.path().join("key.pem");
    std::fs::write(&key, "not a key\n").expect("write");
    let output = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args(["serve", "--http", "127.0.0.1:0", "--syslog-udp", "off", "--syslog-tcp", "off"])
        .arg("--tls-cert")
        .arg(&key)
        .arg("--tls-key")
        .arg(&key)
        .env_remove("PALISADE_DATA_DIR")
        .output()
        .expect("run palisade");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("key.pem"), "{output:?}");
}
