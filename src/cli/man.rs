//! `certdrift man`: one complete manual page (roff) — every subcommand with
//! its synopsis and options, the exit status and the environment.
//!
//! One page rather than one per subcommand: `clap_mangen::Man::render`
//! alone names `certdrift-scan(1)` and the like in SEE ALSO-style lists,
//! pages that a `certdrift man | man -l -` reader does not have. Here the
//! subcommands are subsections of the one page, built from clap_mangen's
//! section renderers, and the page names no other page.

use super::Cli;
use clap::CommandFactory;

/// Exit codes, as the README's "Exit codes" table gives them.
const EXIT_STATUS: &[(&str, &str)] = &[
    ("0", "No finding at or above --fail-on."),
    ("1", "Findings at or above --fail-on."),
    (
        "2",
        "Usage or input error: bad flags or settings, an invalid config or policy, an unreadable root, \
         no file scanned (unless --allow-empty), an --output that cannot be written, a closed or full \
         standard output, an internal error; and an incomplete scan (unless --allow-incomplete): \
         something that may hold TLS material could not be judged. The report is still written.",
    ),
    (
        "3",
        "diff --detailed-exitcode only: changes, but no failing findings.",
    ),
];

/// Every variable certdrift reads: [`super::ENV_VARS`] (clap's `env`) and the two
/// the progress line and colours look at.
const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "CERTDRIFT_CONFIG",
        "The config file, as --config (default: .certdrift.yaml in the current directory or the nearest parent, up to the repository's top).",
    ),
    (
        "CERTDRIFT_FAIL_ON",
        "As --fail-on of scan and diff: error, warning, note or never; over the config's fail_on.",
    ),
    (
        "CERTDRIFT_FORMAT",
        "As --format of scan and diff; over the config's format.",
    ),
    (
        "CERTDRIFT_NOW",
        "As --now: the evaluation time (RFC 3339), e.g. 2027-01-01T00:00:00Z to see what will have expired by then.",
    ),
    (
        "CERTDRIFT_WARN_DAYS",
        "As --warn-days: days before expiry that expires-soon warns; over the config's warn_days.",
    ),
    (
        "NO_COLOR",
        "When set (to anything), no colour, even on a terminal.",
    ),
    (
        "CI",
        "When set (not empty), no progress line on stderr unless --progress asks for it.",
    ),
];

/// The page.
pub(crate) fn page() -> std::io::Result<String> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let man = clap_mangen::Man::new(cmd.clone());
    // The title keeps roff's preamble; every other piece drops its copy.
    let mut title = Vec::new();
    man.render_title(&mut title)?;
    let mut out = String::from_utf8_lossy(&title).into_owned();
    out.push_str(&section(|w| man.render_name_section(w))?);
    out.push_str(&section(|w| man.render_synopsis_section(w))?);
    out.push_str(&section(|w| man.render_description_section(w))?);
    out.push_str(&section(|w| man.render_options_section(w))?);
    out.push_str(".SH COMMANDS\n");
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("certdrift {}", sub.get_name());
        out.push_str(&format!(".SS \"{name}\"\n"));
        let man = clap_mangen::Man::new(sub.clone());
        out.push_str(&body(|w| man.render_synopsis_section(w))?);
        out.push_str(".PP\n");
        out.push_str(&body(|w| man.render_description_section(w))?);
        if sub.get_arguments().any(|a| !a.is_hide_set()) {
            out.push_str(&body(|w| man.render_options_section(w))?);
        }
        if sub.get_after_help().is_some() || sub.get_after_long_help().is_some() {
            out.push_str(".PP\n");
            out.push_str(&body(|w| man.render_extra_section(w))?);
        }
    }
    out.push_str(".SH \"EXIT STATUS\"\n");
    for (code, what) in EXIT_STATUS {
        out.push_str(&format!(".TP\n\\fB{code}\\fR\n{}\n", escape(what)));
    }
    out.push_str(".SH ENVIRONMENT\n");
    out.push_str(&escape(
        "A flag beats its variable, the variable beats the config file, the file beats the built-in default; an empty variable counts as unset.",
    ));
    out.push('\n');
    for (var, what) in ENVIRONMENT {
        out.push_str(&format!(".TP\n\\fB{}\\fR\n{}\n", escape(var), escape(what)));
    }
    out.push_str(&section(|w| man.render_version_section(w))?);
    Ok(out)
}

