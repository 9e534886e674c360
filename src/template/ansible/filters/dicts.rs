//! Dictionary filters: `dict2items`, `items2dict`, `combine`, `extract`, and the
//! `dict()` global.

use minijinja::value::{Kwargs, Rest, Value, ValueKind};
use minijinja::Error;

use super::{check_arity, ensure_defined, fail, flag, is_list, is_map, list_input, map_from_pairs};
use crate::template::ansible::pycompat::{self, py_repr};

/// `dict2items(key_name='key', value_name='value')`.
pub fn dict2items(value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    ensure_defined("dict2items", value)?;
    let key_name: Option<String> = kwargs.get("key_name")?;
    let value_name: Option<String> = kwargs.get("value_name")?;
    kwargs.assert_all_used()?;
    if !is_map(value) {
        return Err(fail(format!(
            "dict2items: requires a dictionary, got {}",
            value.kind()
        )));
    }
    let key_name = key_name.unwrap_or_else(|| "key".into());
    let value_name = value_name.unwrap_or_else(|| "value".into());
    let items = pycompat::map_pairs(value)?
        .into_iter()
        .map(|(k, v)| {
            map_from_pairs(vec![
                (Value::from(key_name.as_str()), k),
                (Value::from(value_name.as_str()), v),
            ])
        })
        .collect::<Vec<_>>();
    Ok(Value::from(items))
}

/// `items2dict(key_name='key', value_name='value')`.
pub fn items2dict(value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    ensure_defined("items2dict", value)?;
    let key_name: Option<String> = kwargs.get("key_name")?;
    let value_name: Option<String> = kwargs.get("value_name")?;
    kwargs.assert_all_used()?;
    if !is_list(value) {
        return Err(fail(format!(
            "items2dict: requires a list, got {}",
            value.kind()
        )));
    }
    let key_name = Value::from(key_name.unwrap_or_else(|| "key".into()));
    let value_name = Value::from(value_name.unwrap_or_else(|| "value".into()));
    let mut pairs: Vec<(Value, Value)> = Vec::new();
    for item in list_input("items2dict", value)? {
        if !is_map(&item) {
            return Err(fail(format!(
                "items2dict: requires a list of dictionaries, got an item of type {}",
                item.kind()
            )));
        }
        let k = item.get_item(&key_name).unwrap_or(Value::UNDEFINED);
        let v = item.get_item(&value_name).unwrap_or(Value::UNDEFINED);
        if k.is_undefined() || v.is_undefined() {
            return Err(fail(format!(
                "items2dict: each dictionary must contain the keys {} and {}, got {}",
                py_repr(&key_name),
                py_repr(&value_name),
                py_repr(&item)
            )));
        }
        upsert(&mut pairs, k, v);
    }
    Ok(map_from_pairs(pairs))
}

fn upsert(pairs: &mut Vec<(Value, Value)>, key: Value, value: Value) {
    if let Some(slot) = pairs.iter_mut().find(|(k, _)| *k == key) {
        slot.1 = value;
    } else {
        pairs.push((key, value));
    }
}

/// `items`: a concrete list of `[key, value]` pairs.
pub fn items(value: &Value) -> Result<Value, Error> {
    ensure_defined("items", value)?;
    if !is_map(value) {
        return Err(fail(format!(
            "items: requires a dictionary, got {}",
            value.kind()
        )));
    }
    Ok(Value::from(
        pycompat::map_pairs(value)?
            .into_iter()
            .map(|(k, v)| Value::from(vec![k, v]))
            .collect::<Vec<_>>(),
    ))
}

const LIST_MERGE: [&str; 6] = [
    "replace",
    "keep",
    "append",
    "prepend",
    "append_rp",
    "prepend_rp",
];

