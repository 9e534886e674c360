//! ProxyJump plumbing. libssh2 runs a session over a file descriptor, so the next hop's
//! session gets one end of a local socket pair, and a pump thread copies bytes between
//! the other end and a `direct-tcpip` channel opened on the jump host's session. One
//! thread per jump host, owning that session; both directions are handled in one loop
//! (non-blocking, `poll`), EOF is passed on in each direction, and the thread ends when
//! both directions are done or either side fails (the next hop then sees EOF).

use ssh2::{BlockDirections, Channel, Session};
use std::io::{ErrorKind as IoKind, Read as _, Write as _};
use std::os::unix::io::{AsRawFd as _, RawFd};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// Wait until one of `fds` is ready or `timeout` passes. EINTR counts as a timeout.
pub fn poll(fds: &mut [libc::pollfd], timeout: Duration) -> std::io::Result<()> {
    let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: `fds` is a valid, exclusively borrowed slice of pollfd for the call.
    let r = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
    if r < 0 {
        let e = std::io::Error::last_os_error();
        if e.kind() != IoKind::Interrupted {
            return Err(e);
        }
    }
    Ok(())
}

pub fn pollfd(fd: RawFd, events: libc::c_short) -> libc::pollfd {
    libc::pollfd {
        fd,
        events,
        revents: 0,
    }
}

/// Events to wait for on a session's socket: always input; output when libssh2 has
/// a packet half sent.
pub fn session_events(sess: &Session) -> libc::c_short {
    match sess.block_directions() {
        BlockDirections::Outbound | BlockDirections::Both => libc::POLLIN | libc::POLLOUT,
        _ => libc::POLLIN,
    }
}

/// Send a keepalive when one is due, unless a packet is half sent (libssh2 would
/// refuse it then anyway). Errors show up on the next read.
pub fn keepalive(sess: &Session) {
    if matches!(
        sess.block_directions(),
        BlockDirections::None | BlockDirections::Inbound
    ) {
        let _ = sess.keepalive_send();
    }
}

/// Start pumping between `channel` (on `sess`, whose socket is `sess_fd`) and a new
/// socket pair; return the end the next hop's session runs over.
pub fn start(
    sess: Session,
    sess_fd: RawFd,
    channel: Channel,
    label: String,
    dead_after: Duration,
) -> std::io::Result<(UnixStream, std::thread::JoinHandle<()>)> {
    let (ours, theirs) = UnixStream::pair()?;
    theirs.set_nonblocking(true)?;
    let handle = std::thread::Builder::new()
        .name(format!("ssh-jump {label}"))
        .spawn(move || {
            sess.set_blocking(false);
            pump(&sess, sess_fd, channel, theirs, dead_after);
            sess.set_blocking(true);
            sess.set_timeout(1000);
            let _ = sess.disconnect(None, "done", None);
        })?;
    Ok((ours, handle))
}

fn pump(
    sess: &Session,
    sess_fd: RawFd,
    mut channel: Channel,
    mut local: UnixStream,
    dead_after: Duration,
) {
    const CHUNK: usize = 32 * 1024;
    let mut buf = vec![0u8; CHUNK];
    // Bytes read from one side and not yet written to the other.
    let mut up: Vec<u8> = Vec::new(); // local -> channel
    let mut down: Vec<u8> = Vec::new(); // channel -> local
    let (mut local_eof, mut eof_sent) = (false, false);
    let (mut chan_eof, mut local_shut) = (false, false);
    let mut last_rx = Instant::now();
    loop {
        let mut progress = false;
        // local -> channel
        if up.is_empty() && !local_eof {
            match local.read(&mut buf) {
                Ok(0) => local_eof = true,
                Ok(n) => {
                    up.extend_from_slice(&buf[..n]);
                    progress = true;
                }
                Err(e) if e.kind() == IoKind::WouldBlock || e.kind() == IoKind::Interrupted => {}
                Err(_) => return,
            }
        }
        while !up.is_empty() {
            match channel.write(&up) {
                Ok(0) => break,
                Ok(n) => {
                    up.drain(..n);
                    progress = true;
                }
                Err(e) if e.kind() == IoKind::WouldBlock => break,
                Err(_) => return,
            }
        }
        if local_eof && up.is_empty() && !eof_sent {
            match channel.send_eof() {
                Ok(()) => eof_sent = true,
                Err(e)
                    if e.code() == ssh2::ErrorCode::Session(libssh2_sys::LIBSSH2_ERROR_EAGAIN) => {}
                Err(_) => return,
            }
        }
        // channel -> local
        if down.is_empty() && !chan_eof {
            match channel.read(&mut buf) {
                Ok(n) if n > 0 => {
                    down.extend_from_slice(&buf[..n]);
                    progress = true;
                    last_rx = Instant::now();
                }
                Ok(_) => {
                    if channel.eof() {
                        chan_eof = true;
                    }
                }
                Err(e) if e.kind() == IoKind::WouldBlock => {
                    if channel.eof() {
                        chan_eof = true;
                    }
                }
                Err(_) => return,
            }
        }
        while !down.is_empty() {
            match local.write(&down) {
                Ok(n) => {
                    down.drain(..n);
                    progress = true;
                }
                Err(e) if e.kind() == IoKind::WouldBlock || e.kind() == IoKind::Interrupted => {
                    break
                }
                // The next hop's session is gone.
                Err(_) => return,
            }
        }
        if chan_eof && down.is_empty() && !local_shut {
            let _ = local.shutdown(std::net::Shutdown::Write);
            local_shut = true;
        }
        if eof_sent && local_shut {
            let _ = channel.close();
            return;
        }
        if progress {
            continue;
        }
        keepalive(sess);
        let mut local_events = 0;
        if up.is_empty() && !local_eof {
            local_events |= libc::POLLIN;
        }
        if !down.is_empty() {
            local_events |= libc::POLLOUT;
        }
        let mut fds = [
            pollfd(sess_fd, session_events(sess)),
            pollfd(local.as_raw_fd(), local_events),
        ];
        if poll(&mut fds, Duration::from_millis(1000)).is_err() {
            return;
        }
        if fds[0].revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0 {
            last_rx = Instant::now();
        }
        if last_rx.elapsed() > dead_after {
            // The jump host stopped answering keepalives.
            return;
        }
    }
}
