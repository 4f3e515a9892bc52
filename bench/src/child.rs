//! Running one consumer as a child process and taking its measure: its output, its exit
//! status, its CPU time and its peak memory (from `wait4`'s resource usage).

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// What a child process did.
pub struct Finished {
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
    /// User plus system CPU time.
    pub cpu: Duration,
    /// Peak resident memory, bytes.
    pub peak_rss: u64,
    /// Wall time from spawn to exit.
    pub wall: Duration,
}

/// Runs `command` to its end (killing it after `timeout`); fails on a non-zero exit,
/// with the tail of its stderr.
pub fn run(mut command: Command, timeout: Duration) -> anyhow::Result<Finished> {
    let what = format!("{command:?}");
    let started = Instant::now();
    let mut child = command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().with_context(|| format!("starting {what}"))?;
    let pid = child.id() as libc::pid_t;
    let mut out = child.stdout.take().expect("piped");
    let mut err = child.stderr.take().expect("piped");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let watchdog = std::thread::spawn(move || {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(200));
            // SAFETY: signal 0 only checks that the process exists.
            if unsafe { libc::kill(pid, 0) } != 0 {
                return false;
            }
        }
        // SAFETY: the child is ours and still running.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        true
    });
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, which `child` does not wait for afterwards.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    std::mem::forget(child);
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    let killed = watchdog.join().unwrap_or(false);
    if waited != pid {
        bail!("waiting for {what} failed");
    }
    if killed {
        bail!("{what} did not finish within {timeout:?}; its last output:\n{}", tail(&stderr));
    }
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        bail!("{what} failed (status {status}); its last output:\n{}", tail(&stderr));
    }
    let secs = |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
    Ok(Finished { stdout, stderr, cpu: secs(usage.ru_utime) + secs(usage.ru_stime), peak_rss: usage.ru_maxrss as u64 * 1024, wall })
}

fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