/// Ansible's `merge_hash(x, y)`: `y` wins.
pub(crate) fn merge_hash(
    x: &Value,
    y: &Value,
    recursive: bool,
    list_merge: &str,
) -> Result<Value, Error> {
    let mut out = pycompat::map_pairs(x)?;
    for (key, y_value) in pycompat::map_pairs(y)? {
        let Some(slot) = out.iter_mut().find(|(k, _)| *k == key) else {
            out.push((key, y_value));
            continue;
        };
        let x_value = slot.1.clone();
        slot.1 = if is_map(&x_value) && is_map(&y_value) {
            if recursive {
                merge_hash(&x_value, &y_value, recursive, list_merge)?
            } else {
                y_value
            }
        } else if x_value.kind() == ValueKind::Seq && y_value.kind() == ValueKind::Seq {
            let xs = list_input("combine", &x_value)?;
            let ys = list_input("combine", &y_value)?;
            let kept = || xs.iter().filter(|z| !ys.contains(z)).cloned();
            match list_merge {
                "append" => Value::from(xs.iter().chain(ys.iter()).cloned().collect::<Vec<_>>()),
                "prepend" => Value::from(ys.iter().chain(xs.iter()).cloned().collect::<Vec<_>>()),
                "append_rp" => Value::from(kept().chain(ys.iter().cloned()).collect::<Vec<_>>()),
                "prepend_rp" => Value::from(ys.iter().cloned().chain(kept()).collect::<Vec<_>>()),
                "keep" => x_value,
                _ => y_value,
            }
        } else {
            y_value
        };
    }
    Ok(map_from_pairs(out))
}

/// `combine(*dicts, recursive=False, list_merge='replace')`: later dicts
/// win; a list of dicts as input is flattened one level.
pub fn combine(value: &Value, others: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let recursive = flag(kwargs.get("recursive")?, false);
    let list_merge: Option<String> = kwargs.get("list_merge")?;
    kwargs.assert_all_used()?;
    let list_merge = list_merge.unwrap_or_else(|| "replace".into());
    if !LIST_MERGE.contains(&list_merge.as_str()) {
        return Err(fail(format!(
            "combine: 'list_merge' must be one of 'replace', 'keep', 'append', 'prepend', 'append_rp' or 'prepend_rp', got '{list_merge}'"
        )));
    }
    let mut dicts = Vec::new();
    for term in std::iter::once(value).chain(others.iter()) {
        ensure_defined("combine", term)?;
        if is_list(term) {
            dicts.extend(list_input("combine", term)?);
        } else {
            dicts.push(term.clone());
        }
    }
    if let Some(bad) = dicts.iter().find(|d| !is_map(d)) {
        return Err(fail(format!(
            "combine: expected dictionaries, got a {}",
            bad.kind()
        )));
    }
    let mut iter = dicts.into_iter().rev();
    let Some(mut result) = iter.next() else {
        return Ok(map_from_pairs(Vec::new()));
    };
    for lower in iter {
        result = merge_hash(&lower, &result, recursive, &list_merge)?;
    }
    Ok(result)
}

/// `extract(container, morekeys=None)`: `container[item]`, then each of
/// `morekeys`; missing keys give undefined.
pub fn extract(item: &Value, container: &Value, morekeys: Option<Value>) -> Result<Value, Error> {
    ensure_defined("extract", item)?;
    ensure_defined("extract", container)?;
    let mut keys = vec![item.clone()];
    match morekeys {
        None => {}
        Some(m) if m.kind() == ValueKind::Seq => keys.extend(list_input("extract", &m)?),
        Some(m) => keys.push(m),
    }
    let mut current = container.clone();
    for key in keys {
        current = current.get_item(&key).unwrap_or(Value::UNDEFINED);
        if current.is_undefined() {
            break;
        }
    }
    Ok(current)
}

/// The `dict()` global: accepts a mapping, a list of pairs and/or keyword
/// arguments, like Python's `dict`.
pub fn dict_function(args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    check_arity("dict", &args, 1)?;
    let mut pairs: Vec<(Value, Value)> = Vec::new();
    if let Some(source) = args.first() {
        if is_map(source) {
            pairs = pycompat::map_pairs(source)?;
        } else if source.is_undefined() || source.is_none() {
            return Err(fail("dict: argument is undefined or none"));
        } else {
            for item in list_input("dict", source)? {
                let pair = list_input("dict", &item)
                    .ok()
                    .filter(|p| p.len() == 2)
                    .ok_or_else(|| {
                        fail(format!(
                            "dict: sequence elements must be [key, value] pairs, got {}",
                            py_repr(&item)
                        ))
                    })?;
                let mut it = pair.into_iter();
                if let (Some(k), Some(v)) = (it.next(), it.next()) {
                    upsert(&mut pairs, k, v);
                }
            }
        }
    }
    for key in kwargs.args().map(str::to_string).collect::<Vec<_>>() {
        let v: Value = kwargs.get(&key)?;
        upsert(&mut pairs, Value::from(key), v);
    }
    Ok(map_from_pairs(pairs))
}
