//! The `certdrift` binary: parses the arguments, runs the command (the
//! [`cli`] module, over the `certdrift` library) and exits with its code.
//! A panic is caught and exits 2, never 0.

mod cli;

use clap::Parser as _;
use std::process::ExitCode;

fn main() -> ExitCode {
    // An empty variable counts as unset (as NO_COLOR's does): CI systems set
    // `CERTDRIFT_FAIL_ON: ${{ inputs.fail-on }}` to "" when no input is
    // given, and clap would take "" as a value. Still one thread here.
    for v in cli::ENV_VARS {
        if std::env::var_os(v).is_some_and(|x| x.is_empty()) {
            std::env::remove_var(v);
        }
    }
    let cli = match cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    certdrift::read::yaml::quiet_parser_panics();
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cli::run(cli))) {
        Ok(Ok(code)) => code,
        Ok(Err(e)) => {
            eprintln!("certdrift: error: {}", cli::error_text(&e));
            ExitCode::from(2)
        }
        Err(_) => {
            eprintln!(
                "certdrift: internal error (a bug): the scan did not finish; please report it"
            );
            ExitCode::from(2)
        }
    }
}
