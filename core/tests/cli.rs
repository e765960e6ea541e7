//! `metricore serve` run as a process: its help, a timed run scraped while it serves, a
//! taken port, a configuration file, SIGTERM.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn metricore() -> Command {
    Command::new(env!("CARGO_BIN_EXE_metricore"))
}

/// Starts `metricore serve ARGS` and reads the address it prints when it is serving.
fn spawn_serving(args: &[&str]) -> (Child, SocketAddr, BufReader<std::process::ChildStderr>) {
    let mut child = metricore()
        .arg("serve")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("metricore starts");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let addr = line
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .parse()
        .unwrap();
    (child, addr, stderr)
}

/// A plain HTTP/1.1 GET; the status line's code and the body.
fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let code = answer[9..12].parse().unwrap();
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (code, body)
}

fn wait_with_deadline(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("metricore did not stop within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn help_reads_like_a_manual() {
    let out = metricore().args(["serve", "--help"]).output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "--listen <ADDR:PORT>",
        "--config <FILE>",
        "--demo",
        "--duration <SECONDS>",
        "/metrics",
        "/live",
        "CONFIGURATION FILE",
        "cardinality_limit = 10000",
        "sample_interval = 10",
        "EXAMPLES",
        "EXIT STATUS",
        "127.0.0.1:9090",
    ] {
        assert!(help.contains(needle), "--help lacks {needle:?}:\n{help}");
    }
    let top = metricore().arg("--help").output().unwrap();
    assert!(String::from_utf8(top.stdout).unwrap().contains("serve"));
}

#[test]
fn serves_the_demo_for_the_duration_then_stops_cleanly() {
    let started = Instant::now();
    let (mut child, addr, mut stderr) = spawn_serving(&[
        "--listen",
        "127.0.0.1:0",
        "--demo",
        "--duration",
        "3",
        "--sample-interval",
        "0.5",
    ]);
    assert!(addr.ip().is_loopback());
    std::thread::sleep(Duration::from_millis(800));
    let (code, metrics) = http_get(addr, "/metrics");
    assert_eq!(code, 200);
    assert!(metrics.contains("http_requests_total{method="), "{metrics}");
    assert!(metrics.contains("http_request_duration_seconds_bucket{route="));
    assert!(metrics.contains("process_resident_memory_bytes "));
    assert_eq!(http_get(addr, "/health").0, 200);
    assert!(http_get(addr, "/").1.contains("uPlot"));
    let status = wait_with_deadline(&mut child, Duration::from_secs(10));
    assert!(status.success(), "{status}");
    assert!(started.elapsed() >= Duration::from_secs(3));
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("stopped (duration reached)"), "{rest}");
    assert!(TcpStream::connect(addr).is_err(), "the port is released");
}

#[test]
fn a_taken_port_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = metricore()
        .args(["serve", "--listen", &addr, "--duration", "5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains(&format!("cannot listen on {addr}")) && stderr.contains("in use"),
        "{stderr}"
    );
}

#[test]
fn sigterm_stops_it_cleanly() {
    let (mut child, addr, mut stderr) = spawn_serving(&["--listen", "127.0.0.1:0"]);
    assert_eq!(http_get(addr, "/health").0, 200);
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: kill(2) on the pid of a child this test spawned and has not reaped.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let status = wait_with_deadline(&mut child, Duration::from_secs(10));
    assert!(status.success(), "{status}");
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("stopped (terminated)"), "{rest}");
}

#[test]
fn the_configuration_file_sets_address_path_and_auth() {
    let dir = std::env::temp_dir().join(format!("metricore-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("metricore.toml");
    std::fs::write(
        &config,
        "address = \"127.0.0.1\"\nport = 0\npath = \"/prom\"\nsample_interval = 1\ncardinality_limit = 2\n\n[auth]\nbearer_token = \"t0ken\"\n",
    )
    .unwrap();
    let (mut child, addr, _stderr) = spawn_serving(&[
        "--config",
        config.to_str().unwrap(),
        "--demo",
        "--duration",
        "3",
    ]);
    assert_eq!(http_get(addr, "/prom").0, 401);
    // A cardinality limit of 2 sends the demo's third label set on to the overflow series.
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let (code, body) = http_get(addr, "/prom?access_token=t0ken");
        assert_eq!(code, 200);
        if body.contains("metricore_cardinality_overflow_total") {
            break;
        }
        assert!(Instant::now() < deadline, "no overflow in {body}");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(wait_with_deadline(&mut child, Duration::from_secs(10)).success());

    std::fs::write(&config, "port = 0\nlisten_everywhere = true\n").unwrap();
    let out = metricore()
        .args(["serve", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("listen_everywhere")
    );

    std::fs::write(&config, "enabled = false\n").unwrap();
    let out = metricore()
        .args(["serve", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_arguments_exit_2() {
    let out = metricore()
        .args(["serve", "--listen", "not-an-address"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains("--listen"));
}
