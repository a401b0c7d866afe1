//! Forwards a plugin's tracing events to ioc.
//!
//! A plugin library links its own copy of `tracing`, with its own global dispatcher, so events it
//! emits would otherwise vanish. `install` sets that dispatcher to one that hands each event to
//! ioc's [`LogSink`]. It also replaces the library's panic hook: the panic message is kept for the
//! error ioc reports instead of being printed over ioc's output.

use std::cell::RefCell;
use std::fmt::{self, Write as _};

use abi_stable::std_types::RStr;
use tracing_core::field::{Field, Visit};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Event, Level, LevelFilter, Metadata, Subscriber};

use crate::ffi::LogSink;

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs the forwarding dispatcher and the panic hook (once per library).
pub(crate) fn install(sink: LogSink) {
    let _ = tracing_core::dispatcher::set_global_default(tracing_core::Dispatch::new(Forwarder {
        sink,
    }));
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic payload".into());
        LAST_PANIC.with(|p| *p.borrow_mut() = Some(format!("{message}{location}")));
    }));
}

/// The message of the last panic on this thread, if the hook caught one.
pub(crate) fn take_panic_message() -> Option<String> {
    LAST_PANIC.with(|p| p.borrow_mut().take())
}

fn level_number(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 1,
        Level::WARN => 2,
        Level::INFO => 3,
        Level::DEBUG => 4,
        Level::TRACE => 5,
    }
}

struct Forwarder {
    sink: LogSink,
}

/// Renders `message` first, then `key=value` for the other fields.
#[derive(Default)]
struct Render {
    message: String,
    fields: String,
}

impl Visit for Render {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={value}", field.name());
        }
    }
}

impl Subscriber for Forwarder {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        level_number(metadata.level()) <= self.sink.max_level
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(match self.sink.max_level {
            0 => LevelFilter::OFF,
            1 => LevelFilter::ERROR,
            2 => LevelFilter::WARN,
            3 => LevelFilter::INFO,
            4 => LevelFilter::DEBUG,
            _ => LevelFilter::TRACE,
        })
    }

    fn new_span(&self, _span: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _span: &Id, _values: &Record<'_>) {}

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut render = Render::default();
        event.record(&mut render);
        render.message.push_str(&render.fields);
        let meta = event.metadata();
        // ioc shows the plugin's name, not the Rust module the event came from.
        let plugin = crate::ffi::plugin_name().unwrap_or(meta.target());
        (self.sink.emit)(
            level_number(meta.level()),
            RStr::from_str(plugin),
            RStr::from_str(&render.message),
        );
    }

    fn enter(&self, _span: &Id) {}

    fn exit(&self, _span: &Id) {}
}
