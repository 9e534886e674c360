//! The AES256 vault cipher: PBKDF2-HMAC-SHA256 (10 000 iterations) derives 80 bytes from
//! the password and a 32-byte random salt: the AES-256 key, the HMAC-SHA256 key and the
//! 16-byte initial counter. The plaintext is PKCS#7-padded to the AES block size (as
//! Ansible does, although CTR mode does not need it), encrypted with AES-256-CTR, and the
//! HMAC of the ciphertext is checked in constant time before anything is decrypted.

use super::envelope::Envelope;
use aes::cipher::{KeyIvInit, StreamCipher};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;

type Aes256Ctr = ctr::Ctr128BE<aes::Aes256>;
type HmacSha256 = Hmac<Sha256>;

const ITERATIONS: u32 = 10_000;
const KEY_LEN: usize = 32;
const IV_LEN: usize = 16;
const BLOCK: usize = 16;
pub const SALT_LEN: usize = 32;

/// Why a decryption failed. A wrong password and tampered data look the same (the HMAC
/// does not match), on purpose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CipherError {
    /// The HMAC does not match: wrong password, or the data was modified.
    Hmac,
    /// The HMAC matched but the padding is invalid (corrupt data written by a bad tool).
    Padding,
    /// Random bytes for a salt could not be had.
    Random(String),
}

impl fmt::Display for CipherError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CipherError::Hmac => {
                f.write_str("HMAC verification failed (wrong password, or the data was modified)")
            }
            CipherError::Padding => f.write_str("the decrypted data has invalid padding"),
            CipherError::Random(e) => write!(f, "cannot get random bytes for a salt: {e}"),
        }
    }
}

struct Keys {
    aes: [u8; KEY_LEN],
    mac: [u8; KEY_LEN],
    iv: [u8; IV_LEN],
}

impl Drop for Keys {
    fn drop(&mut self) {
        self.aes.fill(0);
        self.mac.fill(0);
        self.iv.fill(0);
    }
}

fn derive(password: &[u8], salt: &[u8]) -> Keys {
    let mut out = [0u8; 2 * KEY_LEN + IV_LEN];
    pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, ITERATIONS, &mut out);
    let mut keys = Keys {
        aes: [0; KEY_LEN],
        mac: [0; KEY_LEN],
        iv: [0; IV_LEN],
    };
    keys.aes.copy_from_slice(&out[..KEY_LEN]);
    keys.mac.copy_from_slice(&out[KEY_LEN..2 * KEY_LEN]);
    keys.iv.copy_from_slice(&out[2 * KEY_LEN..]);
    out.fill(0);
    keys
}

fn mac(keys: &Keys) -> HmacSha256 {
    // HMAC takes keys of any length; 32 bytes can never be refused.
    <HmacSha256 as Mac>::new_from_slice(&keys.mac).unwrap_or_else(|_| unreachable!())
}

/// A fresh random salt.
pub fn random_salt() -> Result<Vec<u8>, CipherError> {
    let mut salt = vec![0u8; SALT_LEN];
    getrandom::fill(&mut salt).map_err(|e| CipherError::Random(e.to_string()))?;
    Ok(salt)
}

/// Encrypt with the given salt; `label` goes into the header (format 1.2 unless it is
/// `default` or absent).
pub fn encrypt_with_salt(
    plaintext: &[u8],
    password: &[u8],
    salt: &[u8],
    label: Option<&str>,
) -> Envelope {
    let keys = derive(password, salt);
    let pad = BLOCK - plaintext.len() % BLOCK;
    let mut data = Vec::with_capacity(plaintext.len() + pad);
    data.extend_from_slice(plaintext);
    data.resize(plaintext.len() + pad, pad as u8);
    Aes256Ctr::new(&keys.aes.into(), &keys.iv.into()).apply_keystream(&mut data);
    let mut m = mac(&keys);
    m.update(&data);
    let hmac = m.finalize().into_bytes().to_vec();
    let label = label.filter(|l| *l != super::envelope::DEFAULT_LABEL);
    Envelope {
        version: if label.is_some() { "1.2" } else { "1.1" }.into(),
        label: label.map(str::to_string),
        salt: salt.to_vec(),
        hmac,
        ciphertext: data,
    }
}

