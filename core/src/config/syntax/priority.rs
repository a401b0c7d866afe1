//! `priority`: iocage's boot order, 0 to 99 (lower starts first and stops last).

use super::{Reason, Syntax};

/// The highest priority value, also the default: jails that do not care start last.
pub const LOWEST: u8 = 99;

/// A boot priority, 0 to 99.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Priority(pub u8);

impl Default for Priority {
    fn default() -> Self {
        Priority(LOWEST)
    }
}

impl Syntax for Priority {
    fn parse(text: &str) -> Result<Self, Reason> {
        let trimmed = text.trim();
        match trimmed.parse::<u8>() {
            Ok(n) if n <= LOWEST && trimmed.chars().all(|c| c.is_ascii_digit()) => Ok(Priority(n)),
            _ => Err(format!(
                "expected a whole number from 0 to {LOWEST} but got \"{text}\""
            )),
        }
    }

    fn print(&self) -> String {
        self.0.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{refused, round_trip};
    use super::*;

    #[test]
    fn priorities_are_0_to_99() {
        round_trip::<Priority>("0", "0");
        round_trip::<Priority>(" 99 ", "99");
        round_trip::<Priority>("007", "7");
        for bad in ["100", "-1", "+5", "", "ten", "1.5", "256"] {
            refused::<Priority>(
                bad,
                &format!("expected a whole number from 0 to 99 but got \"{bad}\""),
            );
        }
    }
}
