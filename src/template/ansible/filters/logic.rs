//! Filters that decide or fail: `mandatory`, `ternary`, and `json_query` (refused).

use super::{ensure_defined, fail};
use minijinja::value::{Rest, Value};
use minijinja::{Error, ErrorKind};

/// `mandatory(msg=None)`: fails when the value is undefined.  minijinja does
/// not tell filters the variable name, so the default message cannot name it
/// (the error location points at the expression instead).
pub fn mandatory(value: &Value, msg: Option<String>) -> Result<Value, Error> {
    if value.is_undefined() {
        // Ansible reports this as the filter's failure, not as an undefined variable.
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            msg.unwrap_or_else(|| "Mandatory variable not defined.".into()),
        ));
    }
    Ok(value.clone())
}

/// `ternary(true_val, false_val, none_val=None)`: `none_val` is used only
/// when given and the value is `none`.
pub fn ternary(
    value: &Value,
    true_val: Value,
    false_val: Value,
    none_val: Option<Value>,
) -> Result<Value, Error> {
    ensure_defined("ternary", value)?;
    match none_val {
        Some(n) if value.is_none() && !n.is_none() => Ok(n),
        _ if value.is_true() => Ok(true_val),
        _ => Ok(false_val),
    }
}

/// `json_query` needs JMESPath (community.general), which drover does not ship.
pub fn json_query(_value: &Value, _args: Rest<Value>) -> Result<Value, Error> {
    Err(fail(
        "json_query (community.general, JMESPath) is not supported by drover; rewrite the expression with selectattr/map/dict2items",
    ))
}
