//! Version comparison (`version_compare`), shared with the `version` test: loose,
//! strict and semver orderings as Ansible's.

use std::cmp::Ordering;

use minijinja::value::{Kwargs, Rest, Value};
use minijinja::Error;

use super::{check_arity, ensure_defined, fail, param};
use crate::template::ansible::pycompat::py_str;

#[derive(Debug, Clone, PartialEq, Eq)]
enum LoosePart {
    Num(String),
    Str(String),
}

fn cmp_digits(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Splits like distutils' `LooseVersion`: runs of digits, runs of lowercase
/// letters, dots (dropped) and everything else.
fn loose_parts(v: &str) -> Vec<LoosePart> {
    #[derive(PartialEq, Clone, Copy)]
    enum Class {
        Digit,
        Lower,
        Dot,
        Other,
    }
    let class = |c: char| {
        if c.is_ascii_digit() {
            Class::Digit
        } else if c.is_ascii_lowercase() {
            Class::Lower
        } else if c == '.' {
            Class::Dot
        } else {
            Class::Other
        }
    };
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut current_class = None;
    let flush = |current: &mut String, cls: Option<Class>, parts: &mut Vec<LoosePart>| {
        if current.is_empty() {
            return;
        }
        let text = std::mem::take(current);
        match cls {
            Some(Class::Digit) => parts.push(LoosePart::Num(text)),
            Some(Class::Dot) | None => {}
            _ => parts.push(LoosePart::Str(text)),
        }
    };
    for c in v.chars() {
        let cls = class(c);
        if Some(cls) != current_class || cls == Class::Dot {
            flush(&mut current, current_class, &mut parts);
            current_class = Some(cls);
        }
        current.push(c);
    }
    flush(&mut current, current_class, &mut parts);
    parts
}

fn cmp_loose(a: &str, b: &str) -> Result<Ordering, String> {
    let pa = loose_parts(a);
    let pb = loose_parts(b);
    if pa == pb {
        return Ok(Ordering::Equal);
    }
    for (x, y) in pa.iter().zip(pb.iter()) {
        let ord = match (x, y) {
            (LoosePart::Num(x), LoosePart::Num(y)) => cmp_digits(x, y),
            (LoosePart::Str(x), LoosePart::Str(y)) => x.cmp(y),
            (LoosePart::Num(_), LoosePart::Str(_)) => {
                return Err("'<' not supported between instances of 'int' and 'str'".into())
            }
            (LoosePart::Str(_), LoosePart::Num(_)) => {
                return Err("'<' not supported between instances of 'str' and 'int'".into())
            }
        };
        if ord != Ordering::Equal {
            return Ok(ord);
        }
    }
    Ok(pa.len().cmp(&pb.len()))
}

/// `(major, minor, patch, prerelease)` of a distutils `StrictVersion`.
type StrictVersion = (u64, u64, u64, Option<(char, u64)>);

fn strict_parse(v: &str) -> Result<StrictVersion, String> {
    let invalid = || format!("invalid version number '{v}'");
    let (core, pre) = match v.find(['a', 'b']) {
        Some(i) => (&v[..i], Some(&v[i..])),
        None => (v, None),
    };
    let nums: Vec<&str> = core.split('.').collect();
    if !(2..=3).contains(&nums.len())
        || nums
            .iter()
            .any(|n| n.is_empty() || !n.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(invalid());
    }
    let num = |s: &str| s.parse::<u64>().map_err(|_| invalid());
    let patch = match nums.get(2) {
        Some(p) => num(p)?,
        None => 0,
    };
    let pre = match pre {
        None => None,
        Some(p) => {
            let letter = p.chars().next().unwrap_or('a');
            let digits = &p[1..];
            if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
                return Err(invalid());
            }
            Some((letter, num(digits)?))
        }
    };
    Ok((num(nums[0])?, num(nums[1])?, patch, pre))
}

fn cmp_strict(a: &str, b: &str) -> Result<Ordering, String> {
    let (a1, a2, a3, apre) = strict_parse(a)?;
    let (b1, b2, b3, bpre) = strict_parse(b)?;
    Ok((a1, a2, a3)
        .cmp(&(b1, b2, b3))
        .then_with(|| match (apre, bpre) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(x), Some(y)) => x.cmp(&y),
        }))
}

fn semver_parse(v: &str) -> Result<(Vec<String>, Vec<String>), String> {
    let invalid = || format!("invalid semantic version '{v}'");
    let without_build = v.split_once('+').map_or(v, |(core, _)| core);
    let (core, pre) = match without_build.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (without_build, None),
    };
    let nums: Vec<String> = core.split('.').map(str::to_string).collect();
    let valid_num = |n: &str| {
        !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) && (n == "0" || !n.starts_with('0'))
    };
    if nums.len() != 3 || !nums.iter().all(|n| valid_num(n)) {
        return Err(invalid());
    }
    let pre: Vec<String> = match pre {
        None => Vec::new(),
        Some(p) => {
            let ids: Vec<String> = p.split('.').map(str::to_string).collect();
            if ids
                .iter()
                .any(|i| i.is_empty() || !i.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
            {
                return Err(invalid());
            }
            ids
        }
    };
    Ok((nums, pre))
}

