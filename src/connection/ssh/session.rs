//! Setting up a session: TCP connect with a timeout (or a tunnel through the jump
//! hosts), SSH handshake, host key verification, authentication. Connection-level
//! failures (refused, timed out, no route, the server hanging up during the handshake)
//! are retried with backoff; host key and authentication failures never are.

use super::known_hosts::{self, KnownHosts, Verdict};
use super::target::{Hop, Target};
use super::{auth, tunnel, HostKeyChecking, SshOptions};
use crate::diagnostics::{Error, ErrorKind};
use ssh2::{ErrorCode, MethodType, Session};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::io::{AsRawFd as _, RawFd};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A session ready for commands.
pub struct Established {
    pub session: Session,
    pub fd: RawFd,
    /// Pump threads of the jump hosts (they end when the session's socket closes).
    pub pumps: Vec<JoinHandle<()>>,
    /// Handshakes done (jump hosts included).
    pub connects: u64,
    pub elapsed: Duration,
}

/// A failure, and whether trying again could help.
struct Fail {
    error: Error,
    retryable: bool,
}

fn fail(msg: impl Into<String>) -> Fail {
    Fail {
        error: Error::new(ErrorKind::Unreachable, msg),
        retryable: false,
    }
}

fn transient(msg: impl Into<String>) -> Fail {
    Fail {
        retryable: true,
        ..fail(msg)
    }
}

impl Fail {
    fn help(mut self, help: &str) -> Fail {
        self.error = self.error.with_help(help);
        self
    }

    /// Keep the I/O or libssh2 error behind this failure as its source.
    fn cause(mut self, e: impl std::error::Error + Send + Sync + 'static) -> Fail {
        self.error = self.error.caused_by(e);
        self
    }
}

/// First retry after this; each next one waits twice as long.
const BACKOFF_START: Duration = Duration::from_millis(200);

/// Connect to the target (through its jump hosts), retrying connection-level failures
/// `opts.retries` times with backoff (200 ms, 400 ms, …).
pub fn establish(target: &Target, opts: &SshOptions) -> Result<Established, Error> {
    let started = Instant::now();
    let mut attempt: u32 = 0;
    loop {
        match attempt_once(target, opts) {
            Ok(mut e) => {
                e.elapsed = started.elapsed();
                return Ok(e);
            }
            Err(f) if f.retryable && attempt < opts.retries => {
                std::thread::sleep(BACKOFF_START * 2u32.saturating_pow(attempt.min(16)));
                attempt += 1;
            }
            Err(mut f) => {
                if attempt > 0 {
                    f.error.message =
                        format!("{} (after {} attempts)", f.error.message, attempt + 1);
                }
                return Err(f.error);
            }
        }
    }
}

fn attempt_once(target: &Target, opts: &SshOptions) -> Result<Established, Fail> {
    let hops: Vec<&Hop> = target
        .jumps
        .iter()
        .chain(std::iter::once(&target.dest))
        .collect();
    let first = hops[0];
    let tcp = tcp_connect(first)?;
    let fd = tcp.as_raw_fd();
    let mut stream = Stream::Tcp(tcp, fd);
    let mut pumps = Vec::new();
    for (i, hop) in hops.iter().enumerate() {
        let fd = stream.fd();
        let sess = handshake(hop, stream, opts)?;
        let Some(next) = hops.get(i + 1) else {
            return Ok(Established {
                session: sess,
                fd,
                pumps,
                connects: i as u64 + 1,
                elapsed: Duration::ZERO,
            });
        };
        let channel = sess
            .channel_direct_tcpip(&next.hostname, next.port, None)
            .map_err(|e| {
                transient(format!(
                    "{}: {} cannot open a connection to {}:{} ({})",
                    target.dest.label,
                    hop.label,
                    next.hostname,
                    next.port,
                    e.message()
                ))
                .cause(e)
                .help("is sshd running on that host, and may the jump host reach it (AllowTcpForwarding)?")
            })?;
        let dead_after = Duration::from_secs(hop.alive_interval * u64::from(hop.alive_count_max));
        let (local, handle) = tunnel::start(sess, fd, channel, hop.label.clone(), dead_after)
            .map_err(|e| {
                fail(format!(
                    "{}: cannot start the ProxyJump pump: {e}",
                    target.dest.label
                ))
                .cause(e)
            })?;
        pumps.push(handle);
        let lfd = local.as_raw_fd();
        stream = Stream::Unix(local, lfd);
    }
    Err(fail("no hop to connect to"))
}

