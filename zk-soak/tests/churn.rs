//! Shorter churn runs than RELIABILITY.md's, in the default test run: the process's file
//! descriptors, tasks and resident memory stay within [`ResourceBound::CHURN`] of their
//! warmed-up baseline over repeated outages of one client. A leak of one descriptor or one task
//! per outage fails these; slow memory growth is what the long runs are for.

use zk_soak::churn::{ChurnKind, run_churn};
use zk_soak::resources::ResourceBound;

async fn churn_stays_flat(kind: ChurnKind, cycles: u64) {
    let mut out = Vec::new();
    let report = run_churn(kind, cycles, cycles / 5, &mut out).await;
    eprintln!("{}", String::from_utf8_lossy(&out));
    let report = report.unwrap_or_else(|e| panic!("{kind:?} churn stopped: {e}"));
    eprintln!("{}", report.summary());
    assert_eq!(report.cycles, cycles);
    assert_eq!(
        report.samples.len(),
        6,
        "a reading at 0 and every fifth of the run"
    );
    assert!(
        report.excess.is_empty(),
        "grew past {:?}: {:?}",
        ResourceBound::CHURN,
        report.excess
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_and_heal_churn_holds_descriptors_tasks_and_memory_flat() {
    churn_stays_flat(ChurnKind::Cuts, 150).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_churn_holds_descriptors_tasks_and_memory_flat() {
    churn_stays_flat(ChurnKind::Expiries, 100).await;
}
