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

    let killed = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(killed.success());
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
