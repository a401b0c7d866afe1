//! Test switches that make a start fail or hang at a chosen step.
//!
//! `IOC_FAULT_FAIL_STEP=N` fails the start just before its N-th change; `IOC_FAULT_HANG_STEP=N`
//! stops for an hour just before it, and `IOC_FAULT_HANG_JOURNALED=N` just after the change is
//! journaled but before it is made, so a test can SIGKILL ioc at either point. They let the
//! test suite prove that every prefix of a start is rolled back or cleaned up, including a
//! journal that promises a change never made; they change nothing else. `IOC_FAULT_JAIL=NAME`
//! limits them to one jail of a multi-jail start (the others start normally).

use std::time::Duration;

use ioc_sdk::{HostError, HostErrorKind};

#[derive(Clone, Debug, Default)]
pub struct Faults {
    fail_at: Option<usize>,
    hang_at: Option<usize>,
    hang_journaled: Option<usize>,
    /// The only jail the switches apply to; all when `None`.
    jail: Option<String>,
}

impl Faults {
    pub fn none() -> Faults {
        Faults::default()
    }

    pub fn from_env() -> Faults {
        let read = |key: &str| std::env::var(key).ok().and_then(|v| v.trim().parse().ok());
        Faults {
            fail_at: read("IOC_FAULT_FAIL_STEP"),
            hang_at: read("IOC_FAULT_HANG_STEP"),
            hang_journaled: read("IOC_FAULT_HANG_JOURNALED"),
            jail: std::env::var("IOC_FAULT_JAIL").ok(),
        }
    }

    /// The switches for one jail's start: these, or none when they are for another jail.
    pub fn for_jail(&self, name: &str) -> Faults {
        match &self.jail {
            Some(only) if only != name => Faults::none(),
            _ => self.clone(),
        }
    }

    /// Called before change number `step` (counting from 1).
    pub fn before(&self, step: usize) -> Result<(), HostError> {
        if self.hang_at == Some(step) {
            hang("IOC_FAULT_HANG_STEP", "before", step);
        }
        if self.fail_at == Some(step) {
            return Err(HostError::new(
                HostErrorKind::Other,
                format!("injected failure before step {step} (IOC_FAULT_FAIL_STEP)"),
            ));
        }
        Ok(())
    }

    /// Called once change number `step` is journaled, before it is made.
    pub fn journaled(&self, step: usize) {
        if self.hang_journaled == Some(step) {
            hang("IOC_FAULT_HANG_JOURNALED", "after journaling", step);
        }
    }
}

/// Stops for an hour, or until ioc is interrupted (see `interrupt`), so that a test can kill
/// ioc here or interrupt it.
fn hang(switch: &str, when: &str, step: usize) {
    eprintln!("ioc: {switch}: hanging {when} step {step}");
    let until = std::time::Instant::now() + Duration::from_secs(3600);
    while std::time::Instant::now() < until && super::interrupt::received().is_none() {
        std::thread::sleep(Duration::from_millis(20));
    }
}