/// What a session runs over: a TCP socket, or one end of a jump host's tunnel.
enum Stream {
    Tcp(TcpStream, RawFd),
    Unix(std::os::unix::net::UnixStream, RawFd),
}

impl Stream {
    fn fd(&self) -> RawFd {
        match self {
            Stream::Tcp(_, fd) | Stream::Unix(_, fd) => *fd,
        }
    }
}

/// TCP connect to `hop` with its connect timeout, naming what went wrong.
fn tcp_connect(hop: &Hop) -> Result<TcpStream, Fail> {
    let what = format!("{} ({}:{})", hop.label, hop.hostname, hop.port);
    let addrs: Vec<_> = (hop.hostname.as_str(), hop.port)
        .to_socket_addrs()
        .map_err(|e| {
            fail(format!("cannot resolve {what}: {e}"))
                .cause(e)
                .help("check ansible_host, or HostName in ssh_config")
        })?
        .collect();
    let mut last: Option<std::io::Error> = None;
    for addr in &addrs {
        match TcpStream::connect_timeout(addr, hop.connect_timeout) {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => last = Some(e),
        }
    }
    let Some(e) = last else {
        return Err(fail(format!("cannot resolve {what}: no address")));
    };
    let secs = hop.connect_timeout.as_secs_f64();
    let failure = match (e.kind(), e.raw_os_error()) {
        (std::io::ErrorKind::ConnectionRefused, _) => transient(format!(
            "cannot connect to {what}: connection refused"
        ))
        .help("is sshd running there, on that port? check ansible_host and ansible_port"),
        (std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock, _) => transient(format!(
            "cannot connect to {what}: timed out after {secs:.0}s"
        ))
        .help("is the host up and the port open? raise --timeout (or ConnectTimeout) for slow networks"),
        (_, Some(libc::EHOSTUNREACH | libc::ENETUNREACH)) => {
            transient(format!("cannot connect to {what}: no route to host"))
                .help("is the host up, and is the address right?")
        }
        _ => transient(format!("cannot connect to {what}: {e}")),
    };
    Err(failure.cause(e))
}

/// libssh2 codes that mean the peer went away or did not answer: worth a retry.
fn is_socket_error(code: ErrorCode) -> bool {
    use libssh2_sys as r;
    matches!(
        code,
        ErrorCode::Session(
            r::LIBSSH2_ERROR_BANNER_RECV
                | r::LIBSSH2_ERROR_BANNER_SEND
                | r::LIBSSH2_ERROR_SOCKET_SEND
                | r::LIBSSH2_ERROR_SOCKET_RECV
                | r::LIBSSH2_ERROR_SOCKET_DISCONNECT
                | r::LIBSSH2_ERROR_TIMEOUT
                | r::LIBSSH2_ERROR_SOCKET_TIMEOUT
        )
    )
}

