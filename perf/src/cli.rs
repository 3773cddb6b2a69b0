//! A small command-line parser: `--key value`, `--key=value` and `--flag`, nothing else.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// A command-line mistake, with the text to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError(pub String);

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CliError {}

/// Parsed options. Every value is taken at most once; [`Args::finish`] reports leftovers.
#[derive(Debug, Default)]
pub struct Args {
    values: BTreeMap<String, Option<String>>,
}

impl Args {
    /// Parses `args` given the names of the options that are flags (take no value).
    pub fn parse<I, S>(args: I, flags: &[&str]) -> Result<Self, CliError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut values = BTreeMap::new();
        let mut it = args.into_iter().map(Into::into);
        while let Some(a) = it.next() {
            let Some(body) = a.strip_prefix("--") else {
                return Err(CliError(format!("unexpected argument '{a}'")));
            };
            let (key, value) = match body.split_once('=') {
                Some((k, v)) => (k.to_string(), Some(v.to_string())),
                None if flags.contains(&body) => (body.to_string(), None),
                None => {
                    let v = it
                        .next()
                        .ok_or_else(|| CliError(format!("--{body} needs a value")))?;
                    (body.to_string(), Some(v))
                }
            };
            if flags.contains(&key.as_str()) && value.is_some() {
                return Err(CliError(format!("--{key} takes no value")));
            }
            if values.insert(key.clone(), value).is_some() {
                return Err(CliError(format!("--{key} given twice")));
            }
        }
        Ok(Self { values })
    }

    /// Whether flag `--name` was given.
    pub fn flag(&mut self, name: &str) -> bool {
        self.values.remove(name).is_some()
    }

    /// The value of `--name` parsed as `T`, or `default`.
    pub fn get<T: FromStr>(&mut self, name: &str, default: T) -> Result<T, CliError>
    where
        T::Err: fmt::Display,
    {
        match self.values.remove(name) {
            None => Ok(default),
            Some(None) => Err(CliError(format!("--{name} needs a value"))),
            Some(Some(v)) => v
                .parse()
                .map_err(|e| CliError(format!("--{name} {v}: {e}"))),
        }
    }

    /// The value of `--name` as a string, if given.
    pub fn opt_str(&mut self, name: &str) -> Result<Option<String>, CliError> {
        match self.values.remove(name) {
            None => Ok(None),
            Some(None) => Err(CliError(format!("--{name} needs a value"))),
            Some(Some(v)) => Ok(Some(v)),
        }
    }

    /// A comma-separated list `--name a,b,c` parsed element-wise, or `default`.
    pub fn list<T: FromStr>(&mut self, name: &str, default: Vec<T>) -> Result<Vec<T>, CliError>
    where
        T::Err: fmt::Display,
    {
        match self.opt_str(name)? {
            None => Ok(default),
            Some(v) => v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse()
                        .map_err(|e| CliError(format!("--{name}: '{s}': {e}")))
                })
                .collect(),
        }
    }

    /// Fails if any option was not consumed (a typo, or an option of another subcommand).
    pub fn finish(self) -> Result<(), CliError> {
        match self.values.keys().next() {
            None => Ok(()),
            Some(k) => Err(CliError(format!("unknown option --{k}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_flags_and_lists() {
        let mut a = Args::parse(
            [
                "--rounds",
                "3",
                "--quick",
                "--pmds=fbnic,null",
                "--secs=2.5",
            ],
            &["quick"],
        )
        .unwrap();
        assert!(a.flag("quick"));
        assert_eq!(a.get("rounds", 5u32).unwrap(), 3);
        assert_eq!(a.get("secs", 1.0f64).unwrap(), 2.5);
        assert_eq!(
            a.list::<String>("pmds", vec![]).unwrap(),
            vec!["fbnic".to_string(), "null".to_string()]
        );
        assert_eq!(a.get("absent", 7u8).unwrap(), 7);
        a.finish().unwrap();
    }

    #[test]
    fn mistakes_are_reported() {
        assert!(Args::parse(["rounds"], &[]).is_err());
        assert!(Args::parse(["--rounds"], &[]).is_err());
        assert!(Args::parse(["--a", "1", "--a", "2"], &[]).is_err());
        assert!(Args::parse(["--quick=1"], &["quick"]).is_err());
        let mut a = Args::parse(["--rounds", "x"], &[]).unwrap();
        assert!(a.get("rounds", 1u32).is_err());
        let a = Args::parse(["--typo", "1"], &[]).unwrap();
        assert_eq!(a.finish().unwrap_err().0, "unknown option --typo");
    }
}
