//! `password_hash`: crypt(3) hashes for `/etc/shadow`, as Ansible makes them through
//! passlib: SHA-512 (`$6$`) and SHA-256 (`$5$`) crypt with passlib's default rounds
//! (656000 and 535000) and a random 16-character salt unless one is given. MD5 crypt
//! and bcrypt are refused with a message (drover has no implementation of them).

use minijinja::value::Kwargs;
use minijinja::{Error, ErrorKind};

/// The crypt alphabet salts are made of.
const SALT_CHARS: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Rounds glibc's crypt uses when the hash does not say (`rounds=` is then left out).
const IMPLICIT_ROUNDS: u32 = 5000;

struct Scheme {
    id: &'static str,
    default_rounds: u32,
}

fn scheme(hashtype: &str) -> Result<Scheme, Error> {
    match hashtype {
        "sha512" | "sha512_crypt" => Ok(Scheme {
            id: "6",
            default_rounds: 656_000,
        }),
        "sha256" | "sha256_crypt" => Ok(Scheme {
            id: "5",
            default_rounds: 535_000,
        }),
        "md5" | "md5_crypt" | "blowfish" | "bcrypt" => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("password_hash: drover does not implement the '{hashtype}' algorithm; use 'sha512' (the default) or 'sha256'"),
        )),
        other => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("password_hash: unsupported hash type '{other}' (drover knows sha512 and sha256)"),
        )),
    }
}

fn random_salt() -> Result<String, Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("password_hash: no randomness for a salt: {e}"),
        )
    })?;
    Ok(bytes
        .iter()
        .map(|b| SALT_CHARS[*b as usize % SALT_CHARS.len()] as char)
        .collect())
}

/// `secret | password_hash(hashtype='sha512', salt=None, rounds=None)`.
pub fn password_hash(
    secret: String,
    hashtype: Option<String>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    let hashtype = match hashtype {
        Some(h) => h,
        None => kwargs
            .get::<Option<String>>("hashtype")?
            .unwrap_or_else(|| "sha512".into()),
    };
    let scheme = scheme(&hashtype)?;
    let salt = match kwargs.get::<Option<String>>("salt")? {
        Some(s) => {
            if s.is_empty() || s.len() > 16 || !s.bytes().all(|b| SALT_CHARS.contains(&b)) {
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    format!(
                        "password_hash: invalid salt {s:?}: up to 16 characters of ./0-9A-Za-z"
                    ),
                ));
            }
            s
        }
        None => random_salt()?,
    };
    let rounds = kwargs
        .get::<Option<u32>>("rounds")?
        .unwrap_or(scheme.default_rounds);
    let bad_rounds = |e: sha_crypt::CryptError| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("password_hash: rounds={rounds} is out of range ({e:?}; 1000 to 999999999)"),
        )
    };
    let hash = match scheme.id {
        "6" => sha_crypt::sha512_crypt_b64(
            secret.as_bytes(),
            salt.as_bytes(),
            &sha_crypt::Sha512Params::new(rounds as usize).map_err(bad_rounds)?,
        ),
        _ => sha_crypt::sha256_crypt_b64(
            secret.as_bytes(),
            salt.as_bytes(),
            &sha_crypt::Sha256Params::new(rounds as usize).map_err(bad_rounds)?,
        ),
    }
    .map_err(bad_rounds)?;
    kwargs.assert_all_used()?;
    let rounds_part = if rounds == IMPLICIT_ROUNDS {
        String::new()
    } else {
        format!("rounds={rounds}$")
    };
    Ok(format!("${}${rounds_part}{salt}${hash}", scheme.id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::Value;

    fn hash(secret: &str, kw: &[(&str, Value)]) -> Result<String, Error> {
        let kwargs = Kwargs::from_iter(kw.iter().map(|(k, v)| (k.to_string(), v.clone())));
        password_hash(secret.into(), None, kwargs)
    }

    /// The expected values come from passlib (what Ansible uses) with the same inputs.
    #[test]
    fn hashes_match_passlib() {
        assert_eq!(
            hash("secret", &[("salt", Value::from("abcdefgh12345678"))]).unwrap(),
            "$6$rounds=656000$abcdefgh12345678$n8sMXOqAbFcVfnflxLcYswCgxX5OH07nWL0QAqynKdcPtawG/oc7Fp7U/Zt1q416G.4aBxGOrXse4oT3T7sT90"
        );
        assert_eq!(
            hash("pässword", &[("salt", Value::from("saltsalt")), ("rounds", Value::from(5000))]).unwrap(),
            "$6$saltsalt$rVIyJtXnL0mXUCLepstXWqeOv9JVyd7nOH8wn0BvOU5lCiAviUJLxXZ5CkPgq6XNTHV22yG4mV0IO9gqPL5WQ."
        );
        let kwargs = Kwargs::from_iter([("salt".to_string(), Value::from("abcdefgh12345678"))]);
        assert_eq!(
            password_hash("secret".into(), Some("sha256".into()), kwargs).unwrap(),
            "$5$rounds=535000$abcdefgh12345678$8EFtbp0IiKWgdVtXQmO8yI2USWfiJbAF36rO.Iy6UW8"
        );
    }

    #[test]
    fn a_random_salt_differs_each_time_and_refusals_say_why() {
        let a = hash("x", &[("rounds", Value::from(1000))]).unwrap();
        let b = hash("x", &[("rounds", Value::from(1000))]).unwrap();
        assert!(a.starts_with("$6$rounds=1000$") && a != b, "{a} {b}");
        let e = password_hash(
            "x".into(),
            Some("md5".into()),
            Kwargs::from_iter(Vec::<(String, Value)>::new()),
        );
        assert!(e.unwrap_err().to_string().contains("'md5'"));
        assert!(hash("x", &[("salt", Value::from("bad salt!"))]).is_err());
        assert!(hash("x", &[("rounds", Value::from(10))]).is_err());
        assert!(hash("x", &[("bogus", Value::from(1))]).is_err());
    }
}
