//! iocage's boot properties (issue 15): which jails `ioc start --rc` starts, and in which
//! order `--rc` starts and stops them. Declared apart from the main table so they read in one
//! place, with the accessors the lifecycle uses.

use super::registry::properties;
use super::registry::Builtin::Fixed;
use super::resolve::ResolvedJail;
use super::syntax::{OnOff, Priority};

properties! {
    BOOT: OnOff = "boot", Fixed("off"), Jail,
        "Start the jail with ioc start --rc (at host boot, from the init system): on or off";
    PRIORITY: Priority = "priority", Fixed("99"), Jail,
        "Boot order of ioc start --rc and ioc stop --rc: 0 to 99, lower starts first and stops last (depends still come first)";
}

impl ResolvedJail {
    /// `boot`: whether `ioc start --rc` starts the jail.
    pub fn boot(&self) -> bool {
        self.get(BOOT).0
    }

    /// `priority`: the jail's place in a bulk start (lower first) and stop (lower last).
    pub fn priority(&self) -> u8 {
        self.get(PRIORITY).0
    }
}
