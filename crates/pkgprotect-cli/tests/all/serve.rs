//! `pkgprotect serve` as a service manager runs it: probes answer, and SIGTERM stops it
//! cleanly (exit 0) once in-flight requests are done.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn get(port: u16, path: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let data = std::env::temp_dir().join(format!("pkgprotect-cli-serve-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let port = free_port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_pkgprotect"))
        .args(["serve", "--engine", "native", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(&data)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let listening = lines.by_ref().map_while(Result::ok).any(|line| line.contains("listening on"));
    assert!(listening, "the server did not start");

    let liveness = get(port, "/-/liveness");
    assert!(liveness.starts_with("HTTP/1.1 200"), "{liveness}");
    assert!(liveness.to_ascii_lowercase().contains("x-request-id:"), "{liveness}");
    let readiness = get(port, "/-/readiness");
    assert!(readiness.starts_with("HTTP/1.1 200"), "{readiness}");

    // A request still arriving when SIGTERM comes: its body is half sent.
    let mut slow = TcpStream::connect(("127.0.0.1", port)).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        slow,
        "POST /api/v4/projects/1/packages/protection/decisions HTTP/1.1\r\nHost: x\r\n\
         Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{"
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));

    let killed = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(killed.success());
    std::thread::sleep(Duration::from_millis(500));
    assert!(server.try_wait().unwrap().is_none(), "the server stopped with a request in flight");
    write!(slow, "}}").unwrap();
    let mut answer = String::new();
    slow.read_to_string(&mut answer).unwrap();
    // No token: GitLab's 401, answered in full after SIGTERM.
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(answer.ends_with(r#"{"message":"401 Unauthorized"}"#), "{answer}");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "still running 15 s after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status after SIGTERM: {status}");
    // tracing's log goes to standard output, after the "listening" line.
    let log: String = lines.map_while(Result::ok).collect::<Vec<_>>().join("\n");
    assert!(log.contains("shutting down"), "{log}");
    // The access log names the path and the status, never a query string.
    assert!(log.contains("path=/-/readiness") && log.contains("status=200"), "{log}");
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn tls_serves_https_with_the_given_certificate() {
    let dir = std::env::temp_dir().join(format!("pkgprotect-cli-tls-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .expect("openssl (Debian package openssl) makes the test certificate");
    assert!(made.success());
    let port = free_port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_pkgprotect"))
        .args(["serve", "--engine", "native", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir.join("data"))
        .arg("--tls-cert")
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let banner = lines.by_ref().map_while(Result::ok).find(|line| line.contains("listening on")).unwrap();
    assert!(banner.contains(&format!("https://127.0.0.1:{port}")), "{banner}");

    let curl = |scheme: &str| {
        Command::new("curl")
            .args(["-sS", "--max-time", "10", "--cacert"])
            .arg(&cert)
            .arg(format!("{scheme}://127.0.0.1:{port}/-/health"))
            .output()
            .expect("curl")
    };
    let https = curl("https");
    assert!(https.status.success(), "{}", String::from_utf8_lossy(&https.stderr));
    assert_eq!(String::from_utf8_lossy(&https.stdout), "GitLab OK");
    // Plain HTTP to the TLS port gets no HTTP answer: tokens are never read in clear.
    let plain = curl("http");
    assert!(!String::from_utf8_lossy(&plain.stdout).contains("GitLab OK"));

    server.kill().unwrap();
    server.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
