//! Test switches that make a start fail or hang at a chosen step.
//!
//! `IOC_FAULT_FAIL_STEP=N` fails the start just before its N-th change; `IOC_FAULT_HANG_STEP=N`
//! stops there for an hour, so a test can SIGKILL ioc at a known point. They let the test suite
//! prove that every prefix of a start is rolled back or cleaned up; they change nothing else.

use std::time::Duration;

use ioc_sdk::{HostError, HostErrorKind};

#[derive(Clone, Copy, Debug, Default)]
pub struct Faults {
    fail_at: Option<usize>,
    hang_at: Option<usize>,
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
        }
    }

    /// Called before change number `step` (counting from 1).
    pub fn before(&self, step: usize) -> Result<(), HostError> {
        if self.hang_at == Some(step) {
            eprintln!("ioc: IOC_FAULT_HANG_STEP: hanging before step {step}");
            std::thread::sleep(Duration::from_secs(3600));
        }
        if self.fail_at == Some(step) {
            return Err(HostError::new(
                HostErrorKind::Other,
                format!("injected failure before step {step} (IOC_FAULT_FAIL_STEP)"),
            ));
        }
        Ok(())
    }
}
