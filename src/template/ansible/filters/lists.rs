//! List and set filters: `unique`, `union`, `min`/`max`/`sum`, `flatten`, `zip`,
//! `product`, `subelements` …

use std::cmp::Ordering;

use minijinja::value::{Kwargs, Rest, Value};
use minijinja::Error;

use super::{
    attr_path, ensure_defined, fail, flag, is_list, is_map, list_input, num_f64, num_i128,
};
use crate::template::ansible::pycompat::{self, py_repr};

fn fold_case(value: &Value, case_sensitive: bool) -> Value {
    match value.as_str() {
        Some(s) if !case_sensitive => Value::from(s.to_lowercase()),
        _ => value.clone(),
    }
}

fn dedupe(items: Vec<Value>, case_sensitive: bool, attribute: Option<&Value>) -> Vec<Value> {
    let mut seen: Vec<Value> = Vec::new();
    let mut out = Vec::new();
    for item in items {
        let key = match attribute {
            Some(attr) => attr_path(&item, attr),
            None => item.clone(),
        };
        let key = fold_case(&key, case_sensitive);
        if !seen.contains(&key) {
            seen.push(key);
            out.push(item);
        }
    }
    out
}

/// `unique(case_sensitive=False, attribute=None)`: order-preserving; works on
/// lists of dicts too.
pub fn unique(value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    let items = list_input("unique", value)?;
    let case_sensitive = flag(kwargs.get("case_sensitive")?, false);
    let attribute: Option<Value> = kwargs.get("attribute")?;
    kwargs.assert_all_used()?;
    Ok(Value::from(dedupe(
        items,
        case_sensitive,
        attribute.as_ref(),
    )))
}

pub fn union(a: &Value, b: &Value) -> Result<Value, Error> {
    let mut items = list_input("union", a)?;
    items.extend(list_input("union", b)?);
    Ok(Value::from(dedupe(items, true, None)))
}

/// `intersect`: items of the input also in the argument, in input order.
pub fn intersect(a: &Value, b: &Value) -> Result<Value, Error> {
    let left = list_input("intersect", a)?;
    let right = list_input("intersect", b)?;
    let items = left.into_iter().filter(|x| right.contains(x)).collect();
    Ok(Value::from(dedupe(items, true, None)))
}

pub fn difference(a: &Value, b: &Value) -> Result<Value, Error> {
    let left = list_input("difference", a)?;
    let right = list_input("difference", b)?;
    let items = left.into_iter().filter(|x| !right.contains(x)).collect();
    Ok(Value::from(dedupe(items, true, None)))
}

pub fn symmetric_difference(a: &Value, b: &Value) -> Result<Value, Error> {
    let left = list_input("symmetric_difference", a)?;
    let right = list_input("symmetric_difference", b)?;
    let both: Vec<Value> = left.iter().filter(|x| right.contains(x)).cloned().collect();
    let mut all = left;
    all.extend(right);
    let items: Vec<Value> = dedupe(all, true, None)
        .into_iter()
        .filter(|x| !both.contains(x))
        .collect();
    Ok(Value::from(items))
}

fn extremum(name: &str, value: &Value, kwargs: Kwargs, want: Ordering) -> Result<Value, Error> {
    let items = list_input(name, value)?;
    let case_sensitive = flag(kwargs.get("case_sensitive")?, false);
    let attribute: Option<Value> = kwargs.get("attribute")?;
    kwargs.assert_all_used()?;
    let key = |v: &Value| {
        let k = match &attribute {
            Some(attr) => attr_path(v, attr),
            None => v.clone(),
        };
        fold_case(&k, case_sensitive)
    };
    let mut best: Option<(Value, Value)> = None;
    for item in items {
        let k = key(&item);
        let replace = match &best {
            None => true,
            Some((bk, _)) => k.cmp(bk) == want,
        };
        if replace {
            best = Some((k, item));
        }
    }
    Ok(best.map_or(Value::UNDEFINED, |(_, v)| v))
}

