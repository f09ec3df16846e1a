//! What can end a soak run early: the ensemble or a client could not be set up, or something
//! that should have happened did not happen in time.

/// A failure that stops a run (a violation of an invariant is not one: those are counted and
/// reported, and the run goes on).
#[derive(Debug, thiserror::Error)]
pub enum SoakError {
    /// Starting or breaking the ensemble failed.
    #[error("zk-testing: {0}")]
    Testing(#[from] zk_testing::Error),
    /// Setting up a client or a recipe failed.
    #[error("{what}: {source}")]
    Setup {
        /// What was being set up.
        what: &'static str,
        /// Why it failed.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Something expected did not happen within its deadline.
    #[error("stuck: {0}")]
    Stuck(String),
}

impl SoakError {
    /// A setup failure of `what`.
    pub fn setup(
        what: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        SoakError::Setup {
            what,
            source: Box::new(source),
        }
    }
}

/// The result of a soak step.
pub type SoakResult<T> = Result<T, SoakError>;
