//! Shared by the commands that change running jails: printing per-jail outcomes, one line per
//! jail as soon as it is known.

use std::io::Write;
use std::sync::{Mutex, PoisonError};

use ioc_core::actions::JailReport;
use ioc_core::lifecycle::{silent, Outcome, Progress, Reported};
use ioc_core::Error;
use serde_json::{json, Value as Json};

use super::plan::PlanFormat;
use super::CommandResult;

/// Runs `action` (a start, stop or restart over many jails) and prints its outcomes.
///
/// In text, each jail's line is printed and flushed the moment the lifecycle reports it (in the
/// order of the final report, see [`Progress`]), so a long bulk start shows its progress; the
/// errors still come all at once at the end. The action runs on this thread; a line is written
/// by whichever thread reports it (the lifecycle reports from its worker threads in a
/// concurrent start), one at a time. No printer thread of its own: starting one cost a
/// single-jail `ioc start` about 0.1 ms. JSON is one document, printed at the end as before.
pub fn run<A>(format: PlanFormat, out: &mut (dyn Write + Send), action: A) -> CommandResult
where
    A: FnOnce(&Progress<'_>) -> ioc_core::Result<JailReport>,
{
    if format == PlanFormat::Json {
        return report(action(&silent)?, format, 0, out);
    }
    let printer = Mutex::new(Printer {
        out: &mut *out,
        told: 0,
        failed: None,
    });
    let outcome = action(&|result: &Reported| {
        let mut printer = printer.lock().unwrap_or_else(PoisonError::into_inner);
        printer.tell(result.as_ref().ok().map(|(n, o)| line(n, o)));
    });
    let Printer { told, failed, .. } = printer.into_inner().unwrap_or_else(PoisonError::into_inner);
    if let Some(e) = failed {
        return Err(e.into());
    }
    report(outcome?, format, told, out)
}

/// Where the lines of [`run`] go, and how many entries were told.
struct Printer<'o> {
    out: &'o mut (dyn Write + Send),
    told: usize,
    /// The first failed write (the reader left): after it, the rest is only counted.
    failed: Option<std::io::Error>,
}

impl Printer<'_> {
    /// Counts one reported entry and prints its line, if it has one.
    fn tell(&mut self, line: Option<String>) {
        self.told += 1;
        if let (Some(line), None) = (line, &self.failed) {
            self.failed = writeln!(self.out, "{line}")
                .and_then(|()| self.out.flush())
                .err();
        }
    }
}

/// `NAME: started (JID 5)`, `NAME: stopped`...
fn line(name: &str, outcome: &Outcome) -> String {
    let (what, jid) = describe(outcome);
    match jid {
        Some(jid) => format!("{name}: {what} (JID {jid})"),
        None => format!("{name}: {what}"),
    }
}

fn describe(outcome: &Outcome) -> (&'static str, Option<u32>) {
    match outcome {
        Outcome::Started { jid } => ("started", Some(*jid)),
        Outcome::AlreadyRunning { jid } => ("already running", Some(*jid)),
        Outcome::Stopped => ("stopped", None),
        Outcome::NotRunning => ("not running", None),
    }
}

/// Prints one line per jail that worked, after the first `told` entries (already printed as
/// they came), or, with `--output-format json`, one object per jail, failures included; then
/// fails with every jail error at once.
pub fn report(
    report: JailReport,
    format: PlanFormat,
    told: usize,
    out: &mut dyn Write,
) -> CommandResult {
    let mut errors = Vec::new();
    let mut objects = Vec::new();
    for (index, result) in report.into_iter().enumerate() {
        match result {
            Ok((name, outcome)) => match format {
                PlanFormat::Text if index >= told => writeln!(out, "{}", line(&name, &outcome))?,
                PlanFormat::Text => {}
                PlanFormat::Json => {
                    let (what, jid) = describe(&outcome);
                    objects.push(
                        json!({"jail": name, "outcome": what, "jid": jid, "error": Json::Null}),
                    )
                }
            },
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
