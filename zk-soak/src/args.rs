//! The command line of `zk-soak`.

use std::time::{SystemTime, UNIX_EPOCH};

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// The chaos soak: `cycles` faults drawn from `seed`.
    Soak {
        /// Faults to inject.
        cycles: u64,
        /// The schedule's seed.
        seed: u64,
    },
    /// `cycles` cut/heal outages of one client.
    Cuts {
        /// Outages to run.
        cycles: u64,
        /// Read resources every this many cycles.
        report_every: u64,
    },
    /// `cycles` session expiries of one client.
    Expiries {
        /// Expiries to run.
        cycles: u64,
        /// Read resources every this many cycles.
        report_every: u64,
    },
}

/// How to call the binary.
pub const USAGE: &str = "usage: zk-soak [--cycles N] [--seed S]\n       \
                         zk-soak --churn N [--report-every K]\n       \
                         zk-soak --expiries N [--report-every K]";

/// Parses the arguments after the program name. Without `--seed`, the seed comes from the
/// clock (and is printed by the run, so it can be replayed).
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut cycles = None;
    let mut seed = None;
    let mut churn = None;
    let mut expiries = None;
    let mut report_every = None;
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        let slot = match flag.as_str() {
            "--cycles" => &mut cycles,
            "--seed" => &mut seed,
            "--churn" => &mut churn,
            "--expiries" => &mut expiries,
            "--report-every" => &mut report_every,
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        };
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let number = value
            .parse::<u64>()
            .map_err(|_| format!("{flag} {value:?}: not a non-negative integer\n{USAGE}"))?;
        *slot = Some(number);
    }
    match (churn, expiries) {
        (Some(_), Some(_)) => Err(format!("--churn and --expiries are separate runs\n{USAGE}")),
        (Some(cycles), None) => Ok(Command::Cuts {
            cycles,
            report_every: report_every.unwrap_or(1000),
        }),
        (None, Some(cycles)) => Ok(Command::Expiries {
            cycles,
            report_every: report_every.unwrap_or(100),
        }),
        (None, None) => Ok(Command::Soak {
            cycles: cycles.unwrap_or(100),
            seed: seed.unwrap_or_else(clock_seed),
        }),
    }
}

/// A seed from the clock, for runs that did not ask for one.
pub fn clock_seed() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<Command, String> {
        parse(s.split_whitespace().map(String::from))
    }

    #[test]
    fn a_soak_takes_cycles_and_seed() {
        assert_eq!(
            parse_str("--cycles 500 --seed 42"),
            Ok(Command::Soak {
                cycles: 500,
                seed: 42
            })
        );
    }

    #[test]
    fn churn_and_expiries_report_every_thousand_and_hundred_by_default() {
        assert_eq!(
            parse_str("--churn 10000"),
            Ok(Command::Cuts {
                cycles: 10000,
                report_every: 1000
            })
        );
        assert_eq!(
            parse_str("--expiries 1000 --report-every 50"),
            Ok(Command::Expiries {
                cycles: 1000,
                report_every: 50
            })
        );
    }

    #[test]
    fn bad_arguments_say_what_is_wrong() {
        assert!(parse_str("--cycles").unwrap_err().contains("needs a value"));
        assert!(
            parse_str("--cycles -3")
                .unwrap_err()
                .contains("not a non-negative")
        );
        assert!(
            parse_str("--bogus 1")
                .unwrap_err()
                .contains("unknown argument")
        );
        assert!(
            parse_str("--churn 1 --expiries 1")
                .unwrap_err()
                .contains("separate")
        );
    }
}
