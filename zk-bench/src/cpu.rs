//! CPU time used by a process: this one's from getrusage(RUSAGE_SELF), another's (the
//! server's) from /proc. Both are user plus system time of every thread, so background
//! tasks, JIT and GC count too.

/// CPU time (user + system) used by this process so far, in nanoseconds.
pub(crate) fn process_cpu_ns() -> u64 {
    // SAFETY: getrusage only writes the struct we pass; zeroed is a valid rusage.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a valid pointer cannot fail.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    if rc != 0 {
        return 0;
    }
    let tv = |t: libc::timeval| t.tv_sec as u64 * 1_000_000_000 + t.tv_usec as u64 * 1_000;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// CPU time (user + system) used so far by process `pid`, from /proc, in
/// nanoseconds (10 ms resolution); `None` if there is no such process.
pub(crate) fn pid_cpu_ns(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // SAFETY: sysconf only reads a system constant.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Some((utime + stime) * 1_000_000_000 / hz)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn busy_work_shows_up_as_cpu_time() {
        // Spinning must make the process's CPU time grow by 20 ms. The wall-clock bound
        // only stops the loop if it never grows: on a busy machine the spin may need far
        // more than 20 ms of wall time to get 20 ms of CPU.
        let before = process_cpu_ns();
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut x = 0u64;
        let mut now = before;
        while now < before + 20_000_000 && Instant::now() < deadline {
            for _ in 0..100_000 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
            }
            now = process_cpu_ns();
        }
        assert!(
            now >= before + 20_000_000,
            "cpu time did not grow: {before} -> {now}"
        );
    }

    #[test]
    fn this_process_cpu_time_is_read_from_proc() {
        // Spinning must make this process's CPU time, as read from /proc, grow by
        // 20 ms. The wall-clock bound only stops the loop if the reading never grows;
        // on a loaded machine the spin may take far longer than 20 ms of wall time.
        let me = std::process::id();
        let before = pid_cpu_ns(me).unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut x = 0u64;
        let mut now = before;
        while now < before + 20_000_000 && Instant::now() < deadline {
            for _ in 0..100_000 {
                x = std::hint::black_box(x.wrapping_add(1));
            }
            now = pid_cpu_ns(me).unwrap();
        }
        assert!(
            now >= before + 20_000_000,
            "cpu time did not grow: {before} -> {now}"
        );
        assert!(pid_cpu_ns(u32::MAX).is_none());
    }
}
