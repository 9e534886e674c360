//! Loop items: `loop` and the `with_*` forms, with Ansible's flattening rules.

use crate::diagnostics::{Error, Result};
use crate::playbook::LoopKind;
use minijinja::value::{Value, ValueKind};

fn list_of(v: &Value, what: &str) -> Result<Vec<Value>> {
    match v.kind() {
        ValueKind::Seq => Ok(v.try_iter().map(|i| i.collect()).unwrap_or_default()),
        ValueKind::None | ValueKind::Undefined => Ok(Vec::new()),
        _ => Err(
            Error::template(format!("{what} needs a list, got {} ({})", v.kind(), v))
                .with_help("for a mapping use `| dict2items` or with_dict"),
        ),
    }
}

/// The items to iterate, from the already-templated loop value.
pub fn items(kind: &LoopKind, v: &Value) -> Result<Vec<Value>> {
    match kind {
        LoopKind::Loop => list_of(v, "loop"),
        LoopKind::List => {
            if v.kind() == ValueKind::Seq {
                list_of(v, "with_list")
            } else {
                Ok(vec![v.clone()])
            }
        }
        LoopKind::Items => {
            // with_items flattens one level, and a lone string is one item.
            if v.kind() != ValueKind::Seq {
                return Ok(if v.is_none() {
                    Vec::new()
                } else {
                    vec![v.clone()]
                });
            }
            let mut out = Vec::new();
            for i in list_of(v, "with_items")? {
                if i.kind() == ValueKind::Seq {
                    out.extend(list_of(&i, "with_items")?);
                } else {
                    out.push(i);
                }
            }
            Ok(out)
        }
        LoopKind::Dict => {
            if v.kind() != ValueKind::Map {
                // Ansible's dict lookup looks at each term of a list: the first that is
                // not a mapping is named.
                let bad = match v.kind() {
                    ValueKind::Seq => v.get_item(&Value::from(0)).unwrap_or_default(),
                    _ => v.clone(),
                };
                let kind = crate::template::ansible::filters::type_debug(&bad)
                    .unwrap_or_else(|_| "NoneType".into());
                return Err(Error::template(format!(
                    "The lookup plugin 'dict' failed: the 'dict' lookup plugin expects a dictionary, got '{}' of type {kind}",
                    crate::template::ansible::pycompat::py_str(&bad)
                ))
                .with_help("with_dict loops over a mapping's key/value pairs; for a list use loop or with_items"));
            }
            let mut out = Vec::new();
            for k in v.try_iter().map_err(|e| Error::template(e.to_string()))? {
                let val = v.get_item(&k).unwrap_or_default();
                out.push(Value::from_iter([("key", k), ("value", val)]));
            }
            Ok(out)
        }
        LoopKind::IndexedItems => Ok(list_of(v, "with_indexed_items")?
            .into_iter()
            .enumerate()
            .map(|(i, x)| Value::from(vec![Value::from(i), x]))
            .collect()),
        LoopKind::Together => {
            let lists: Vec<Vec<Value>> = list_of(v, "with_together")?
                .iter()
                .map(|l| list_of(l, "with_together"))
                .collect::<Result<_>>()?;
            let n = lists.iter().map(Vec::len).max().unwrap_or(0);
            Ok((0..n)
                .map(|i| {
                    Value::from(
                        lists
                            .iter()
                            .map(|l| l.get(i).cloned().unwrap_or(Value::from(())))
                            .collect::<Vec<_>>(),
                    )
                })
                .collect())
        }
        LoopKind::Nested => {
            let lists: Vec<Vec<Value>> = list_of(v, "with_nested")?
                .iter()
                .map(|l| list_of(l, "with_nested"))
                .collect::<Result<_>>()?;
            let mut acc: Vec<Vec<Value>> = vec![Vec::new()];
            for l in lists {
                acc = acc
                    .into_iter()
                    .flat_map(|prefix| {
                        l.iter().map(move |x| {
                            let mut p = prefix.clone();
                            p.push(x.clone());
                            p
                        })
                    })
                    .collect();
            }
            Ok(acc.into_iter().map(Value::from).collect())
        }
        LoopKind::Sequence => sequence(v),
        // Their lookups already made the list (`TaskRunner::lookup_loop`).
        LoopKind::Fileglob | LoopKind::Subelements | LoopKind::Lookup(_) => list_of(v, "the loop"),
    }
}

/// `with_sequence: start=1 end=5 format=web%02d` (or `count=`).
fn sequence(v: &Value) -> Result<Vec<Value>> {
    let text = v
        .as_str()
        .ok_or_else(|| Error::template("with_sequence needs a string like 'start=1 end=5'"))?;
    let (mut start, mut end, mut stride, mut format) = (1i64, None, 1i64, None::<String>);
    for tok in text.split_whitespace() {
        let (k, val) = tok
            .split_once('=')
            .ok_or_else(|| Error::template(format!("with_sequence: bad term '{tok}'")))?;
        let n = || {
            val.parse::<i64>()
                .map_err(|_| Error::template(format!("with_sequence: '{val}' is not a number")))
        };
        match k {
            "start" => start = n()?,
            "end" => end = Some(n()?),
            "count" => end = Some(start + n()? - 1),
            "stride" => stride = n()?,
            "format" => format = Some(val.to_string()),
            other => {
                return Err(Error::template(format!(
                    "with_sequence: unknown option '{other}'"
                )))
            }
        }
    }
    let end = end.ok_or_else(|| Error::template("with_sequence needs end= or count="))?;
    if stride == 0 || (end - start) / stride > 100_000 {
        return Err(Error::template(
            "with_sequence: bad stride or too many items",
        ));
    }
    let mut out = Vec::new();
    let mut i = start;
    while (stride > 0 && i <= end) || (stride < 0 && i >= end) {
        out.push(Value::from(match &format {
            Some(f) => printf_int(f, i),
            None => i.to_string(),
        }));
        i += stride;
    }
    Ok(out)
}

/// `%d`, `%02d`, `%x` in a with_sequence format.
fn printf_int(fmt: &str, n: i64) -> String {
    let re = regex::Regex::new(r"%(0?)(\d*)([dxo])").expect("static regex");
    re.replace(fmt, |c: &regex::Captures| {
        let width: usize = c[2].parse().unwrap_or(0);
        let s = match &c[3] {
            "x" => format!("{n:x}"),
            "o" => format!("{n:o}"),
            _ => n.to_string(),
        };
        if &c[1] == "0" {
            format!("{s:0>width$}")
        } else {
            format!("{s:>width$}")
        }
    })
    .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_items_flattens_one_level() {
        let v = Value::from(vec![
            Value::from(1),
            Value::from(vec![Value::from(2), Value::from(3)]),
        ]);
        assert_eq!(items(&LoopKind::Items, &v).unwrap().len(), 3);
        assert_eq!(items(&LoopKind::Loop, &v).unwrap().len(), 2);
    }

    #[test]
    fn sequences() {
        let v = items(
            &LoopKind::Sequence,
            &Value::from("start=1 end=3 format=web%02d"),
        )
        .unwrap();
        assert_eq!(
            v,
            vec![
                Value::from("web01"),
                Value::from("web02"),
                Value::from("web03")
            ]
        );
    }
}
