//! Time in templates: Ansible's `now()` global and `strftime` filter, formatted as
//! Python's `strftime` does (`%f` is microseconds there, nanoseconds in chrono).

use chrono::{DateTime, Local, TimeZone, Utc};
use minijinja::value::{Kwargs, Value};
use minijinja::{Error, ErrorKind};

/// Python's strftime directives in chrono's spelling.
fn python_format(fmt: &str) -> String {
    fmt.replace("%f", "%6f")
}

fn format<Tz: TimeZone>(t: &DateTime<Tz>, fmt: &str) -> Result<String, Error>
where
    Tz::Offset: std::fmt::Display,
{
    use std::fmt::Write;
    let mut out = String::new();
    write!(out, "{}", t.format(&python_format(fmt))).map_err(|_| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("'{fmt}' is not a valid strftime format"),
        )
    })?;
    Ok(out)
}

/// `now(utc=False, fmt=None)`: the time as `fmt`, or as Python prints a datetime.
pub fn now(kwargs: Kwargs) -> Result<Value, Error> {
    let utc: bool = kwargs.get::<Option<bool>>("utc")?.unwrap_or(false);
    let fmt: Option<String> = kwargs.get("fmt")?;
    kwargs.assert_all_used()?;
    let fmt = fmt.unwrap_or_else(|| "%Y-%m-%d %H:%M:%S.%f".into());
    Ok(Value::from(if utc {
        format(&Utc::now(), &fmt)?
    } else {
        format(&Local::now(), &fmt)?
    }))
}

/// `'%Y-%m-%d' | strftime(second=None, utc=False)`.
pub fn strftime(fmt: String, second: Option<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let utc: bool = kwargs.get::<Option<bool>>("utc")?.unwrap_or(false);
    let second = match second.or(kwargs.get::<Option<Value>>("second")?) {
        Some(v) if !v.is_none() => Some(
            f64::try_from(v.clone())
                .ok()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::InvalidOperation,
                        format!("strftime: second must be a number, got {v}"),
                    )
                })?,
        ),
        _ => None,
    };
    kwargs.assert_all_used()?;
    let t: DateTime<Utc> = match second {
        Some(s) => DateTime::from_timestamp(s.trunc() as i64, (s.fract() * 1e9) as u32)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidOperation,
                    format!("strftime: bad time {s}"),
                )
            })?,
        None => Utc::now(),
    };
    Ok(Value::from(if utc {
        format(&t, &fmt)?
    } else {
        format(&t.with_timezone(&Local), &fmt)?
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_directives() {
        let t = DateTime::from_timestamp(86_400 + 1, 250_000_000).unwrap();
        assert_eq!(
            format(&t, "%Y-%m-%d %H:%M:%S").unwrap(),
            "1970-01-02 00:00:01"
        );
        assert_eq!(format(&t, "%s.%f").unwrap(), "86401.250000");
    }
}