/// Host key algorithms, the types already recorded for this host first (as OpenSSH
/// orders them), so a host known by its ed25519 key is not asked for its RSA key.
fn hostkey_prefs(sess: &Session, known: &[String]) -> Option<String> {
    if known.is_empty() {
        return None;
    }
    let supported = sess.supported_algs(MethodType::HostKey).ok()?;
    fn algs_of(key_type: &str) -> Vec<&str> {
        if key_type == "ssh-rsa" {
            vec!["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]
        } else {
            vec![key_type]
        }
    }
    let mut order: Vec<&str> = Vec::new();
    for t in known {
        for a in algs_of(t) {
            if supported.contains(&a) && !order.contains(&a) {
                order.push(a);
            }
        }
    }
    for a in &supported {
        if !order.contains(a) {
            order.push(a);
        }
    }
    Some(order.join(","))
}

/// Handshake over `stream`, verify the host key, authenticate.
fn handshake(hop: &Hop, stream: Stream, opts: &SshOptions) -> Result<Session, Fail> {
    let what = format!("{} ({}:{})", hop.label, hop.hostname, hop.port);
    let mut sess =
        Session::new().map_err(|e| fail(format!("{what}: cannot start libssh2: {e}")).cause(e))?;
    let timeout_ms = hop.connect_timeout.as_millis().clamp(1, u32::MAX as u128) as u32;
    sess.set_timeout(timeout_ms);
    let known = KnownHosts::load(&hop.known_hosts_files);
    if let Some(prefs) = hostkey_prefs(&sess, &known.known_types(&hop.known_hosts_name)) {
        let _ = sess.method_pref(MethodType::HostKey, &prefs);
    }
    match stream {
        Stream::Tcp(s, _) => sess.set_tcp_stream(s),
        Stream::Unix(s, _) => sess.set_tcp_stream(s),
    }
    sess.handshake().map_err(|e| {
        let msg = format!("SSH handshake with {what} failed: {}", e.message());
        let failure = if is_socket_error(e.code()) {
            transient(msg).help("the server closed the connection or did not answer: is it an SSH server, and not overloaded (MaxStartups)?")
        } else {
            fail(msg).help("no common algorithms, or not an SSH server")
        };
        failure.cause(e)
    })?;
    verify_host_key(
        &sess,
        hop,
        &known,
        hop.host_key_checking.unwrap_or(opts.host_key_checking),
    )?;
    // A refusal is final; a server too slow to answer may answer the next attempt.
    auth::authenticate(&sess, hop, opts).map_err(|f| Fail {
        error: f.error,
        retryable: f.timed_out,
    })?;
    // Commands may run long: blocking calls wait as long as keepalives would.
    let alive = hop
        .alive_interval
        .saturating_mul(u64::from(hop.alive_count_max));
    sess.set_timeout(alive.saturating_mul(1000).clamp(1000, u32::MAX as u64) as u32);
    sess.set_keepalive(true, hop.alive_interval.min(u32::MAX as u64) as u32);
    Ok(sess)
}

fn verify_host_key(
    sess: &Session,
    hop: &Hop,
    known: &KnownHosts,
    policy: HostKeyChecking,
) -> Result<(), Fail> {
    let name = &hop.known_hosts_name;
    let who = format!("{} ({name})", hop.label);
    let Some((blob, _)) = sess.host_key() else {
        return Err(fail(format!("{who}: the server sent no host key")));
    };
    let key_type = known_hosts::key_type_of(blob).unwrap_or_else(|| "unknown".into());
    let fp = known_hosts::fingerprint(blob);
    let file = hop.known_hosts_write.display().to_string();
    match known.check(name, &key_type, blob) {
        Verdict::Known => Ok(()),
        Verdict::Revoked { file, line } => Err(fail(format!(
            "host key for {who} is REVOKED: {key_type} {fp} is marked @revoked in {}:{line}; refusing to connect",
            file.display()
        ))),
        Verdict::Changed { file, line } => Err(fail(format!(
            "HOST KEY CHANGED for {who}: the server offers {key_type} {fp}, but {}:{line} records a different {key_type} key; refusing to connect (possible man-in-the-middle attack)",
            file.display()
        ))
        .help(&format!(
            "if the host was reinstalled, verify the new fingerprint, then remove the old key with: ssh-keygen -R '{name}' -f {}",
            file.display()
        ))),
        Verdict::Unknown { other_types } => match policy {
            HostKeyChecking::Off => Ok(()),
            HostKeyChecking::No => {
                // As OpenSSH: recorded when possible (UserKnownHostsFile=/dev/null is the
                // usual companion), never a reason to refuse.
                let _ = known_hosts::append(
                    &hop.known_hosts_write,
                    name,
                    blob,
                    hop.hash_known_hosts,
                );
                Ok(())
            }
            HostKeyChecking::AcceptNew => {
                known_hosts::append(&hop.known_hosts_write, name, blob, hop.hash_known_hosts)
                    .map_err(|e| fail(format!("{who}: cannot record its host key in {file}: {e}")).cause(e))
            }
            HostKeyChecking::Strict => {
                let exists = if hop.known_hosts_write.exists() {
                    ""
                } else {
                    " (the file does not exist)"
                };
                let others = if other_types.is_empty() {
                    String::new()
                } else {
                    format!("; only {} recorded", other_types.join(", "))
                };
                Err(fail(format!(
                    "host key for {who} is not known: {key_type} {fp} is not in {file}{exists}{others}"
                ))
                .help(&format!(
                    "add it with ssh-keyscan -p {} {} >> {file} (after checking the fingerprint) or use --host-key-checking accept-new",
                    hop.port, hop.hostname
                )))
            }
        },
    }
}