/// `min(attribute=None, case_sensitive=False)`.
pub fn min(value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    extremum("min", value, kwargs, Ordering::Less)
}

/// `max(attribute=None, case_sensitive=False)`.
pub fn max(value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    extremum("max", value, kwargs, Ordering::Greater)
}

fn py_add(name: &str, a: &Value, b: &Value) -> Result<Value, Error> {
    if let (Some(x), Some(y)) = (num_i128(a), num_i128(b)) {
        if let Some(sum) = x.checked_add(y) {
            return Ok(Value::from(sum));
        }
    }
    if let (Some(x), Some(y)) = (num_f64(a), num_f64(b)) {
        return Ok(Value::from(x + y));
    }
    if is_list(a) && is_list(b) {
        let mut items = list_input(name, a)?;
        items.extend(list_input(name, b)?);
        return Ok(Value::from(items));
    }
    Err(fail(format!(
        "{name}: cannot add {} and {}; use `start=[]` to sum lists",
        a.kind(),
        b.kind()
    )))
}

/// `sum(attribute=None, start=0)`: Jinja2's sum; with `start=[]` it
/// concatenates lists.
pub fn sum(value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    let items = list_input("sum", value)?;
    let attribute: Option<Value> = kwargs.get("attribute")?;
    let start: Option<Value> = kwargs.get("start")?;
    kwargs.assert_all_used()?;
    let mut total = start.unwrap_or(Value::from(0));
    for item in items {
        let v = match &attribute {
            Some(attr) => attr_path(&item, attr),
            None => item,
        };
        total = py_add("sum", &total, &v)?;
    }
    Ok(total)
}

/// `flatten(levels=None, skip_nulls=True)`: nulls (and the strings
/// `'None'`/`'null'`) are dropped by default, like Ansible.
pub fn flatten(value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    let items = list_input("flatten", value)?;
    let levels: Option<Value> = kwargs.get("levels")?;
    let levels = match levels {
        None => None,
        Some(l) if l.is_none() => None,
        Some(l) => Some(num_i128(&l).ok_or_else(|| fail("flatten: levels must be an integer"))?),
    };
    let skip_nulls = flag(kwargs.get("skip_nulls")?, true);
    kwargs.assert_all_used()?;
    fn walk(items: Vec<Value>, levels: Option<i128>, skip_nulls: bool, out: &mut Vec<Value>) {
        for item in items {
            let is_null = item.is_none() || matches!(item.as_str(), Some("None") | Some("null"));
            if skip_nulls && is_null {
                continue;
            }
            let descend = is_list(&item) && levels.map_or(true, |l| l >= 1);
            match item.try_iter() {
                Ok(iter) if descend => {
                    walk(iter.collect(), levels.map(|l| l - 1), skip_nulls, out);
                }
                _ => out.push(item),
            }
        }
    }
    let mut out = Vec::new();
    walk(items, levels, skip_nulls, &mut out);
    Ok(Value::from(out))
}

/// `zip(*others)`: a concrete list of lists (stops at the shortest input).
pub fn zip(value: &Value, others: Rest<Value>) -> Result<Value, Error> {
    let mut lists = vec![list_input("zip", value)?];
    for other in others.iter() {
        lists.push(list_input("zip", other)?);
    }
    let len = lists.iter().map(Vec::len).min().unwrap_or(0);
    Ok(Value::from(
        (0..len)
            .map(|i| {
                Value::from(
                    lists
                        .iter()
                        .filter_map(|l| l.get(i).cloned())
                        .collect::<Vec<_>>(),
                )
            })
            .collect::<Vec<_>>(),
    ))
}

