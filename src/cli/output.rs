//! Writing reports (stdout and `--output` files) and mapping results to
//! exit codes.

use super::args::FailOn;
use anyhow::{Context as _, Result};
use certdrift::report::{self, RenderOptions};
use certdrift::scan::{self};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Writes each `--output` file (created or truncated; never in colour), then
/// prints `format` on stdout; JUnit failures follow `--fail-on`.
pub(crate) fn emit<F: Copy>(
    format: F,
    outputs: &[(F, PathBuf)],
    fail_on: FailOn,
    show_suppressed: bool,
    verbose: bool,
    text_of: impl Fn(F, RenderOptions) -> String,
) -> Result<()> {
    let render = RenderOptions {
        color: color(),
        fail_on: fail_on.threshold(),
        show_suppressed,
        verbose,
    };
    let plain = RenderOptions {
        color: false,
        ..render
    };
    for (f, path) in outputs {
        report::file::write_atomic(path, text_of(*f, plain).as_bytes())
            .with_context(|| format!("cannot write --output {}", path.display()))?;
    }
    print(&text_of(format, render))
}

/// An error and its causes, `a: b: c`, as anyhow's `{:#}` prints them but
/// without a cause that its parent's message already ends with: some
/// errors (the `time` crate's, an `io::Error` wrapped by a library error
/// that prints it) repeat their source in their own text, and `{:#}` gave
/// `… (os error 2): No such file or directory (os error 2)` (issue 17).
pub(crate) fn error_text(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.is_empty() {
            out = text;
        } else if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
    }
    out
}

pub(crate) fn color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

pub(crate) fn exit_for(
    result: &scan::ScanResult,
    fail_on: FailOn,
    allow_incomplete: bool,
) -> ExitCode {
    if let Some(code) = incomplete_exit(&result.inventory, allow_incomplete) {
        return code;
    }
    let failing = fail_on
        .threshold()
        .is_some_and(|t| result.findings.iter().any(|f| f.severity >= t));
    if failing {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Fail closed: a scan that could not judge something that may hold TLS
/// material exits 2, naming each file and cause on stderr, unless the user
/// accepted it (`--allow-incomplete` or `allow_incomplete: true`).
pub(crate) fn incomplete_exit(
    inv: &certdrift::inventory::Inventory,
    allow: bool,
) -> Option<ExitCode> {
    if inv.complete || allow {
        return None;
    }
    const SHOWN: usize = 20;
    let mut msg = String::from(
        "certdrift: the scan is incomplete, so it cannot pass (--allow-incomplete accepts this):\n",
    );
    for (path, cause) in inv.gaps.iter().take(SHOWN) {
        let line = format!("  {path}: {cause}");
        msg.push_str(&report::escape::text(&line));
        msg.push('\n');
    }
    if inv.gaps.len() > SHOWN {
        msg.push_str(&format!("  … and {} more\n", inv.gaps.len() - SHOWN));
    }
    if inv.gaps.is_empty() {
        msg.push_str("  a document that may hold a Service was cut short\n");
    }
    eprint!("{msg}");
    Some(ExitCode::from(2))
}

/// Whether certdrift was started with standard output closed (`>&-`): a
/// gate whose report goes nowhere must not pass. Rust's runtime reopens a
/// closed standard descriptor on `/dev/null` for reading and writing before
/// `main`, which a shell's `>/dev/null` (write-only) never does; Linux's
/// `/proc/self/fdinfo` tells the two apart. Elsewhere: not detected.
pub(crate) fn stdout_was_closed() -> bool {
    let target = std::fs::read_link("/proc/self/fd/1");
    if !target.is_ok_and(|t| t == Path::new("/dev/null")) {
        return false;
    }
    let Ok(info) = std::fs::read_to_string("/proc/self/fdinfo/1") else {
        return false;
    };
    const O_ACCMODE: u32 = 0o3;
    const O_RDWR: u32 = 0o2;
    info.lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .and_then(|f| u32::from_str_radix(f.trim(), 8).ok())
        .is_some_and(|flags| flags & O_ACCMODE == O_RDWR)
}

pub(crate) fn print(s: &str) -> Result<()> {
    if stdout_was_closed() {
        anyhow::bail!("cannot write output: standard output is closed");
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        // A closed pipe (`certdrift … | head`) is not a failure of the scan.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(e).context("cannot write output"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_are_not_repeated() {
        let io = || std::io::Error::from(std::io::ErrorKind::NotFound);
        // A library error that prints its source, under a context.
        #[derive(Debug, thiserror::Error)]
        #[error("cannot read x: {0}")]
        struct Prints(#[source] std::io::Error);
        let e = anyhow::Error::new(Prints(io())).context("scan failed");
        assert_eq!(
            error_text(&e),
            format!("scan failed: cannot read x: {}", io())
        );
        // Distinct causes are all kept.
        let e = anyhow::Error::new(io()).context("cannot read y");
        assert_eq!(error_text(&e), format!("cannot read y: {}", io()));
    }
}
