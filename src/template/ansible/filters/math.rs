//! Number filters: `human_readable`, `human_to_bytes`, `log`, `pow`, `root`.

use minijinja::value::{Kwargs, Value};
use minijinja::Error;

use super::types::parse_py_float;
use super::{ensure_defined, fail, flag, num_f64, text_input};
use crate::template::ansible::pycompat::py_repr;

const SIZE_UNITS: [(char, u32); 9] = [
    ('Y', 80),
    ('Z', 70),
    ('E', 60),
    ('P', 50),
    ('T', 40),
    ('G', 30),
    ('M', 20),
    ('K', 10),
    ('B', 0),
];

/// `human_readable(isbits=False, unit=None)`: `1024` → `"1.00 KB"`.
pub fn human_readable(value: &Value, kwargs: Kwargs) -> Result<String, Error> {
    ensure_defined("human_readable", value)?;
    let isbits = flag(kwargs.get("isbits")?, false);
    let unit: Option<String> = kwargs.get("unit")?;
    kwargs.assert_all_used()?;
    let size = match value.as_str() {
        Some(s) => parse_py_float(s),
        None => num_f64(value),
    }
    .ok_or_else(|| {
        fail(format!(
            "human_readable: expected a number, got {}",
            py_repr(value)
        ))
    })?;
    let base = if isbits { "bits" } else { "Bytes" };
    let mut chosen = ('B', 0u32);
    for (suffix, shift) in SIZE_UNITS {
        chosen = (suffix, shift);
        let limit = 2f64.powi(shift as i32);
        let hit = match &unit {
            None => size >= limit,
            Some(u) => u.to_uppercase().starts_with(suffix),
        };
        if hit {
            break;
        }
    }
    let (suffix, shift) = chosen;
    let limit = 2f64.powi(shift as i32);
    let label = if shift == 0 {
        base.to_string()
    } else {
        format!("{suffix}{}", &base[..1])
    };
    Ok(format!("{:.2} {label}", size / limit))
}

/// `human_to_bytes(default_unit=None, isbits=False)`: `"1.5M"` → 1572864.
pub fn human_to_bytes(value: &Value, kwargs: Kwargs) -> Result<i128, Error> {
    const NAME: &str = "human_to_bytes";
    let text = text_input(NAME, value)?;
    let default_unit: Option<String> = kwargs.get("default_unit")?;
    let isbits = flag(kwargs.get("isbits")?, false);
    kwargs.assert_all_used()?;
    let trimmed = text.trim_end();
    let num_end = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (num_part, rest) = trimmed.split_at(num_end);
    let unit_part = rest.trim_start();
    let valid_num =
        !num_part.is_empty() && num_part.matches('.').count() <= 1 && !num_part.ends_with('.');
    if !valid_num || !unit_part.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(fail(format!("{NAME}: cannot interpret {text:?} as a size")));
    }
    let num: f64 = num_part
        .parse()
        .map_err(|_| fail(format!("{NAME}: cannot interpret {text:?} as a size")))?;
    let unit = if unit_part.is_empty() {
        default_unit
    } else {
        Some(unit_part.to_string())
    };
    let Some(unit) = unit else {
        return Ok(num.round_ties_even() as i128);
    };
    let range_key = unit.chars().next().unwrap_or('B').to_ascii_uppercase();
    let Some((_, shift)) = SIZE_UNITS.iter().find(|(s, _)| *s == range_key) else {
        return Err(fail(format!(
            "{NAME}: cannot convert {text:?}: the unit must start with one of Y, Z, E, P, T, G, M, K, B"
        )));
    };
    let (class, class_name) = if isbits { ('b', "bit") } else { ('B', "byte") };
    if unit.chars().count() > 1
        && !unit.to_lowercase().contains(class_name)
        && unit.chars().nth(1) != Some(class)
    {
        let expect = if range_key == 'B' {
            format!("{class} or {class_name}")
        } else {
            format!("{range_key}{class} or {range_key}")
        };
        return Err(fail(format!(
            "{NAME}: cannot convert {text:?}: expected {expect}"
        )));
    }
    Ok((num * 2f64.powi(*shift as i32)).round_ties_even() as i128)
}

/// `log(base=e)`.
pub fn log(value: &Value, base: Option<Value>) -> Result<f64, Error> {
    let x = num_f64(value).ok_or_else(|| fail("log: expected a number"))?;
    if x <= 0.0 {
        return Err(fail("log: math domain error"));
    }
    match base {
        None => Ok(x.ln()),
        Some(b) => Ok(x.ln()
            / num_f64(&b)
                .ok_or_else(|| fail("log: base must be a number"))?
                .ln()),
    }
}

/// `pow(y)`: always a float, like Python's `math.pow`.
pub fn pow(value: &Value, y: &Value) -> Result<f64, Error> {
    let x = num_f64(value).ok_or_else(|| fail("pow: expected a number"))?;
    Ok(x.powf(num_f64(y).ok_or_else(|| fail("pow: exponent must be a number"))?))
}

/// `root(base=2)`.
pub fn root(value: &Value, base: Option<Value>) -> Result<f64, Error> {
    let x = num_f64(value).ok_or_else(|| fail("root: expected a number"))?;
    match base.as_ref().and_then(num_f64) {
        None => Ok(x.sqrt()),
        Some(2.0) => Ok(x.sqrt()),
        Some(b) => Ok(x.powf(1.0 / b)),
    }
}
