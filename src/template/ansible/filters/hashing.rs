//! Hashing filters: `hash`, `checksum`, `md5`, `sha1`.

use super::{fail, text_input};
use md5::Md5;
use minijinja::value::Value;
use minijinja::Error;
use sha1::{Digest, Sha1};
use sha2::{Sha224, Sha256, Sha384, Sha512};

pub(crate) fn hash_hex(name: &str, data: &[u8], algo: &str) -> Result<String, Error> {
    Ok(match algo.to_ascii_lowercase().as_str() {
        "md5" => hex::encode(Md5::digest(data)),
        "sha1" => hex::encode(Sha1::digest(data)),
        "sha224" => hex::encode(Sha224::digest(data)),
        "sha256" => hex::encode(Sha256::digest(data)),
        "sha384" => hex::encode(Sha384::digest(data)),
        "sha512" => hex::encode(Sha512::digest(data)),
        other => {
            return Err(fail(format!(
                "{name}: unsupported hash type '{other}'; use md5, sha1, sha224, sha256, sha384 or sha512"
            )))
        }
    })
}

/// `hash(hashtype='sha1')`.
pub fn hash(value: &Value, algo: Option<String>) -> Result<String, Error> {
    let data = text_input("hash", value)?;
    hash_hex("hash", data.as_bytes(), algo.as_deref().unwrap_or("sha1"))
}

/// `checksum`: the SHA-1 of the string, like Ansible's `checksum_s`.
pub fn checksum(value: &Value) -> Result<String, Error> {
    let data = text_input("checksum", value)?;
    hash_hex("checksum", data.as_bytes(), "sha1")
}

pub fn md5(value: &Value) -> Result<String, Error> {
    let data = text_input("md5", value)?;
    hash_hex("md5", data.as_bytes(), "md5")
}

pub fn sha1(value: &Value) -> Result<String, Error> {
    let data = text_input("sha1", value)?;
    hash_hex("sha1", data.as_bytes(), "sha1")
}
