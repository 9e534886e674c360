//! known_hosts files, read the way OpenSSH reads them: `host` for port 22 and
//! `[host]:port` otherwise, comma-separated patterns with `*`, `?` and `!negation`,
//! hashed names (`|1|salt|hmac`), `@revoked` keys; `@cert-authority` lines and lines
//! drover cannot parse are skipped (they never make a key trusted).
//!
//! drover reads the files itself rather than through libssh2's `knownhost_check`: that
//! call (as the ssh2 crate makes it) ignores the key type, so a host that has only an
//! ed25519 key on record and offers RSA would look "changed"; it also falls back from
//! `[host]:port` to the bare host (OpenSSH does not) and stops reading a file at the
//! first line it does not understand. Knowing the recorded key types before the
//! handshake also lets drover ask the server for one of them, as OpenSSH does.

use base64::Engine as _;
use sha1::{Digest as _, Sha1};
use sha2::Sha256;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The name a host is recorded under: `host` on port 22, `[host]:port` otherwise.
pub fn lookup_name(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_ascii_lowercase()
    } else {
        format!("[{}]:{port}", host.to_ascii_lowercase())
    }
}

/// OpenSSH's fingerprint: `SHA256:` and the unpadded base64 of the key blob's SHA-256.
pub fn fingerprint(blob: &[u8]) -> String {
    format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(Sha256::digest(blob))
    )
}

/// The key type named inside an SSH public key blob (its first string).
pub fn key_type_of(blob: &[u8]) -> Option<String> {
    let len = u32::from_be_bytes(blob.get(..4)?.try_into().ok()?) as usize;
    let name = blob.get(4..4 + len)?;
    std::str::from_utf8(name).ok().map(str::to_string)
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Marker {
    None,
    Revoked,
    CertAuthority,
}

#[derive(Clone, Debug)]
enum Hosts {
    Patterns(Vec<String>),
    Hashed { salt: Vec<u8>, hash: Vec<u8> },
}

#[derive(Clone, Debug)]
struct Entry {
    marker: Marker,
    hosts: Hosts,
    key_type: String,
    key: Vec<u8>,
    file: PathBuf,
    line: usize,
}

/// What the files say about the key a server offered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Recorded for this host.
    Known,
    /// No key of this type is recorded for this host (`other_types` are).
    Unknown { other_types: Vec<String> },
    /// A different key of the same type is recorded: possible man-in-the-middle.
    Changed { file: PathBuf, line: usize },
    /// The key is marked `@revoked`.
    Revoked { file: PathBuf, line: usize },
}

#[derive(Clone, Debug, Default)]
pub struct KnownHosts {
    entries: Vec<Entry>,
}

impl KnownHosts {
    /// Read every file that exists; a missing file is simply empty.
    pub fn load(files: &[PathBuf]) -> KnownHosts {
        let mut kh = KnownHosts::default();
        for f in files {
            if let Ok(text) = std::fs::read_to_string(f) {
                kh.add_text(&text, f);
            }
        }
        kh
    }

    /// Add the entries of one file's text.
    pub fn add_text(&mut self, text: &str, file: &Path) {
        for (n, line) in text.lines().enumerate() {
            if let Some(e) = parse_line(line, file, n + 1) {
                self.entries.push(e);
            }
        }
    }

    fn for_name<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        let name = name.to_ascii_lowercase();
        self.entries.iter().filter(move |e| e.hosts.matches(&name))
    }

    /// Judge the key a server offered under `name` (see [`lookup_name`]).
    pub fn check(&self, name: &str, key_type: &str, key: &[u8]) -> Verdict {
        let mut changed: Option<&Entry> = None;
        let mut known = false;
        let mut others: Vec<String> = Vec::new();
        for e in self.for_name(name) {
            match e.marker {
                Marker::Revoked if e.key == key => {
                    return Verdict::Revoked {
                        file: e.file.clone(),
                        line: e.line,
                    }
                }
                Marker::Revoked | Marker::CertAuthority => {}
                Marker::None if e.key_type == key_type => {
                    if e.key == key {
                        known = true;
                    } else if changed.is_none() {
                        changed = Some(e);
                    }
                }
                Marker::None => {
                    if !others.contains(&e.key_type) {
                        others.push(e.key_type.clone());
                    }
                }
            }
        }
        if known {
            Verdict::Known
        } else if let Some(e) = changed {
            Verdict::Changed {
                file: e.file.clone(),
                line: e.line,
            }
        } else {
            Verdict::Unknown {
                other_types: others,
            }
        }
    }

    /// Key types recorded for `name`, in file order.
    pub fn known_types(&self, name: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for e in self.for_name(name) {
            if e.marker == Marker::None && !out.contains(&e.key_type) {
                out.push(e.key_type.clone());
            }
        }
        out
    }
}