/// Encrypt with a fresh random salt.
pub fn encrypt(
    plaintext: &[u8],
    password: &[u8],
    label: Option<&str>,
) -> Result<Envelope, CipherError> {
    Ok(encrypt_with_salt(
        plaintext,
        password,
        &random_salt()?,
        label,
    ))
}

/// Check the HMAC (constant time), then decrypt and unpad.
pub fn decrypt(env: &Envelope, password: &[u8]) -> Result<Vec<u8>, CipherError> {
    let keys = derive(password, &env.salt);
    let mut m = mac(&keys);
    m.update(&env.ciphertext);
    m.verify_slice(&env.hmac).map_err(|_| CipherError::Hmac)?;
    let mut data = env.ciphertext.clone();
    Aes256Ctr::new(&keys.aes.into(), &keys.iv.into()).apply_keystream(&mut data);
    let pad = data.last().copied().unwrap_or(0) as usize;
    let valid = data.len() % BLOCK == 0
        && (1..=BLOCK).contains(&pad)
        && data[data.len() - pad..].iter().all(|b| *b as usize == pad);
    if !valid {
        data.fill(0);
        return Err(CipherError::Padding);
    }
    data.truncate(data.len() - pad);
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_all_padding_lengths() {
        let salt = [7u8; SALT_LEN];
        for n in 0..40 {
            let plain: Vec<u8> = (0..n as u8).collect();
            let env = encrypt_with_salt(&plain, b"pw", &salt, None);
            assert_eq!(env.ciphertext.len() % BLOCK, 0);
            assert!(env.ciphertext.len() > plain.len());
            assert_eq!(decrypt(&env, b"pw").unwrap(), plain);
        }
    }

    #[test]
    fn wrong_password_fails_the_hmac() {
        let env = encrypt_with_salt(b"secret", b"right", &[1; SALT_LEN], None);
        assert_eq!(decrypt(&env, b"wrong"), Err(CipherError::Hmac));
    }

    #[test]
    fn tampering_fails_the_hmac() {
        let mut env = encrypt_with_salt(b"secret value", b"pw", &[1; SALT_LEN], None);
        env.ciphertext[0] ^= 1;
        assert_eq!(decrypt(&env, b"pw"), Err(CipherError::Hmac));
        let mut env = encrypt_with_salt(b"secret value", b"pw", &[1; SALT_LEN], None);
        env.hmac[31] ^= 0x80;
        assert_eq!(decrypt(&env, b"pw"), Err(CipherError::Hmac));
        let mut env = encrypt_with_salt(b"secret value", b"pw", &[1; SALT_LEN], None);
        env.hmac.pop();
        assert_eq!(decrypt(&env, b"pw"), Err(CipherError::Hmac));
    }

    #[test]
    fn bad_padding_is_detected_after_a_good_hmac() {
        // Encrypt unpadded data by hand, with a valid HMAC.
        let keys = derive(b"pw", &[2; SALT_LEN]);
        let mut data = vec![0u8; 16];
        Aes256Ctr::new(&keys.aes.into(), &keys.iv.into()).apply_keystream(&mut data);
        let mut m = mac(&keys);
        m.update(&data);
        let env = Envelope {
            version: "1.1".into(),
            label: None,
            salt: vec![2; SALT_LEN],
            hmac: m.finalize().into_bytes().to_vec(),
            ciphertext: data,
        };
        assert_eq!(decrypt(&env, b"pw"), Err(CipherError::Padding));
    }

    #[test]
    fn salts_are_random() {
        assert_ne!(random_salt().unwrap(), random_salt().unwrap());
    }
}