/// A section rendered alone, without roff's preamble.
fn section(render: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> std::io::Result<String> {
    piece(render, true)
}

/// A section rendered alone, without roff's preamble and its `.SH` line:
/// the body of a subsection. (certdrift's options have no help headings,
/// which clap_mangen would render as more `.SH` lines.)
fn body(render: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> std::io::Result<String> {
    piece(render, false)
}

fn piece(
    render: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>,
    heading: bool,
) -> std::io::Result<String> {
    let mut buf = Vec::new();
    render(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf)
        .lines()
        .filter(|l| !is_preamble(l) && (heading || !l.starts_with(".SH ")))
        .map(|l| format!("{l}\n"))
        .collect())
}

/// The two lines `roff` writes before every rendered piece (the `Aq`
/// string); the title's copy is kept.
fn is_preamble(line: &str) -> bool {
    line.starts_with(".ie \\n(.g .ds Aq") || line.starts_with(".el .ds Aq")
}

/// Plain text as roff: backslashes and hyphens escaped (a `-` is a hyphen
/// in roff; `\-` the minus sign options are typed with).
fn escape(s: &str) -> String {
    s.replace('\\', "\\e")
        .replace('-', "\\-")
        .replace('\'', "\\*(Aq")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::ENV_VARS;

    /// Every subcommand's every option is on the page, with the exit codes
    /// and the environment; the page names no other manual page (issue 17:
    /// clap_mangen's page listed `certdrift-scan(1)`, which nobody had).
    #[test]
    fn page_is_complete() {
        let page = page().unwrap();
        assert!(page.starts_with(".ie \\n(.g .ds Aq"), "{page}");
        assert_eq!(page.matches(".ds Aq").count(), 2, "one preamble");
        for s in [
            ".SH NAME",
            ".SH SYNOPSIS",
            ".SH COMMANDS",
            ".SH \"EXIT STATUS\"",
            ".SH ENVIRONMENT",
        ] {
            assert!(page.contains(s), "{s} missing");
        }
        for code in ["0", "1", "2", "3"] {
            assert!(
                page.contains(&format!(".TP\n\\fB{code}\\fR\n")),
                "exit {code}"
            );
        }
        let env: Vec<&str> = ENVIRONMENT.iter().map(|(v, _)| *v).collect();
        for v in ENV_VARS.iter().chain(&["NO_COLOR", "CI"]) {
            assert!(env.contains(v), "{v} undocumented");
            assert!(page.contains(&format!("\\fB{}\\fR", escape(v))), "{v}");
        }
        let cmd = Cli::command();
        for sub in cmd.get_subcommands() {
            let heading = format!(".SS \"certdrift {}\"", sub.get_name());
            assert!(page.contains(&heading), "{heading}");
            let section = page.split(&heading).nth(1).unwrap();
            let section = section.split(".SS ").next().unwrap();
            for a in sub.get_arguments().filter(|a| !a.is_hide_set()) {
                let shown = match a.get_long() {
                    Some(l) => format!("\\fB\\-\\-{}\\fR", escape(l)),
                    None => a.get_id().to_string().to_uppercase(),
                };
                assert!(
                    section.contains(&shown) || section.contains(&a.get_id().to_string()),
                    "certdrift {} {shown} not on the page",
                    sub.get_name()
                );
            }
        }
        // No reference to another page: `name(section)`.
        let refs: Vec<&str> = page
            .split(|c: char| c.is_whitespace())
            .filter(|w| {
                w.strip_suffix(')')
                    .and_then(|w| w.rsplit_once('('))
                    .is_some_and(|(name, n)| {
                        !name.is_empty() && n.len() == 1 && n.chars().all(|c| c.is_ascii_digit())
                    })
            })
            .collect();
        assert!(refs.is_empty(), "{refs:?}");
    }
}
