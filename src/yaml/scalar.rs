//! YAML 1.1 implicit typing of plain scalars, as PyYAML's resolver does it: the one
//! resolver drover has. The loader ([`resolve_plain`]) and the `to_yaml` emitter (which
//! quotes a string whenever [`implicit`] would read it back as something else) share it.

use std::sync::OnceLock;

use regex::Regex;

use super::NodeKind;

/// The tag PyYAML's resolver gives a plain scalar (its implicit resolvers, in order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Implicit {
    /// `yes`, `Off`, `true` …
    Bool,
    /// Decimal, `0b`, `0x`, leading-zero octal, base 60.
    Int,
    /// A dot is required; `.inf`, `.nan`, base 60.
    Float,
    /// `~`, `null`, the empty scalar.
    Null,
    /// `2001-12-14`, `2001-12-14t21:59:43.10-05:00` (drover keeps these as text).
    Timestamp,
    /// `<<`, the merge key.
    Merge,
    /// `=`, the value key.
    Value,
    /// Anything else.
    Str,
}

/// PyYAML's resolver patterns. They are constants that always compile; `Option`
/// merely keeps the code free of panics.
struct Resolvers {
    bool_re: Option<Regex>,
    int_re: Option<Regex>,
    float_re: Option<Regex>,
    null_re: Option<Regex>,
    timestamp_re: Option<Regex>,
}

fn resolvers() -> &'static Resolvers {
    static RESOLVERS: OnceLock<Resolvers> = OnceLock::new();
    RESOLVERS.get_or_init(|| {
        let build = |re: &str| Regex::new(re).ok();
        Resolvers {
            bool_re: build(
                r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$",
            ),
            int_re: build(
                r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$",
            ),
            float_re: build(
                r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
            ),
            null_re: build(r"^(?:~|null|Null|NULL|)$"),
            timestamp_re: build(
                r"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$",
            ),
        }
    })
}

/// The tag PyYAML would give `text` as a plain scalar.
pub fn implicit(text: &str) -> Implicit {
    // PyYAML indexes its resolvers by first character; none starts with anything else.
    match text.chars().next() {
        None => return Implicit::Null,
        Some(c) if !"yYnNtTfFoO-+0123456789.~<=".contains(c) => return Implicit::Str,
        _ => {}
    }
    let r = resolvers();
    let matches = |re: &Option<Regex>| re.as_ref().is_some_and(|re| re.is_match(text));
    if matches(&r.bool_re) {
        Implicit::Bool
    } else if matches(&r.int_re) {
        Implicit::Int
    } else if matches(&r.float_re) {
        Implicit::Float
    } else if matches(&r.null_re) {
        Implicit::Null
    } else if matches(&r.timestamp_re) {
        Implicit::Timestamp
    } else if text == "<<" {
        Implicit::Merge
    } else if text == "=" {
        Implicit::Value
    } else {
        Implicit::Str
    }
}

/// Resolve a plain (unquoted) scalar to its YAML 1.1 type. A timestamp stays its text
/// (drover has no date type), as does an integer too large for an `i128`.
pub fn resolve_plain(text: &str) -> NodeKind {
    match implicit(text) {
        Implicit::Null => NodeKind::Null,
        Implicit::Bool => NodeKind::Bool(matches!(
            text,
            "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON"
        )),
        Implicit::Int => {
            parse_int(text).map_or_else(|| NodeKind::Str(text.to_string()), NodeKind::Int)
        }
        Implicit::Float => {
            parse_float(text).map_or_else(|| NodeKind::Str(text.to_string()), NodeKind::Float)
        }
        _ => NodeKind::Str(text.to_string()),
    }
}

