//! `vault` and `unvault`: encrypt and decrypt a string with a secret given in the
//! template, independent of the passwords given on the command line.

use super::{fail, param, str_param};
use crate::vault::{cipher, envelope, register_secret, undecryptable};
use minijinja::value::{Kwargs, Rest, Value};
use minijinja::Error;

/// The vault id both filters use when none is given, as Ansible's.
const FILTER_VAULT_ID: &str = "filter_default";

/// `vault(secret, salt=None, vault_id='filter_default', wrap_object=False)`: the vault
/// text of the string. drover has no vaulted-value object, so `wrap_object=True` gives the
/// same text.
pub fn vault(data: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<String, Error> {
    let secret = secret_param("vault", &args, &kwargs)?;
    let Some(plain) = data.as_str() else {
        return Err(fail(format!(
            "Can only vault strings, instead we got {}.",
            data.kind()
        )));
    };
    let salt = param(&args, &kwargs, 1, "salt")?.filter(|s| !s.is_none());
    let id = vault_id(&args, &kwargs, 2)?;
    let _wrap = param(&args, &kwargs, 3, "wrap_object")?;
    kwargs.assert_all_used()?;
    let label = Some(id.as_str());
    let env = match salt {
        Some(salt) => cipher::encrypt_with_salt(
            plain.as_bytes(),
            secret.as_bytes(),
            str_param("vault", "salt", &salt)?.as_bytes(),
            label,
        ),
        None => cipher::encrypt(plain.as_bytes(), secret.as_bytes(), label)
            .map_err(|e| fail(format!("Unable to encrypt: {e}")))?,
    };
    Ok(env.format())
}

/// `unvault(secret, vault_id='filter_default')`: the plaintext of vault text, or of a
/// `!vault` value no command-line password opened; any other string is returned as is.
pub fn unvault(data: &Value, args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let secret = secret_param("unvault", &args, &kwargs)?;
    let _id = vault_id(&args, &kwargs, 1)?;
    kwargs.assert_all_used()?;
    let text = match undecryptable::as_undecryptable(data) {
        Some(u) => u.ciphertext.clone(),
        None => match data.as_str() {
            Some(s) => s.to_string(),
            None => {
                return Err(fail(format!(
                    "Vault should be in the form of a string, instead we got {}.",
                    data.kind()
                )))
            }
        },
    };
    if !envelope::is_encrypted(text.as_bytes()) {
        return Ok(Value::from(text));
    }
    let env = envelope::Envelope::parse(text.as_bytes())
        .map_err(|e| fail(format!("Unable to decrypt: {}", e.0)))?;
    let plain = cipher::decrypt(&env, secret.as_bytes())
        .map_err(|e| fail(format!("Unable to decrypt: {e}")))?;
    let plain = String::from_utf8(plain)
        .map_err(|_| fail("Unable to decrypt: the plaintext is not UTF-8 text"))?;
    register_secret(&plain);
    // The plaintext is data: Ansible does not trust decrypted values as templates.
    Ok(crate::template::as_data(Value::from(plain)))
}

fn secret_param(name: &str, args: &[Value], kwargs: &Kwargs) -> Result<String, Error> {
    match param(args, kwargs, 0, "secret")? {
        Some(s) if s.as_str().is_some() => Ok(s.as_str().unwrap_or_default().to_string()),
        Some(s) => Err(fail(format!(
            "{name}: Secret passed is required to be a string, instead we got {}.",
            s.kind()
        ))),
        None => Err(fail(format!("{name}: missing the secret argument"))),
    }
}

fn vault_id(args: &[Value], kwargs: &Kwargs, idx: usize) -> Result<String, Error> {
    // `vaultid` is Ansible's deprecated spelling.
    let given = param(args, kwargs, idx, "vault_id")?.or(kwargs.get("vaultid")?);
    match given {
        Some(v) if !v.is_none() => str_param("vault", "vault_id", &v),
        _ => Ok(FILTER_VAULT_ID.to_string()),
    }
}
