//! The receiving end of plugin logs: turns each forwarded event into one of ioc's own.

use abi_stable::std_types::RStr;
use ioc_sdk::LogSink;
use tracing::Level;

/// A sink that passes everything ioc's own subscriber would show.
pub fn sink() -> LogSink {
    let max_level = match tracing::level_filters::LevelFilter::current().into_level() {
        None => 0,
        Some(Level::ERROR) => 1,
        Some(Level::WARN) => 2,
        Some(Level::INFO) => 3,
        Some(Level::DEBUG) => 4,
        Some(Level::TRACE) => 5,
    };
    LogSink { max_level, emit }
}

extern "C" fn emit(level: u8, target: RStr<'_>, message: RStr<'_>) {
    // Never unwind into the plugin: a failing subscriber must not abort ioc.
    let _ = std::panic::catch_unwind(|| {
        let (target, message) = (target.as_str(), message.as_str());
        match level {
            1 => tracing::error!(target: "plugin", plugin = target, "{message}"),
            2 => tracing::warn!(target: "plugin", plugin = target, "{message}"),
            3 => tracing::info!(target: "plugin", plugin = target, "{message}"),
            4 => tracing::debug!(target: "plugin", plugin = target, "{message}"),
            _ => tracing::trace!(target: "plugin", plugin = target, "{message}"),
        }
    });
}