fn cmp_semver(a: &str, b: &str) -> Result<Ordering, String> {
    let (an, ap) = semver_parse(a)?;
    let (bn, bp) = semver_parse(b)?;
    for (x, y) in an.iter().zip(bn.iter()) {
        let o = cmp_digits(x, y);
        if o != Ordering::Equal {
            return Ok(o);
        }
    }
    Ok(match (ap.is_empty(), bp.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => {
            for (x, y) in ap.iter().zip(bp.iter()) {
                let xn = x.chars().all(|c| c.is_ascii_digit());
                let yn = y.chars().all(|c| c.is_ascii_digit());
                let o = match (xn, yn) {
                    (true, true) => cmp_digits(x, y),
                    (true, false) => Ordering::Less,
                    (false, true) => Ordering::Greater,
                    (false, false) => x.cmp(y),
                };
                if o != Ordering::Equal {
                    return Ok(o);
                }
            }
            ap.len().cmp(&bp.len())
        }
    })
}

/// Implements Ansible's `version_compare`: loose (distutils `LooseVersion`)
/// by default, `strict=true` or `version_type` = loose/strict/semver.
pub(crate) fn version_compare_impl(
    name: &str,
    value: &Value,
    version: &Value,
    args: &[Value],
    kwargs: &Kwargs,
) -> Result<bool, Error> {
    ensure_defined(name, value)?;
    check_arity(name, args, 3)?;
    let operator = param(args, kwargs, 0, "operator")?;
    let strict = param(args, kwargs, 1, "strict")?;
    let version_type = param(args, kwargs, 2, "version_type")?;
    kwargs.assert_all_used()?;
    let a = py_str(value);
    let b = if version.is_undefined() {
        String::new()
    } else {
        py_str(version)
    };
    if a.is_empty() {
        return Err(fail(format!("{name}: input version value cannot be empty")));
    }
    if b.is_empty() {
        return Err(fail(format!(
            "{name}: version parameter to compare against cannot be empty"
        )));
    }
    let strict_flag = strict.as_ref().filter(|v| !v.is_none()).map(Value::is_true);
    let vtype = version_type.as_ref().filter(|v| !v.is_none()).map(py_str);
    if strict_flag.is_some() && vtype.is_some() {
        return Err(fail(format!(
            "{name}: cannot specify both 'strict' and 'version_type'"
        )));
    }
    let kind = match (strict_flag, vtype.as_deref()) {
        (Some(true), _) => "strict",
        (_, Some(t)) => t,
        _ => "loose",
    };
    let op = operator.map_or_else(|| "eq".to_string(), |o| py_str(&o));
    let ordering = match kind {
        "loose" => cmp_loose(&a, &b),
        "strict" => cmp_strict(&a, &b),
        "semver" | "semantic" => cmp_semver(&a, &b),
        "pep440" => return Err(fail(format!("{name}: version_type 'pep440' is not supported by drover"))),
        other => {
            return Err(fail(format!(
                "{name}: invalid version type ({other}); must be one of loose, strict, semver, semantic"
            )))
        }
    };
    let check: fn(Ordering) -> bool = match op.as_str() {
        "==" | "=" | "eq" => |o| o == Ordering::Equal,
        "<" | "lt" => |o| o == Ordering::Less,
        "<=" | "le" => |o| o != Ordering::Greater,
        ">" | "gt" => |o| o == Ordering::Greater,
        ">=" | "ge" => |o| o != Ordering::Less,
        "!=" | "<>" | "ne" => |o| o != Ordering::Equal,
        other => {
            return Err(fail(format!(
                "{name}: invalid operator type ({other}); must be one of '==', '=', 'eq', '<', 'lt', '<=', 'le', '>', 'gt', '>=', 'ge', '!=', '<>', 'ne'"
            )))
        }
    };
    let ordering = ordering.map_err(|e| fail(format!("{name}: version comparison failed: {e}")))?;
    Ok(check(ordering))
}

/// `version_compare(version, operator='eq', strict=None, version_type=None)`
/// as a filter (Ansible only ships it as a test; kept for old playbooks).
pub fn version_compare(
    value: &Value,
    version: &Value,
    args: Rest<Value>,
    kwargs: Kwargs,
) -> Result<bool, Error> {
    version_compare_impl("version_compare", value, version, &args, &kwargs)
}
