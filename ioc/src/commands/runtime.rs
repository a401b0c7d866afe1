//! Shared by the commands that change running jails: printing per-jail outcomes.

use std::io::Write;

use ioc_core::actions::JailReport;
use ioc_core::lifecycle::Outcome;
use ioc_core::Error;
use serde_json::{json, Value as Json};

use super::plan::PlanFormat;
use super::CommandResult;

/// Prints one line per jail that worked (or, with `--output-format json`, one object per jail,
/// failures included), and fails with every jail error at once.
pub fn report(report: JailReport, format: PlanFormat, out: &mut dyn Write) -> CommandResult {
    let mut errors = Vec::new();
    let mut objects = Vec::new();
    for result in report {
        match result {
            Ok((name, outcome)) => {
                let (what, jid) = match outcome {
                    Outcome::Started { jid } => ("started", Some(jid)),
                    Outcome::AlreadyRunning { jid } => ("already running", Some(jid)),
                    Outcome::Stopped => ("stopped", None),
                    Outcome::NotRunning => ("not running", None),
                };
                match format {
                    PlanFormat::Text => match jid {
                        Some(jid) => writeln!(out, "{name}: {what} (JID {jid})")?,
                        None => writeln!(out, "{name}: {what}")?,
                    },
                    PlanFormat::Json => objects.push(
                        json!({"jail": name, "outcome": what, "jid": jid, "error": Json::Null}),
                    ),
                }
            }
            Err(e) => {
                if format == PlanFormat::Json {
                    objects.push(json!({
                        "jail": e.jail,
                        "outcome": "failed",
                        "jid": Json::Null,
                        "error": e.to_string(),
                    }));
                }
                errors.push(e.into());
            }
        }
    }
    if format == PlanFormat::Json {
        serde_json::to_writer_pretty(&mut *out, &objects).map_err(std::io::Error::from)?;
        writeln!(out)?;
    }
    out.flush()?;
    Error::collect(errors)?;
    Ok(())
}