impl Hosts {
    fn matches(&self, name: &str) -> bool {
        match self {
            Hosts::Hashed { salt, hash } => hmac_sha1(salt, name.as_bytes()).as_slice() == hash,
            Hosts::Patterns(pats) => {
                let mut hit = false;
                for p in pats {
                    let p = p.to_ascii_lowercase();
                    if let Some(neg) = p.strip_prefix('!') {
                        if super::config::glob_match(neg, name) {
                            return false;
                        }
                    } else if super::config::glob_match(&p, name) {
                        hit = true;
                    }
                }
                hit
            }
        }
    }
}

fn parse_line(line: &str, file: &Path, n: usize) -> Option<Entry> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let mut fields = line.split_whitespace();
    let mut first = fields.next()?;
    let marker = match first {
        "@revoked" => Marker::Revoked,
        "@cert-authority" => Marker::CertAuthority,
        m if m.starts_with('@') => return None,
        _ => Marker::None,
    };
    if marker != Marker::None {
        first = fields.next()?;
    }
    let key_type = fields.next()?.to_string();
    let key = base64::engine::general_purpose::STANDARD
        .decode(fields.next()?)
        .ok()?;
    // The blob names its own type; a line whose two disagree is corrupt.
    if key_type_of(&key)? != key_type {
        return None;
    }
    let hosts = if let Some(h) = first.strip_prefix("|1|") {
        let (salt, hash) = h.split_once('|')?;
        let b64 = base64::engine::general_purpose::STANDARD;
        Hosts::Hashed {
            salt: b64.decode(salt).ok()?,
            hash: b64.decode(hash).ok()?,
        }
    } else {
        Hosts::Patterns(first.split(',').map(str::to_string).collect())
    };
    Some(Entry {
        marker,
        hosts,
        key_type,
        key,
        file: file.to_path_buf(),
        line: n,
    })
}

/// HMAC-SHA1 (RFC 2104), what OpenSSH hashes known_hosts names with.
fn hmac_sha1(key: &[u8], msg: &[u8]) -> [u8; 20] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..20].copy_from_slice(&Sha1::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha1::new().chain_update(&ipad).chain_update(msg).finalize();
    Sha1::new()
        .chain_update(&opad)
        .chain_update(inner)
        .finalize()
        .into()
}

/// The `|1|salt|hash` form of a name, with a fresh random salt.
fn hashed_name(name: &str) -> std::io::Result<String> {
    let mut salt = [0u8; 20];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut salt))?;
    let b64 = base64::engine::general_purpose::STANDARD;
    Ok(format!(
        "|1|{}|{}",
        b64.encode(salt),
        b64.encode(hmac_sha1(&salt, name.as_bytes()))
    ))
}

/// One writer at a time: hosts of a run append from their own threads.
static APPEND_LOCK: Mutex<()> = Mutex::new(());