/// Integers: decimal, `0b`, `0x`, leading-zero octal, `_` separators, base-60.
pub fn parse_int(text: &str) -> Option<i128> {
    let (neg, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if body.is_empty() || body.starts_with('_') {
        return None;
    }
    let value = if let Some(bin) = body.strip_prefix("0b") {
        from_radix(bin, 2)?
    } else if let Some(hex) = body.strip_prefix("0x") {
        from_radix(hex, 16)?
    } else if body == "0" {
        0
    } else if let Some(oct) = body.strip_prefix('0') {
        from_radix(oct, 8)?
    } else if body.contains(':') {
        sexagesimal_int(body)?
    } else {
        if !body.as_bytes()[0].is_ascii_digit() {
            return None;
        }
        from_radix(body, 10)?
    };
    Some(if neg { -value } else { value })
}

fn from_radix(digits: &str, radix: u32) -> Option<i128> {
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    if clean.is_empty() || !clean.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    i128::from_str_radix(&clean, radix).ok()
}

fn sexagesimal_int(body: &str) -> Option<i128> {
    let mut parts = body.split(':');
    let first = parts.next()?;
    if !first.starts_with(|c: char| ('1'..='9').contains(&c)) {
        return None;
    }
    let mut value = from_radix(first, 10)?;
    for part in parts {
        if part.is_empty() || part.len() > 2 || !part.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let n: i128 = part.parse().ok()?;
        if n > 59 {
            return None;
        }
        value = value.checked_mul(60)?.checked_add(n)?;
    }
    Some(value)
}

/// Floats as PyYAML reads them: a dot is required (`1e3` stays a string) and an
/// exponent needs its sign; `.inf`, `.nan`.
pub fn parse_float(text: &str) -> Option<f64> {
    let (neg, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let sign = if neg { -1.0 } else { 1.0 };
    match body {
        ".inf" | ".Inf" | ".INF" => return Some(sign * f64::INFINITY),
        ".nan" | ".NaN" | ".NAN" if text == body => return Some(f64::NAN),
        _ => {}
    }
    if body.contains(':') {
        // Base 60 (`1:30.5` is 90.5), as PyYAML's float constructor reads it.
        let mut value = 0.0;
        for part in body.split(':') {
            let clean: String = part.chars().filter(|c| *c != '_').collect();
            if clean.is_empty() || !clean.chars().all(|c| c.is_ascii_digit() || c == '.') {
                return None;
            }
            value = value * 60.0 + clean.parse::<f64>().ok()?;
        }
        return Some(sign * value);
    }
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let dot = mantissa.find('.')?;
    let (int_part, frac_part) = (&mantissa[..dot], &mantissa[dot + 1..]);
    let digits_ok = |s: &str| s.chars().all(|c| c.is_ascii_digit() || c == '_');
    if !digits_ok(int_part) || !digits_ok(frac_part) || int_part.starts_with('_') {
        return None;
    }
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    if int_part.is_empty() && frac_part.starts_with('_') {
        return None;
    }
    if let Some(exp) = exponent {
        let digits = exp.strip_prefix(['+', '-'])?;
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
    }
    let clean: String = body.chars().filter(|c| *c != '_').collect();
    let clean = if clean.starts_with('.') {
        format!("0{clean}")
    } else {
        clean
    };
    clean.parse::<f64>().ok().map(|f| sign * f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(s: &str) -> NodeKind {
        resolve_plain(s)
    }

    #[test]
    fn yaml11_booleans() {
        for t in ["yes", "Yes", "YES", "on", "On", "true", "True"] {
            assert_eq!(kind(t), NodeKind::Bool(true), "{t}");
        }
        for f in ["no", "No", "off", "OFF", "false", "FALSE"] {
            assert_eq!(kind(f), NodeKind::Bool(false), "{f}");
        }
        // PyYAML does not treat y/n as booleans.
        assert_eq!(kind("y"), NodeKind::Str("y".into()));
        assert_eq!(kind("yES"), NodeKind::Str("yES".into()));
    }

    #[test]
    fn yaml11_integers() {
        assert_eq!(kind("0644"), NodeKind::Int(420));
        assert_eq!(kind("0755"), NodeKind::Int(493));
        assert_eq!(kind("0o644"), NodeKind::Str("0o644".into()));
        assert_eq!(kind("0x1F"), NodeKind::Int(31));
        assert_eq!(kind("0b101"), NodeKind::Int(5));
        assert_eq!(kind("1_000"), NodeKind::Int(1000));
        assert_eq!(kind("-42"), NodeKind::Int(-42));
        assert_eq!(kind("190:20:30"), NodeKind::Int(685230));
        assert_eq!(kind("0"), NodeKind::Int(0));
        assert_eq!(kind("089"), NodeKind::Str("089".into()));
        assert_eq!(kind("12:70"), NodeKind::Str("12:70".into()));
    }

    #[test]
    fn implicit_tags_as_pyyaml() {
        assert_eq!(implicit("yes"), Implicit::Bool);
        assert_eq!(implicit("0o17"), Implicit::Str);
        assert_eq!(implicit("1_000"), Implicit::Int);
        assert_eq!(implicit("1e3"), Implicit::Str);
        assert_eq!(implicit("12:30"), Implicit::Int);
        assert_eq!(implicit("2024-01-01"), Implicit::Timestamp);
        assert_eq!(implicit("<<"), Implicit::Merge);
        assert_eq!(implicit("="), Implicit::Value);
        assert_eq!(implicit(""), Implicit::Null);
        assert_eq!(implicit("word"), Implicit::Str);
        // Beyond 64 bits, and base 60 with a fraction.
        assert_eq!(
            kind("99999999999999999999999"),
            NodeKind::Int(99999999999999999999999)
        );
        assert_eq!(kind("1:30.5"), NodeKind::Float(90.5));
        // PyYAML's float pattern has no sign before a leading dot.
        assert_eq!(kind("-.5"), NodeKind::Str("-.5".into()));
        assert_eq!(kind("-.inf"), NodeKind::Float(f64::NEG_INFINITY));
    }

    #[test]
    fn yaml11_floats_and_nulls() {
        assert_eq!(kind("1.5"), NodeKind::Float(1.5));
        assert_eq!(kind("1.0e+3"), NodeKind::Float(1000.0));
        assert_eq!(kind("1e3"), NodeKind::Str("1e3".into()));
        assert_eq!(kind(".5"), NodeKind::Float(0.5));
        assert_eq!(kind("-.inf"), NodeKind::Float(f64::NEG_INFINITY));
        assert_eq!(kind("1.2.3"), NodeKind::Str("1.2.3".into()));
        assert_eq!(kind("~"), NodeKind::Null);
        assert_eq!(kind("null"), NodeKind::Null);
        assert_eq!(kind(""), NodeKind::Null);
        assert_eq!(kind("nil"), NodeKind::Str("nil".into()));
    }
}
