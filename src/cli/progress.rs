//! The progress line on stderr while a scan runs.

use certdrift::scan::{self};
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

/// Progress is shown when asked for, or on a terminal outside CI.
pub(crate) fn wants_progress(asked: bool) -> bool {
    asked
        || (std::io::stderr().is_terminal() && std::env::var_os("CI").is_none_or(|v| v.is_empty()))
}

/// `scanned N files (X MB/s)` on stderr while a scan runs, from a thread of
/// its own, after the first second (a quick scan shows nothing): redrawn in
/// place on a terminal and wiped at the end; elsewhere (`--progress` into a
/// log) a line every few seconds and a last one when the scan ends.
pub(crate) struct ProgressLine {
    /// Dropping it stops the thread.
    pub(crate) stop: Option<std::sync::mpsc::Sender<()>>,
    pub(crate) thread: Option<std::thread::JoinHandle<()>>,
}

impl ProgressLine {
    pub(crate) fn start(counter: Option<Arc<scan::Progress>>) -> ProgressLine {
        let Some(counter) = counter else {
            return ProgressLine {
                stop: None,
                thread: None,
            };
        };
        let tty = std::io::stderr().is_terminal();
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        // No thread (none could start) is no progress line, not an error.
        let thread = std::thread::Builder::new().spawn(move || {
            let started = std::time::Instant::now();
            let every = Duration::from_millis(if tty { 200 } else { 5000 });
            let mut wait = Duration::from_secs(1);
            let mut width = 0;
            // Writes to stderr may fail (closed); progress is not worth an error.
            let mut err = std::io::stderr();
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(wait) {
                let line = progress_text(&counter, started.elapsed());
                if tty {
                    let _ = write!(err, "\r{line:<width$}");
                    width = line.len();
                } else {
                    let _ = writeln!(err, "{line}");
                }
                let _ = err.flush();
                wait = every;
            }
            if tty {
                if width > 0 {
                    let _ = write!(err, "\r{:width$}\r", "");
                }
            } else {
                let _ = writeln!(err, "{}", progress_text(&counter, started.elapsed()));
            }
            let _ = err.flush();
        });
        ProgressLine {
            stop: Some(stop),
            thread: thread.ok(),
        }
    }
}

impl Drop for ProgressLine {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

pub(crate) fn progress_text(p: &scan::Progress, elapsed: Duration) -> String {
    use std::sync::atomic::Ordering::Relaxed;
    let mb = p.bytes.load(Relaxed) as f64 / 1e6;
    format!(
        "scanned {} files ({:.1} MB/s)",
        p.files.load(Relaxed),
        mb / elapsed.as_secs_f64().max(1e-3)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_rate() {
        let p = certdrift::scan::Progress::default();
        p.files.store(12, std::sync::atomic::Ordering::Relaxed);
        p.bytes
            .store(5_000_000, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(
            progress_text(&p, Duration::from_secs(2)),
            "scanned 12 files (2.5 MB/s)"
        );
    }
}