/// Record a key (accept-new): one line appended, the file and its directory created if
/// needed (0600 and 0700). Hashed when `hash` (HashKnownHosts yes).
pub fn append(path: &Path, name: &str, key: &[u8], hash: bool) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
    let key_type = key_type_of(key).unwrap_or_else(|| "unknown".into());
    let host = if hash {
        hashed_name(name)?
    } else {
        name.to_string()
    };
    let line = format!(
        "{host} {key_type} {}\n",
        base64::engine::general_purpose::STANDARD.encode(key)
    );
    let _guard = APPEND_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
    }
    // Start on a fresh line if the file does not end with one.
    let needs_newline = std::fs::read(path)
        .map(|d| !d.is_empty() && !d.ends_with(b"\n"))
        .unwrap_or(false);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)?;
    let mut data = Vec::new();
    if needs_newline {
        data.push(b'\n');
    }
    data.extend_from_slice(line.as_bytes());
    f.write_all(&data)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Real keys from `ssh-keygen -t ed25519` and `-t ecdsa`.
    const ED1: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIGcHZDGNcHXxvofHxrtbq2ft8LGc46mTfdAPPYDoVp/4";
    const ED2: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIAyUzjpSPAvlqw+YvmAb3VSEoJnpicR1559ChpF5n4B1";
    const EC1: &str = "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBB1ivkWcKecSOLn3PFvbB8ornavSjZTPoehm7KlNoI6U4Hg9023f3+Z2Qr5QTkGXVmrB8zH6KCzvIpLV3kuEfSc=";

    fn blob(b64: &str) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap()
    }

    fn kh(text: &str) -> KnownHosts {
        let mut k = KnownHosts::default();
        k.add_text(text, Path::new("/kh"));
        k
    }

    #[test]
    fn names_and_ports() {
        assert_eq!(lookup_name("Example.COM", 22), "example.com");
        assert_eq!(lookup_name("127.0.0.1", 2222), "[127.0.0.1]:2222");
        let k = kh(&format!("[127.0.0.1]:2222 ssh-ed25519 {ED1}\n"));
        assert_eq!(
            k.check("[127.0.0.1]:2222", "ssh-ed25519", &blob(ED1)),
            Verdict::Known
        );
        // Unlike libssh2, no fallback from [host]:port to the bare host.
        let k = kh(&format!("127.0.0.1 ssh-ed25519 {ED2}\n"));
        assert!(matches!(
            k.check("[127.0.0.1]:2222", "ssh-ed25519", &blob(ED1)),
            Verdict::Unknown { .. }
        ));
    }

    #[test]
    fn changed_only_for_the_same_key_type() {
        let k = kh(&format!(
            "# comment\nweb,10.0.0.5 ecdsa-sha2-nistp256 {EC1}\nweb ssh-ed25519 {ED2} comment\n"
        ));
        assert_eq!(
            k.check("web", "ssh-ed25519", &blob(ED1)),
            Verdict::Changed {
                file: PathBuf::from("/kh"),
                line: 3
            }
        );
        assert_eq!(
            k.check("10.0.0.5", "ecdsa-sha2-nistp256", &blob(EC1)),
            Verdict::Known
        );
        assert_eq!(
            k.check("10.0.0.5", "ssh-ed25519", &blob(ED1)),
            Verdict::Unknown {
                other_types: vec!["ecdsa-sha2-nistp256".into()]
            }
        );
        assert_eq!(k.known_types("web"), ["ecdsa-sha2-nistp256", "ssh-ed25519"]);
    }

    #[test]
    fn several_keys_of_one_type_any_matches() {
        let k = kh(&format!("h ssh-ed25519 {ED2}\nh ssh-ed25519 {ED1}\n"));
        assert_eq!(k.check("h", "ssh-ed25519", &blob(ED1)), Verdict::Known);
    }

    #[test]
    fn wildcards_negation_revoked_and_junk() {
        let k = kh(&format!(
            "*.lan,!bad.lan ssh-ed25519 {ED1}\n@cert-authority *.lan ssh-ed25519 {ED2}\n\
             garbage line\nh ssh-ed25519 not-base64!!\nh ssh-rsa {ED1}\n@revoked * ssh-ed25519 {ED2}\n"
        ));
        assert_eq!(k.check("a.lan", "ssh-ed25519", &blob(ED1)), Verdict::Known);
        assert!(matches!(
            k.check("bad.lan", "ssh-ed25519", &blob(ED1)),
            Verdict::Unknown { .. }
        ));
        // A cert-authority line never makes a plain key trusted; a revoked one is refused.
        assert_eq!(
            k.check("a.lan", "ssh-ed25519", &blob(ED2)),
            Verdict::Revoked {
                file: PathBuf::from("/kh"),
                line: 6
            }
        );
        // A line whose type disagrees with its blob is skipped.
        assert!(k.known_types("h").is_empty());
    }

    #[test]
    fn hashed_names_match_what_ssh_keygen_writes() {
        // `ssh-keygen -H` output for "[127.0.0.1]:22601".
        let k = kh(&format!(
            "|1|JvQooLYi7qttUm9YY0xJeH+x04k=|KR1Mi+dM7pacbLM4wDy/PBN+02o= ssh-ed25519 {ED1}\n"
        ));
        assert_eq!(
            k.check("[127.0.0.1]:22601", "ssh-ed25519", &blob(ED1)),
            Verdict::Known
        );
        assert!(matches!(
            k.check("[127.0.0.1]:22602", "ssh-ed25519", &blob(ED1)),
            Verdict::Unknown { .. }
        ));
    }

    #[test]
    fn hmac_sha1_rfc2202_vector() {
        assert_eq!(
            hex::encode(hmac_sha1(b"Jefe", b"what do ya want for nothing?")),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
    }

    #[test]
    fn fingerprint_like_ssh_keygen() {
        assert_eq!(key_type_of(&blob(ED1)).as_deref(), Some("ssh-ed25519"));
        // As `ssh-keygen -l -E sha256` prints it.
        assert_eq!(
            fingerprint(&blob(ED1)),
            "SHA256:I82yfRFt1VFsAYltw6HbZa50xUfaAz/urOYVv/v1324"
        );
    }

    #[test]
    fn append_creates_and_records() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/known_hosts");
        append(&p, "[h]:2200", &blob(ED1), false).unwrap();
        std::fs::write(dir.path().join("noeol"), format!("x ssh-ed25519 {ED2}")).unwrap();
        append(&dir.path().join("noeol"), "y", &blob(ED1), true).unwrap();
        let k = KnownHosts::load(&[p.clone(), dir.path().join("noeol")]);
        assert_eq!(
            k.check("[h]:2200", "ssh-ed25519", &blob(ED1)),
            Verdict::Known
        );
        assert_eq!(k.check("y", "ssh-ed25519", &blob(ED1)), Verdict::Known);
        assert_eq!(k.check("x", "ssh-ed25519", &blob(ED2)), Verdict::Known);
        let text = std::fs::read_to_string(dir.path().join("noeol")).unwrap();
        assert!(text.lines().nth(1).unwrap().starts_with("|1|"), "{text}");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
