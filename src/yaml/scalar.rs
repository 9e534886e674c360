//! YAML 1.1 implicit typing of plain scalars, as PyYAML's resolver does it.

use super::NodeKind;

/// Resolve a plain (unquoted) scalar to its YAML 1.1 type.
pub fn resolve_plain(text: &str) -> NodeKind {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return NodeKind::Null,
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return NodeKind::Bool(true)
        }
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return NodeKind::Bool(false)
        }
        _ => {}
    }
    if let Some(i) = parse_int(text) {
        return NodeKind::Int(i);
    }
    if let Some(f) = parse_float(text) {
        return NodeKind::Float(f);
    }
    NodeKind::Str(text.to_string())
}

/// Integers: decimal, `0b`, `0x`, leading-zero octal, `_` separators, base-60.
pub fn parse_int(text: &str) -> Option<i64> {
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

fn from_radix(digits: &str, radix: u32) -> Option<i64> {
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    if clean.is_empty() || !clean.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    i64::from_str_radix(&clean, radix).ok()
}

fn sexagesimal_int(body: &str) -> Option<i64> {
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
        let n: i64 = part.parse().ok()?;
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
