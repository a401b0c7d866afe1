//! Logging: `tracing` events to stderr. `-v` raises the level (info, debug, trace), `-q` lowers
//! it to errors only; `IOC_LOG` (an `EnvFilter` directive such as `ioc_core=debug`) overrides
//! both.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub fn init(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    let filter = std::env::var("IOC_LOG")
        .ok()
        .and_then(|directive| EnvFilter::try_new(directive).ok())
        .unwrap_or_else(|| EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // Colours only for a terminal: logs captured in files or by other programs stay plain.
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(filter)
        .with_target(false)
        .without_time()
        .try_init();
}
