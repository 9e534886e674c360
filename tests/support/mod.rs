//! Helpers shared by the tests that run against the real SSH test hosts.
#![allow(dead_code)]

pub mod local;
pub mod nspawn;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The ansible-core virtualenv the comparisons run (`DROVER_ANSIBLE_VENV`, else the one
/// `.ci/run` makes from `tests/requirements-ansible.txt`).
pub fn ansible_venv() -> PathBuf {
    std::env::var_os("DROVER_ANSIBLE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/drover-test/venv"))
}

/// The test hosts' state dir (`tests/hosts/up 4` writes it); `None` only when the SSH
/// tests are explicitly skipped with DROVER_SKIP_SSH_TESTS=1.
pub fn hosts_dir() -> Option<PathBuf> {
    if std::env::var("DROVER_SKIP_SSH_TESTS").is_ok_and(|v| v == "1") {
        return None;
    }
    let dir = PathBuf::from(
        std::env::var("DROVER_TEST_HOSTS").unwrap_or_else(|_| "/tmp/drover-hosts".into()),
    );
    assert!(
        dir.join("inventory.yml").exists(),
        "no test hosts in {}: run `tests/hosts/up 4` (or DROVER_SKIP_SSH_TESTS=1)",
        dir.display()
    );
    Some(dir)
}

/// The test hosts' DROVER_HOSTS_BASE_PORT (host I listens on it + I), from their
/// inventory, for the harness scripts (`restart-host`).
pub fn base_port(dir: &Path) -> u16 {
    let inv = std::fs::read_to_string(dir.join("inventory.yml")).unwrap();
    let first: u16 = inv
        .lines()
        .find_map(|l| l.trim().strip_prefix("ansible_port:"))
        .and_then(|p| p.trim().parse().ok())
        .expect("a port in the test hosts' inventory");
    first - 1
}

/// Run a command on a test host with the plain OpenSSH client (independent of drover).
pub fn ssh(dir: &Path, host: &str, cmd: &str) -> String {
    let out = Command::new("ssh")
        .arg("-F")
        .arg(dir.join("ssh_config"))
        .arg(host)
        .arg(cmd)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Run a playbook (given as text) on one test host with `--format json`; returns (exit
/// code, the host's changed count from the recap, all of stdout and stderr).
pub fn apply_on(dir: &Path, host: &str, play: &str, extra: &[&str]) -> (i32, u64, String) {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("p.yml");
    std::fs::write(&p, play).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_drover"))
        .arg("apply")
        .arg(&p)
        .arg("-i")
        .arg(dir.join("inventory.yml"))
        .args(["--limit", host, "--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let changed = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["event"] == "recap")
        .and_then(|e| e["hosts"][host]["changed"].as_u64())
        .unwrap_or(0);
    let all = format!("{text}{}", String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), changed, all)
}

/// A play of these tasks (YAML, indented by 4) for all hosts, without facts.
pub fn play(tasks: &str) -> String {
    format!("- hosts: all\n  gather_facts: no\n  tasks:\n{tasks}")
}

/// Feed `data` to a command on a test host (plain OpenSSH); panics when it fails.
pub fn ssh_stdin(dir: &Path, host: &str, cmd: &str, data: &[u8]) {
    use std::io::Write;
    let mut child = Command::new("ssh")
        .arg("-F")
        .arg(dir.join("ssh_config"))
        .arg(host)
        .arg(cmd)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(data).unwrap();
    assert!(child.wait().unwrap().success(), "{cmd} failed on {host}");
}

/// A small HTTP server on 127.0.0.1 (python3's http.server) for the network modules:
/// files from `root` under `/files/`, a JSON resource at `/api/item` (GET; PUT answers
/// `{"changed": …}`), `/status/NNN`, `/auth` (Basic user:pass), `/echo` (the request's
/// body and headers as JSON). Every request line is appended to `log`.
pub struct HttpServer {
    pub port: u16,
    pub root: PathBuf,
    pub log: PathBuf,
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

const SERVER_PY: &str = r#"
import http.server, json, sys, base64, os
root, log = sys.argv[1], sys.argv[2]
item = {"name": "initial"}
class H(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **k):
        super().__init__(*a, directory=root, **k)
    def log_message(self, *a):
        pass
    def note(self):
        with open(log, "a") as f:
            f.write("%s %s\n" % (self.command, self.path))
    def reply(self, code, obj):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n).decode() if n else ""
    def do_HEAD(self):
        self.note()
        if self.path.startswith("/files/"):
            self.path = self.path[len("/files"):]
            return super().do_HEAD()
        self.send_response(404); self.end_headers()
    def do_GET(self):
        self.note()
        p = self.path
        if p.startswith("/files/"):
            self.path = p[len("/files"):]
            return super().do_GET()
        if p == "/api/item":
            return self.reply(200, item)
        if p.startswith("/status/"):
            return self.reply(int(p.split("/")[2]), {"status": p})
        if p == "/auth":
            want = "Basic " + base64.b64encode(b"user:pass").decode()
            if self.headers.get("Authorization") != want:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="t"')
                self.end_headers()
                return
            return self.reply(200, {"user": "user"})
        self.reply(404, {"error": "no such path"})
    def do_POST(self):
        self.note()
        if self.path == "/echo":
            return self.reply(200, {"body": self.body(), "content_type": self.headers.get("Content-Type"), "x_test": self.headers.get("X-Test")})
        self.reply(404, {})
    def do_PUT(self):
        self.note()
        if self.path == "/api/item":
            new = json.loads(self.body() or "{}")
            changed = new != item
            item.clear(); item.update(new)
            return self.reply(200, {"changed": changed})
        self.reply(404, {})
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"#;

impl HttpServer {
    pub fn start() -> HttpServer {
        use std::io::BufRead;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(&root).unwrap();
        let log = dir.path().join("requests.log");
        std::fs::write(&log, "").unwrap();
        let script = dir.path().join("server.py");
        std::fs::write(&script, SERVER_PY).unwrap();
        let mut child = Command::new("python3")
            .arg(&script)
            .arg(&root)
            .arg(&log)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 is needed for the HTTP test server");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().expect("the test server's port");
        HttpServer {
            port,
            root,
            log,
            child,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The request lines so far ("GET /files/a").
    pub fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP proxy on 127.0.0.1 that delays every chunk by `delay` in both directions.
pub fn delaying_proxy(upstream: u16, delay: std::time::Duration) -> u16 {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming().take(8) {
            let Ok(client) = client else { continue };
            let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                continue;
            };
            for (mut from, mut to) in [
                (client.try_clone().unwrap(), server.try_clone().unwrap()),
                (server, client),
            ] {
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16384];
                    while let Ok(n) = from.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        std::thread::sleep(delay);
                        if to.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = to.shutdown(std::net::Shutdown::Write);
                });
            }
        }
    });
    port
}
