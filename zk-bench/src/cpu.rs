//! The CPU time this process has used, from getrusage(RUSAGE_SELF): user plus
//! system time of every thread, so a client's background tasks count too.

/// CPU time (user + system) used by this process so far, in nanoseconds.
pub fn process_cpu_ns() -> u64 {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_work_shows_up_as_cpu_time() {
        // Spinning must make the process's CPU time grow by 20 ms. The wall-clock bound
        // only stops the loop if it never grows: on a busy machine the spin may need far
        // more than 20 ms of wall time to get 20 ms of CPU.
        let before = process_cpu_ns();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let mut x = 0u64;
        let mut now = before;
        while now < before + 20_000_000 && std::time::Instant::now() < deadline {
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
}
