//! Client processes of the recipe benchmarks: started with their standard output
//! read line by line on a thread of its own, collected until they exit, killed when
//! dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// One running client process; dropped, it is killed.
pub(crate) struct Proc {
    /// The implementation it runs, for messages.
    pub(crate) name: String,
    /// The process.
    pub(crate) child: Child,
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Starts `cmd`; its standard output's lines arrive on `tx`, tagged `index`
/// (`None` at the end).
pub(crate) fn spawn(
    mut cmd: Command,
    name: &str,
    index: usize,
    tx: mpsc::Sender<(usize, Option<String>)>,
) -> Result<Proc, String> {
    let mut child = cmd.spawn().map_err(|e| format!("{name}: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout pipe")?;
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send((index, Some(line))).is_err() {
                return;
            }
        }
        let _ = tx.send((index, None));
    });
    Ok(Proc {
        name: name.to_string(),
        child,
    })
}

/// Collects every process's lines until all have closed their output and exited,
/// or `deadline` passes. `on_line` sees each line as it comes. A process that
/// fails ends the collection at once (and dropping the others kills them).
pub(crate) fn collect(
    procs: &mut [Proc],
    rx: &mpsc::Receiver<(usize, Option<String>)>,
    deadline: Instant,
    mut on_line: impl FnMut(&mut [Proc], usize, &str) -> Result<(), String>,
) -> Result<Vec<Vec<String>>, String> {
    let mut lines = vec![Vec::new(); procs.len()];
    let mut open = procs.len();
    while open > 0 {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((i, Some(line))) => {
                on_line(procs, i, &line)?;
                lines[i].push(line);
            }
            Ok((i, None)) => {
                open -= 1;
                exited(&mut procs[i], deadline)?;
            }
            Err(_) => return Err(format!("{} did not finish in time", procs[0].name)),
        }
    }
    Ok(lines)
}

/// Waits (until `deadline`) for a process that closed its output to exit, and
/// checks that it succeeded.
fn exited(p: &mut Proc, deadline: Instant) -> Result<(), String> {
    loop {
        match p.child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => return Err(format!("{} failed: {status}", p.name)),
            Ok(None) if Instant::now() >= deadline => {
                return Err(format!("{} did not exit in time", p.name));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("{}: {e}", p.name)),
        }
    }
}
