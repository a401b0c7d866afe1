//! Shared by the commands that change running jails: printing per-jail outcomes.

use std::io::Write;

use ioc_core::actions::JailReport;
use ioc_core::lifecycle::Outcome;
use ioc_core::Error;

use super::CommandResult;

/// Prints one line per jail that worked, and fails with every jail error at once.
pub fn report(report: JailReport, out: &mut dyn Write) -> CommandResult {
    let mut errors = Vec::new();
    for result in report {
        match result {
            Ok((name, outcome)) => {
                let what = match outcome {
                    Outcome::Started { jid } => format!("started (JID {jid})"),
                    Outcome::AlreadyRunning { jid } => format!("already running (JID {jid})"),
                    Outcome::Stopped => "stopped".to_string(),
                    Outcome::NotRunning => "not running".to_string(),
                };
                writeln!(out, "{name}: {what}")?;
            }
            Err(e) => errors.push(e.into()),
        }
    }
    out.flush()?;
    Error::collect(errors)?;
    Ok(())
}