/// `zip_longest(*others, fillvalue=None)`.
pub fn zip_longest(value: &Value, others: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let fill: Option<Value> = kwargs.get("fillvalue")?;
    kwargs.assert_all_used()?;
    let fill = fill.unwrap_or(Value::from(()));
    let mut lists = vec![list_input("zip_longest", value)?];
    for other in others.iter() {
        lists.push(list_input("zip_longest", other)?);
    }
    let len = lists.iter().map(Vec::len).max().unwrap_or(0);
    Ok(Value::from(
        (0..len)
            .map(|i| {
                Value::from(
                    lists
                        .iter()
                        .map(|l| l.get(i).cloned().unwrap_or_else(|| fill.clone()))
                        .collect::<Vec<_>>(),
                )
            })
            .collect::<Vec<_>>(),
    ))
}

/// `product(*others, repeat=1)`: the cartesian product as a list of lists.
pub fn product(value: &Value, others: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let repeat: Option<Value> = kwargs.get("repeat")?;
    kwargs.assert_all_used()?;
    let repeat = match repeat {
        None => 1,
        Some(r) => usize::try_from(num_i128(&r).unwrap_or(-1))
            .map_err(|_| fail("product: repeat must be a non-negative integer"))?,
    };
    let mut pools = vec![list_input("product", value)?];
    for other in others.iter() {
        pools.push(list_input("product", other)?);
    }
    let pools: Vec<Vec<Value>> = (0..repeat).flat_map(|_| pools.iter().cloned()).collect();
    let mut result: Vec<Vec<Value>> = vec![Vec::new()];
    for pool in &pools {
        let mut next = Vec::with_capacity(result.len() * pool.len());
        for prefix in &result {
            for item in pool {
                let mut combo = prefix.clone();
                combo.push(item.clone());
                next.push(combo);
            }
        }
        result = next;
    }
    Ok(Value::from(
        result.into_iter().map(Value::from).collect::<Vec<_>>(),
    ))
}

/// `subelements(path, skip_missing=False)`: pairs of (item, subitem) for each
/// element of the list found at `path` (a dotted string or list of keys).
pub fn subelements(value: &Value, path: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    const NAME: &str = "subelements";
    ensure_defined(NAME, value)?;
    let skip_missing = flag(kwargs.get("skip_missing")?, false);
    kwargs.assert_all_used()?;
    let elements = if is_map(value) {
        pycompat::map_pairs(value)?
            .into_iter()
            .map(|(_, v)| v)
            .collect()
    } else if is_list(value) {
        list_input(NAME, value)?
    } else {
        return Err(fail(format!(
            "{NAME}: input must be a list of dicts or a nested dict, got {}",
            value.kind()
        )));
    };
    let keys: Vec<Value> = if let Some(s) = path.as_str() {
        s.split('.').map(Value::from).collect()
    } else if is_list(path) {
        list_input(NAME, path)?
    } else {
        return Err(fail(format!(
            "{NAME}: subelements must be a list or a string, got {}",
            path.kind()
        )));
    };
    let mut results = Vec::new();
    for element in elements {
        let mut values = element.clone();
        let mut missing = false;
        for key in &keys {
            if !is_map(&values) {
                return Err(fail(format!(
                    "{NAME}: the key {} should point to a dictionary, got {}",
                    py_repr(key),
                    py_repr(&values)
                )));
            }
            match values.get_item(key) {
                Ok(v) if !v.is_undefined() => values = v,
                _ if skip_missing => {
                    missing = true;
                    break;
                }
                _ => {
                    return Err(fail(format!(
                        "{NAME}: could not find {} key in iterated item {}",
                        py_repr(key),
                        py_repr(&values)
                    )))
                }
            }
        }
        if missing {
            continue;
        }
        if !is_list(&values) {
            return Err(fail(format!(
                "{NAME}: the key {} should point to a list, got {}",
                keys.last().map(py_repr).unwrap_or_default(),
                py_repr(&values)
            )));
        }
        for sub in list_input(NAME, &values)? {
            results.push(Value::from(vec![element.clone(), sub]));
        }
    }
    Ok(Value::from(results))
}
