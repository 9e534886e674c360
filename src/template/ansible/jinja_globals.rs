//! Jinja2's global helpers that minijinja lacks: `joiner` and `cycler`, with Jinja2's
//! behaviour (state kept in the object across calls within one render).

use minijinja::value::{Object, Value};
use minijinja::{Error, ErrorKind, State};
use std::sync::{Arc, Mutex};

/// `joiner(sep=", ")`: a callable that returns "" the first time, then `sep`.
#[derive(Debug)]
struct Joiner {
    sep: Value,
    used: Mutex<bool>,
}

impl Object for Joiner {
    fn call(self: &Arc<Self>, _state: &State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        if !args.is_empty() {
            return Err(Error::new(
                ErrorKind::TooManyArguments,
                "a joiner takes no arguments",
            ));
        }
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        if *used {
            Ok(self.sep.clone())
        } else {
            *used = true;
            Ok(Value::from(""))
        }
    }
}

fn joiner(sep: Option<Value>) -> Value {
    Value::from_object(Joiner {
        sep: sep.unwrap_or_else(|| Value::from(", ")),
        used: Mutex::new(false),
    })
}

/// `cycler(a, b, …)`: `next()` gives the items in turn, `current` the one `next()` gives
/// next, `reset()` starts over.
#[derive(Debug)]
struct Cycler {
    items: Vec<Value>,
    pos: Mutex<usize>,
}

impl Object for Cycler {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "current" => {
                let pos = *self.pos.lock().unwrap_or_else(|p| p.into_inner());
                self.items.get(pos).cloned()
            }
            "items" => Some(Value::from(self.items.clone())),
            _ => None,
        }
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &State<'_, '_>,
        method: &str,
        _args: &[Value],
    ) -> Result<Value, Error> {
        let mut pos = self.pos.lock().unwrap_or_else(|p| p.into_inner());
        match method {
            "next" => {
                let v = self.items.get(*pos).cloned().unwrap_or_default();
                *pos = (*pos + 1) % self.items.len().max(1);
                Ok(v)
            }
            "reset" => {
                *pos = 0;
                Ok(Value::from(()))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

fn cycler(items: minijinja::value::Rest<Value>) -> Result<Value, Error> {
    if items.is_empty() {
        return Err(Error::new(
            ErrorKind::MissingArgument,
            "at least one item has to be provided",
        ));
    }
    Ok(Value::from_object(Cycler {
        items: items.0,
        pos: Mutex::new(0),
    }))
}

pub fn register(env: &mut minijinja::Environment<'static>) {
    env.add_function("joiner", joiner);
    env.add_function("cycler", cycler);
}

#[cfg(test)]
mod tests {
    fn render(src: &str) -> String {
        let mut env = minijinja::Environment::new();
        super::register(&mut env);
        env.render_str(src, ()).unwrap()
    }

    #[test]
    fn joiner_is_empty_the_first_time() {
        assert_eq!(
            render("{% set j = joiner('|') %}{% for x in [1, 2, 3] %}{{ j() }}{{ x }}{% endfor %}"),
            "1|2|3"
        );
        assert_eq!(render("{% set j = joiner() %}{{ j() }}a{{ j() }}b"), "a, b");
    }

    #[test]
    fn cycler_goes_round() {
        assert_eq!(
            render("{% set c = cycler('a', 'b') %}{{ c.next() }}{{ c.next() }}{{ c.current }}{{ c.next() }}{% set _ = c.reset() %}{{ c.next() }}"),
            "abaaa"
        );
    }
}
