//! The text envelope around vault data.
//!
//! A vault blob is a header line followed by hex lines of at most 80 characters:
//!
//! ```text
//! $ANSIBLE_VAULT;1.1;AES256            (format 1.1: no label)
//! $ANSIBLE_VAULT;1.2;AES256;LABEL      (format 1.2: the vault id that encrypted it)
//! 3338...                              hex(payload), wrapped at 80 columns
//! ```
//!
//! The payload is itself three hex strings joined by `\n`: the salt, the HMAC and the
//! ciphertext. The double hex encoding is Ansible's, kept for compatibility.

use std::fmt;

/// What every vault blob starts with.
pub const HEADER: &str = "$ANSIBLE_VAULT";
/// The only cipher Ansible writes (and the only one drover reads).
pub const CIPHER: &str = "AES256";
/// The label Ansible uses when none is given; it is never written into a header.
pub const DEFAULT_LABEL: &str = "default";

/// Does this data look vault-encrypted? (Ansible checks the header prefix only.)
pub fn is_encrypted(data: &[u8]) -> bool {
    data.starts_with(HEADER.as_bytes())
}

/// A malformed vault blob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatError(pub String);

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A parsed vault blob: header fields plus the salt, HMAC and ciphertext bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// `1.1` or `1.2`.
    pub version: String,
    /// The vault id label of a 1.2 blob.
    pub label: Option<String>,
    pub salt: Vec<u8>,
    pub hmac: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

impl Envelope {
    /// Parse the text of a vault blob (a whole file or an inline `!vault` scalar).
    pub fn parse(data: &[u8]) -> Result<Envelope, FormatError> {
        let text = std::str::from_utf8(data)
            .map_err(|_| FormatError("vault data is not ASCII text".into()))?;
        let mut lines = text.lines();
        let header = lines.next().unwrap_or_default().trim();
        let fields: Vec<&str> = header.split(';').map(str::trim).collect();
        if fields.first() != Some(&HEADER) || fields.len() < 3 {
            return Err(FormatError(format!(
                "the header '{}' is not '{HEADER};VERSION;CIPHER[;LABEL]'",
                shorten(header)
            )));
        }
        let version = fields[1].to_string();
        if version != "1.1" && version != "1.2" {
            return Err(FormatError(format!(
                "vault format version '{}' is not supported (1.1 and 1.2 are)",
                shorten(&version)
            )));
        }
        if fields[2] != CIPHER {
            return Err(FormatError(format!(
                "vault cipher '{}' is not supported (only {CIPHER} is)",
                shorten(fields[2])
            )));
        }
        let label = fields
            .get(3)
            .filter(|l| !l.is_empty())
            .map(|l| l.to_string());
        let body: String = lines.map(str::trim).collect();
        let payload = unhex(&body, "the vault body")?;
        let mut parts = payload.splitn(3, |b| *b == b'\n');
        let (Some(salt), Some(hmac), Some(ciphertext)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(FormatError(
                "the vault body does not hold a salt, an HMAC and a ciphertext".into(),
            ));
        };
        Ok(Envelope {
            version,
            label,
            salt: unhex_bytes(salt, "the salt")?,
            hmac: unhex_bytes(hmac, "the HMAC")?,
            ciphertext: unhex_bytes(ciphertext, "the ciphertext")?,
        })
    }

    /// The blob as Ansible writes it: header, hex lines of 80 characters, final newline.
    /// A label other than `default` makes it format 1.2.
    pub fn format(&self) -> String {
        let payload = [
            hex::encode(&self.salt),
            hex::encode(&self.hmac),
            hex::encode(&self.ciphertext),
        ]
        .join("\n");
        let body = hex::encode(payload.as_bytes());
        let mut out = match self.label.as_deref() {
            Some(label) if label != DEFAULT_LABEL => format!("{HEADER};1.2;{CIPHER};{label}\n"),
            _ => format!("{HEADER};1.1;{CIPHER}\n"),
        };
        let mut rest = body.as_str();
        while !rest.is_empty() {
            let (line, tail) = rest.split_at(rest.len().min(80));
            out.push_str(line);
            out.push('\n');
            rest = tail;
        }
        out
    }
}

fn unhex(text: &str, what: &str) -> Result<Vec<u8>, FormatError> {
    unhex_bytes(text.as_bytes(), what)
}

fn unhex_bytes(data: &[u8], what: &str) -> Result<Vec<u8>, FormatError> {
    hex::decode(data).map_err(|e| FormatError(format!("{what} is not valid hex ({e})")))
}

/// Header fields are echoed in errors: keep them short and printable.
fn shorten(s: &str) -> String {
    s.chars()
        .take(60)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(label: Option<&str>) -> Envelope {
        Envelope {
            version: "1.1".into(),
            label: label.map(str::to_string),
            salt: vec![1; 32],
            hmac: vec![2; 32],
            ciphertext: vec![3; 48],
        }
    }

    #[test]
    fn format_then_parse_round_trips() {
        let text = sample(None).format();
        assert!(text.starts_with("$ANSIBLE_VAULT;1.1;AES256\n"));
        assert!(text.ends_with('\n'));
        assert!(text.lines().skip(1).all(|l| l.len() <= 80));
        assert_eq!(Envelope::parse(text.as_bytes()).unwrap(), sample(None));
    }

    #[test]
    fn labels_make_format_1_2_except_default() {
        let text = sample(Some("prod")).format();
        assert!(text.starts_with("$ANSIBLE_VAULT;1.2;AES256;prod\n"));
        let back = Envelope::parse(text.as_bytes()).unwrap();
        assert_eq!(back.label.as_deref(), Some("prod"));
        assert_eq!(back.version, "1.2");
        let text = sample(Some("default")).format();
        assert!(text.starts_with("$ANSIBLE_VAULT;1.1;AES256\n"));
    }

    #[test]
    fn indented_lines_are_accepted() {
        let text = sample(None).format().replace('\n', "\n   ");
        assert!(Envelope::parse(text.as_bytes()).is_ok());
    }

    #[test]
    fn bad_hex_is_a_format_error() {
        let err = Envelope::parse(b"$ANSIBLE_VAULT;1.1;AES256\n6162zz\n").unwrap_err();
        assert!(err.0.contains("not valid hex"), "{err}");
        // The outer hex is fine but the salt inside is not.
        let inner = hex::encode(b"zz\n00\n00");
        let err = Envelope::parse(format!("$ANSIBLE_VAULT;1.1;AES256\n{inner}\n").as_bytes())
            .unwrap_err();
        assert!(err.0.contains("the salt"), "{err}");
    }

    #[test]
    fn bad_headers_are_refused() {
        for (text, want) in [
            ("$ANSIBLE_VAULT;1.1\n00\n", "header"),
            ("$ANSIBLE_VAULT;9.9;AES256\n00\n", "version"),
            ("$ANSIBLE_VAULT;1.1;AES\n00\n", "cipher"),
            ("hello\n", "header"),
        ] {
            let err = Envelope::parse(text.as_bytes()).unwrap_err();
            assert!(err.0.contains(want), "{text:?}: {err}");
        }
        let missing = hex::encode(b"0011");
        let err = Envelope::parse(format!("$ANSIBLE_VAULT;1.1;AES256\n{missing}\n").as_bytes())
            .unwrap_err();
        assert!(err.0.contains("salt, an HMAC"), "{err}");
    }
}
