//! A tiny `--key value` command-line reader: the benchmark needs nothing more.

use std::collections::HashMap;
use std::str::FromStr;

/// Options given as `--key value` pairs.
#[derive(Debug, Default)]
pub(crate) struct Args {
    values: HashMap<String, String>,
}

impl Args {
    /// Reads `--key value` pairs; anything else is an error.
    pub(crate) fn parse(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
        let mut values = HashMap::new();
        let mut it = args.into_iter();
        while let Some(a) = it.next() {
            let key = a
                .strip_prefix("--")
                .ok_or_else(|| format!("expected --option, got {a:?}"))?;
            let value = it.next().ok_or_else(|| format!("--{key} needs a value"))?;
            values.insert(key.to_string(), value);
        }
        Ok(Args { values })
    }

    /// The value of `--key`, parsed, or `default` when absent.
    pub(crate) fn get<T: FromStr>(&mut self, key: &str, default: T) -> Result<T, String>
    where
        T::Err: std::fmt::Display,
    {
        match self.values.remove(key) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|e| format!("--{key} {v}: {e}")),
        }
    }

    /// The value of `--key`, which must be given.
    pub(crate) fn require(&mut self, key: &str) -> Result<String, String> {
        self.values
            .remove(key)
            .ok_or_else(|| format!("--{key} is required"))
    }

    /// Fails on any option not read so far (a typo must not go unnoticed).
    pub(crate) fn finish(self) -> Result<(), String> {
        match self.values.keys().next() {
            None => Ok(()),
            Some(k) => Err(format!("unknown option --{k}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Result<Args, String> {
        Args::parse(s.split_whitespace().map(String::from))
    }

    #[test]
    fn values_parse_defaults_apply_and_leftovers_are_refused() {
        let mut a = args("--depth 10 --addr x").unwrap();
        assert_eq!(a.get("depth", 1usize), Ok(10));
        assert_eq!(a.get("rounds", 3usize), Ok(3));
        assert_eq!(a.require("addr"), Ok("x".to_string()));
        assert!(a.finish().is_ok());
        let mut a = args("--depth ten --typo 1").unwrap();
        assert!(a.get("depth", 1usize).is_err());
        assert!(a.finish().is_err());
        assert!(args("depth 1").is_err());
        assert!(args("--depth").is_err());
    }
}
