//! `zk-soak`: runs the chaos soak or a churn run and exits non-zero on any violation or leak.
//! See `scripts/soak` and RELIABILITY.md.

use std::io::Write;
use std::process::ExitCode;

use zk_soak::args::{self, Command};
use zk_soak::churn::{ChurnKind, run_churn};
use zk_soak::soak::run_soak;

fn main() -> ExitCode {
    let command = match args::parse(std::env::args().skip(1)) {
        Ok(command) => command,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("zk-soak: no Tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(command))
}

async fn run(command: Command) -> ExitCode {
    let mut out = std::io::stdout();
    let (kind, cycles, report_every) = match command {
        Command::Soak { cycles, seed } => return soak(cycles, seed, &mut out).await,
        Command::Cuts {
            cycles,
            report_every,
        } => (ChurnKind::Cuts, cycles, report_every),
        Command::Expiries {
            cycles,
            report_every,
        } => (ChurnKind::Expiries, cycles, report_every),
    };
    match run_churn(kind, cycles, report_every, &mut out).await {
        Ok(report) => {
            let _ = writeln!(out, "{}", report.summary());
            if report.excess.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            let _ = writeln!(out, "churn: FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn soak(cycles: u64, seed: u64, out: &mut std::io::Stdout) -> ExitCode {
    match run_soak(cycles, seed, out).await {
        Ok(report) => {
            let _ = writeln!(out, "{}", report.summary());
            if report.violations == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            let _ = writeln!(out, "soak: FAILED (seed {seed}): {e}");
            ExitCode::FAILURE
        }
    }
}
