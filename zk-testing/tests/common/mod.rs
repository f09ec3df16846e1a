//! Helpers shared by the kit's own integration tests.

#![allow(dead_code)] // each test binary uses a different subset

pub(crate) mod ensemble;
pub(crate) mod session;

/// Whether a process with this pid exists (running or zombie), by `kill(pid, 0)`.
pub(crate) fn process_exists(pid: u32) -> bool {
    let pid = libc::pid_t::try_from(pid).expect("pids fit pid_t");
    // SAFETY: signal 0 only checks for existence and permission.
    if unsafe { libc::kill(pid, 0) } == 0 {
        return true;
    }
    std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// The command line of a live process, to check that a pid is really a JVM.
pub(crate) fn cmdline(pid: u32) -> Option<String> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    Some(String::from_utf8_lossy(&raw).replace('\0', " "))
}

/// Whether the process exists and is not a zombie (a zombie has exited and only waits to be
/// reaped by its parent).
pub(crate) fn is_running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// The state letter of every thread of a process (`R`, `S`, `T` for stopped, ...).
pub(crate) fn thread_states(pid: u32) -> Vec<char> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("the process exists");
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("stat")).ok())
        .filter_map(|stat| {
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.trim_start().chars().next())
        })
        .collect()
}
