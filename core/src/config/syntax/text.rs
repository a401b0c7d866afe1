//! Free text: hook commands and `user.*` values.

use super::{check_no_nul, is_none_word, Reason, Syntax};

/// An `exec_*` hook: a shell command run with `/bin/sh -c`, or none (`none`, `-` or empty).
///
/// The command is kept verbatim; only a value that is blank or a "none" word means no hook.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShellCommand(pub Option<String>);

impl Syntax for ShellCommand {
    fn parse(text: &str) -> Result<Self, Reason> {
        check_no_nul(text)?;
        if is_none_word(text) {
            return Ok(ShellCommand(None));
        }
        Ok(ShellCommand(Some(text.to_string())))
    }

    fn print(&self) -> String {
        self.0.clone().unwrap_or_else(|| super::NONE.to_string())
    }
}

/// A `user.*` value: any text ioc itself never interprets (a NUL cannot reach a hook's
/// environment, so it is refused).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Text(pub String);

impl Syntax for Text {
    fn parse(text: &str) -> Result<Self, Reason> {
        check_no_nul(text)?;
        Ok(Text(text.to_string()))
    }

    fn print(&self) -> String {
        self.0.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{refused_with, round_trip};
    use super::*;

    #[test]
    fn commands() {
        round_trip::<ShellCommand>("/bin/echo hello > /tmp/x", "/bin/echo hello > /tmp/x");
        round_trip::<ShellCommand>(" touch /a ", " touch /a ");
        for none in ["", "none", "-", " none "] {
            round_trip::<ShellCommand>(none, "none");
        }
        refused_with::<ShellCommand>("a\0b", "NUL");
    }

    #[test]
    fn user_text() {
        round_trip::<Text>("anything, at all = yes", "anything, at all = yes");
        round_trip::<Text>("", "");
        refused_with::<Text>("\0", "NUL");
    }
}
