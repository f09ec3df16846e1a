//! A short chaos soak in the default test run: a few faults of every kind the schedule draws,
//! on a real 3-server ensemble, with every invariant checked after each. The seed changes with
//! every run and is printed; `ZK_SOAK_SEED=<seed>` replays a failed one.

use zk_soak::args::clock_seed;
use zk_soak::soak::run_soak;

/// Faults per run: enough to draw most kinds (about a minute and a half here).
const CYCLES: u64 = 15;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_short_seeded_soak_finds_no_violation() {
    let seed = std::env::var("ZK_SOAK_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(clock_seed);
    eprintln!("short soak: seed {seed} (replay with ZK_SOAK_SEED={seed})");
    let mut out = Vec::new();
    let report = run_soak(CYCLES, seed, &mut out).await;
    let out = String::from_utf8_lossy(&out);
    eprintln!("{out}");
    let report = report.unwrap_or_else(|e| panic!("seed {seed}: the soak stopped: {e}"));
    eprintln!("{}", report.summary());
    assert_eq!(report.cycles, CYCLES);
    assert_eq!(
        report.violations, 0,
        "seed {seed}: violations (VIOLATION lines above)"
    );
}
