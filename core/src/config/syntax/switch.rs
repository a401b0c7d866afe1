//! Booleans: `vnet` (on/off, with libioc's synonyms) and the kernel flags (0/1).

use super::{Reason, Syntax};

/// A switch written on/off, also accepting yes/no, true/false and 1/0 in any case; printed on/off.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OnOff(pub bool);

impl Syntax for OnOff {
    fn parse(text: &str) -> Result<Self, Reason> {
        match text.trim().to_ascii_lowercase().as_str() {
            "on" | "yes" | "true" | "1" => Ok(OnOff(true)),
            "off" | "no" | "false" | "0" => Ok(OnOff(false)),
            _ => Err(format!(
                "expected on or off (also yes/no, true/false, 1/0) but got \"{text}\""
            )),
        }
    }

    fn print(&self) -> String {
        if self.0 { "on" } else { "off" }.to_string()
    }
}

/// A kernel jail flag written 0 or 1, as the jail params take it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bit(pub bool);

impl Syntax for Bit {
    fn parse(text: &str) -> Result<Self, Reason> {
        match text.trim() {
            "1" => Ok(Bit(true)),
            "0" => Ok(Bit(false)),
            _ => Err(format!("expected 0 or 1 but got \"{text}\"")),
        }
    }

    fn print(&self) -> String {
        if self.0 { "1" } else { "0" }.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{refused, round_trip};
    use super::*;

    #[test]
    fn on_off_accepts_every_synonym_in_any_case() {
        for on in ["on", "ON", "yes", "Yes", "true", "TRUE", "1", " on "] {
            round_trip::<OnOff>(on, "on");
        }
        for off in ["off", "Off", "no", "NO", "false", "False", "0"] {
            round_trip::<OnOff>(off, "off");
        }
        refused::<OnOff>(
            "maybe",
            "expected on or off (also yes/no, true/false, 1/0) but got \"maybe\"",
        );
        refused::<OnOff>(
            "",
            "expected on or off (also yes/no, true/false, 1/0) but got \"\"",
        );
        refused::<OnOff>(
            "2",
            "expected on or off (also yes/no, true/false, 1/0) but got \"2\"",
        );
    }

    #[test]
    fn bits_are_0_or_1() {
        round_trip::<Bit>("0", "0");
        round_trip::<Bit>("1", "1");
        for bad in ["", "on", "2", "01", "yes"] {
            refused::<Bit>(bad, &format!("expected 0 or 1 but got \"{bad}\""));
        }
    }
}
