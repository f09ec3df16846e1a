//! One Java process: started directly (no shell, so its pid is the JVM's), tied to the life of the
//! thread that started it, signalled on demand, and killed and reaped when dropped.

use std::ffi::OsString;
use std::fs::File;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// How long `freeze`/`thaw` wait for the kernel to stop or continue every thread.
const JOB_CONTROL_DEADLINE: Duration = Duration::from_secs(10);

/// How long `Drop` waits for a SIGKILLed JVM to be reaped. The kernel tears a killed process down
/// in milliseconds; the bound only guards against a process stuck in uninterruptible sleep.
const REAP_DEADLINE: Duration = Duration::from_secs(10);

/// A running (or exited but not yet reaped) Java process.
#[derive(Debug)]
pub(crate) struct JavaProcess {
    child: tokio::process::Child,
    pid: u32,
    exited: Option<ExitStatus>,
}

impl JavaProcess {
    /// Starts `java args...` in `dir`, with stdout and stderr appended to `console_log`.
    ///
    /// The child gets `PR_SET_PDEATHSIG = SIGKILL`: if the thread that started it dies (the test
    /// thread, or the whole test process when it is killed), the kernel kills the JVM.
    pub(crate) fn spawn(
        java: &Path,
        args: &[OsString],
        dir: &Path,
        console_log: &Path,
    ) -> Result<Self> {
        Self::spawn_with_env(java, args, &[], dir, console_log)
    }

    /// Like [`spawn`](Self::spawn) for any program, with `env` added to the environment
    /// (the KDC finds its configuration through variables).
    pub(crate) fn spawn_with_env(
        java: &Path,
        args: &[OsString],
        env: &[(&str, OsString)],
        dir: &Path,
        console_log: &Path,
    ) -> Result<Self> {
        let console = File::options()
            .create(true)
            .append(true)
            .open(console_log)
            .map_err(|e| Error::io(format!("opening {}", console_log.display()), e))?;
        let console_err = console
            .try_clone()
            .map_err(|e| Error::io(format!("duplicating {}", console_log.display()), e))?;

        let mut command = tokio::process::Command::new(java);
        command
            .args(args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::from(console))
            .stderr(Stdio::from(console_err));
        // SAFETY: `getpid` is async-signal-safe and runs before the fork.
        let parent = unsafe { libc::getpid() };
        // SAFETY: the closure runs in the forked child before exec and only calls the
        // async-signal-safe `prctl` and `getppid`; it allocates nothing on the success path.
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(
                    libc::PR_SET_PDEATHSIG,
                    libc::SIGKILL as libc::c_ulong,
                    0,
                    0,
                    0,
                ) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                // The parent may have died between fork and prctl; then no signal would come.
                if libc::getppid() != parent {
                    return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
                }
                Ok(())
            });
        }
        let child = command
            .spawn()
            .map_err(|e| Error::io(format!("starting {}", java.display()), e))?;
        let pid = child.id().ok_or_else(|| {
            Error::io(
                "reading the pid of the started JVM",
                std::io::Error::other("the process was already reaped"),
            )
        })?;
        tracing::debug!(pid, dir = %dir.display(), "started JVM");
        Ok(JavaProcess {
            child,
            pid,
            exited: None,
        })
    }

    /// The JVM's own pid.
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// The exit status if the process has ended (reaping it), `None` while it runs.
    pub(crate) fn try_exit_status(&mut self) -> Option<ExitStatus> {
        if self.exited.is_none() {
            match self.child.try_wait() {
                Ok(status) => self.exited = status,
                Err(e) => tracing::warn!(pid = self.pid, error = %e, "cannot poll JVM status"),
            }
        }
        self.exited
    }

    /// Sends `signal` unless the process has already been reaped (its pid may be reused).
    pub(crate) fn signal(&mut self, signal: libc::c_int) -> Result<()> {
        if self.try_exit_status().is_some() {
            return Ok(());
        }
        let pid = libc::pid_t::try_from(self.pid).map_err(|_| {
            Error::io(
                "signalling the JVM",
                std::io::Error::other(format!("pid {} does not fit pid_t", self.pid)),
            )
        })?;
        // SAFETY: plain syscall; the pid is our unreaped child, so it cannot name another process.
        if unsafe { libc::kill(pid, signal) } != 0 {
            let err = std::io::Error::last_os_error();
            // ESRCH: it died and is a zombie about to be reaped; nothing left to signal.
            if err.raw_os_error() != Some(libc::ESRCH) {
                return Err(Error::io(
                    format!("sending signal {signal} to pid {}", self.pid),
                    err,
                ));
            }
        }
        Ok(())
    }

    /// SIGSTOP, then wait (blocking, bounded) until every thread is stopped. `kill` returns once
    /// the signal is queued; on a busy machine a thread may run on (and answer a request) for a
    /// while after that. The wait is normally well under a millisecond.
    pub(crate) fn freeze(&mut self) -> Result<()> {
        self.signal(libc::SIGSTOP)?;
        self.wait_for_threads(|state| state == 'T', "to stop on SIGSTOP")
    }

    /// SIGCONT, then wait (blocking, bounded) until no thread is stopped any more.
    pub(crate) fn thaw(&mut self) -> Result<()> {
        self.signal(libc::SIGCONT)?;
        self.wait_for_threads(|state| state != 'T', "to continue on SIGCONT")
    }

    fn wait_for_threads(&mut self, wanted: fn(char) -> bool, what: &str) -> Result<()> {
        let started = Instant::now();
        loop {
            if self.try_exit_status().is_some() {
                return Ok(());
            }
            match thread_states(self.pid) {
                Some(states) if states.iter().all(|&s| wanted(s) || s == 'Z' || s == 'X') => {
                    return Ok(());
                }
                // The process vanished under us: it is reaped on the next status poll.
                None => return Ok(()),
                Some(_) => {}
            }
            if started.elapsed() >= JOB_CONTROL_DEADLINE {
                return Err(Error::Timeout {
                    what: format!("JVM {} {what}", self.pid),
                    waited: started.elapsed(),
                    log_hint: String::new(),
                });
            }
            std::thread::sleep(Duration::from_micros(200));
        }
    }

    /// SIGKILL, then wait (blocking, bounded) until the kernel has reaped the process.
    pub(crate) fn kill_and_reap(&mut self) {
        if self.try_exit_status().is_some() {
            return;
        }
        if let Err(e) = self.child.start_kill() {
            tracing::warn!(pid = self.pid, error = %e, "cannot SIGKILL JVM");
        }
        let deadline = Instant::now() + REAP_DEADLINE;
        while self.try_exit_status().is_none() {
            if Instant::now() >= deadline {
                tracing::warn!(
                    pid = self.pid,
                    "JVM not reaped within {REAP_DEADLINE:?} of SIGKILL"
                );
                return;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        tracing::debug!(pid = self.pid, "JVM killed and reaped");
    }

    /// SIGTERM (and SIGCONT, in case it is paused), wait up to `grace` for a clean exit, then
    /// SIGKILL.
    pub(crate) async fn terminate(&mut self, grace: Duration) {
        if self.try_exit_status().is_some() {
            return;
        }
        let sent = self
            .signal(libc::SIGTERM)
            .and_then(|()| self.signal(libc::SIGCONT));
        if let Err(e) = sent {
            tracing::warn!(pid = self.pid, error = %e, "cannot SIGTERM JVM");
        }
        match tokio::time::timeout(grace, self.child.wait()).await {
            Ok(Ok(status)) => self.exited = Some(status),
            Ok(Err(e)) => tracing::warn!(pid = self.pid, error = %e, "cannot wait for JVM"),
            Err(_) => tracing::warn!(
                pid = self.pid,
                "JVM ignored SIGTERM for {grace:?}; killing it"
            ),
        }
        self.kill_and_reap();
    }
}

/// The scheduler state letter (`R`, `S`, `T`, ...) of every thread of `pid`, from
/// `/proc/<pid>/task/*/stat`; `None` when the process is gone.
fn thread_states(pid: u32) -> Option<Vec<char>> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut states = Vec::new();
    for task in tasks.flatten() {
        // A thread that exits between listing and reading has no state to report.
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        // The state follows the command name, which is in parentheses and may hold spaces.
        if let Some(state) = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next())
        {
            states.push(state);
        }
    }
    Some(states)
}

impl Drop for JavaProcess {
    fn drop(&mut self) {
        self.kill_and_reap();
    }
}
