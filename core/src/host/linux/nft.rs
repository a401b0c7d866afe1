//! nftables in-process: libnftables loaded at run time.
//!
//! Spawning `nft -f -` costs a fork, an exec and the loading of nft's own libraries: several
//! milliseconds per jail, more than the rest of a start. libnftables does the same work (parse,
//! then one netlink batch, committed atomically by the kernel) inside ioc's process, so an apply
//! costs what the kernel's transaction costs.
//!
//! The library is opened with `dlopen` on first use, not linked, so ioc still builds and runs
//! without it (Debian package `libnftables1`, which the `nftables` package pulls in). When it is
//! missing, applies fall back to spawning `nft -f -`.
//!
//! One context is kept for the process and reused, so its ruleset cache survives between
//! applies. A context's netlink socket belongs to the network namespace its thread was in when
//! the context was made, and ioc may run host work from a thread that entered another namespace
//! (see `netns`), so contexts are kept per network namespace of the calling thread.

use std::ffi::{c_char, c_int, c_uint, c_void, CStr, CString};
use std::os::unix::fs::MetadataExt;
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use ioc_sdk::{HostError, HostErrorKind};
use libloading::Library;

use crate::host::exec::run;

/// The soname of libnftables (stable since nftables 0.9).
const LIBRARY: &str = "libnftables.so.1";

/// The `nft` binary used when the library is missing.
const NFT: &str = "nft";

/// Contexts kept at most (one per network namespace ioc applied rules in; ioc itself uses one).
const MAX_CONTEXTS: usize = 4;

type CtxNew = unsafe extern "C" fn(flags: c_uint) -> *mut c_void;
type CtxFree = unsafe extern "C" fn(ctx: *mut c_void);
type CtxBuffer = unsafe extern "C" fn(ctx: *mut c_void) -> c_int;
type CtxGetBuffer = unsafe extern "C" fn(ctx: *mut c_void) -> *const c_char;
type CtxSetDryRun = unsafe extern "C" fn(ctx: *mut c_void, dry: bool);
type RunCmd = unsafe extern "C" fn(ctx: *mut c_void, buf: *const c_char) -> c_int;

/// The functions ioc uses, resolved once. `_lib` keeps them mapped.
struct Api {
    ctx_new: CtxNew,
    ctx_free: CtxFree,
    buffer_output: CtxBuffer,
    buffer_error: CtxBuffer,
    get_output: CtxGetBuffer,
    get_error: CtxGetBuffer,
    set_dry_run: CtxSetDryRun,
    run_cmd: RunCmd,
    _lib: Library,
}

impl Api {
    fn load() -> Result<Api, libloading::Error> {
        // SAFETY: libnftables runs no code on load that depends on us, and every symbol below
        // is declared with the signature of libnftables' public header (nftables/libnftables.h).
        unsafe {
            let lib = Library::new(LIBRARY)?;
            Ok(Api {
                ctx_new: *lib.get::<CtxNew>(b"nft_ctx_new\0")?,
                ctx_free: *lib.get::<CtxFree>(b"nft_ctx_free\0")?,
                buffer_output: *lib.get::<CtxBuffer>(b"nft_ctx_buffer_output\0")?,
                buffer_error: *lib.get::<CtxBuffer>(b"nft_ctx_buffer_error\0")?,
                get_output: *lib.get::<CtxGetBuffer>(b"nft_ctx_get_output_buffer\0")?,
                get_error: *lib.get::<CtxGetBuffer>(b"nft_ctx_get_error_buffer\0")?,
                set_dry_run: *lib.get::<CtxSetDryRun>(b"nft_ctx_set_dry_run\0")?,
                run_cmd: *lib.get::<RunCmd>(b"nft_run_cmd_from_buffer\0")?,
                _lib: lib,
            })
        }
    }
}

/// A network namespace, as the kernel identifies it (device and inode of its nsfs file).
type NetnsId = (u64, u64);

/// The calling thread's network namespace. Without `/proc` every thread counts as one
/// namespace, which is right for a process that never changes its own.
fn current_netns() -> NetnsId {
    std::fs::metadata("/proc/thread-self/ns/net")
        .map(|m| (m.dev(), m.ino()))
        .unwrap_or((0, 0))
}

/// One libnftables context, with output and errors captured in memory rather than printed.
struct Context {
    raw: *mut c_void,
    netns: NetnsId,
}

// SAFETY: a context is only ever used by one thread at a time (it lives behind the mutex).
unsafe impl Send for Context {}

impl Context {
    fn new(api: &Api, netns: NetnsId) -> Result<Context, HostError> {
        // SAFETY: plain constructor; 0 is NFT_CTX_DEFAULT.
        let raw = unsafe { (api.ctx_new)(0) };
        if raw.is_null() {
            return Err(HostError::new(
                HostErrorKind::Other,
                "libnftables could not create a context (out of memory?)",
            ));
        }
        // SAFETY: `raw` is a live context.
        let buffered = unsafe { (api.buffer_output)(raw) == 0 && (api.buffer_error)(raw) == 0 };
        let ctx = Context { raw, netns };
        if !buffered {
            ctx.free(api);
            return Err(HostError::new(
                HostErrorKind::Other,
                "libnftables could not buffer its output",
            ));
        }
        Ok(ctx)
    }

    /// Runs a script; with `dry_run` the kernel checks the batch and discards it. A refusal
    /// quotes nft's message (see [`rejected`]).
    fn run(&mut self, api: &Api, script: &str, dry_run: bool) -> Result<(), HostError> {
        let script_c = CString::new(script).map_err(|_| {
            HostError::new(HostErrorKind::Other, "nftables script contains a NUL byte")
        })?;
        // SAFETY: `raw` is a live context used by this thread only; `script_c` is NUL-terminated
        // and outlives the call. The buffers are read before the next call on this context.
        unsafe {
            (api.set_dry_run)(self.raw, dry_run);
            let status = (api.run_cmd)(self.raw, script_c.as_ptr());
            // Reading a buffer also rewinds it, so each run's text starts afresh.
            let _ = (api.get_output)(self.raw);
            let error = (api.get_error)(self.raw);
            if status == 0 {
                return Ok(());
            }
            let text = if error.is_null() {
                String::new()
            } else {
                CStr::from_ptr(error).to_string_lossy().trim().to_string()
            };
            Err(rejected(&text, script))
        }
    }

    fn free(self, api: &Api) {
        // SAFETY: the context is not used after this.
        unsafe { (api.ctx_free)(self.raw) }
    }
}

/// How applies are carried out in this process, decided on first use.
enum Engine {
    Library {
        api: Api,
        contexts: Vec<Context>,
    },
    /// libnftables is missing: spawn `nft`. `why` says what failed, for error messages.
    Spawn {
        why: String,
    },
}

fn engine() -> &'static Mutex<Engine> {
    static ENGINE: OnceLock<Mutex<Engine>> = OnceLock::new();
    ENGINE.get_or_init(|| {
        Mutex::new(match Api::load() {
            Ok(api) => Engine::Library {
                api,
                contexts: Vec::new(),
            },
            Err(e) => {
                tracing::debug!(
                    "libnftables unavailable ({e}); nftables rules go through `nft -f -`"
                );
                Engine::Spawn { why: e.to_string() }
            }
        })
    })
}

/// Which engine this process uses: `"libnftables"` or `"nft"`.
pub fn engine_name() -> &'static str {
    match &*engine().lock().unwrap_or_else(|p| p.into_inner()) {
        Engine::Library { .. } => "libnftables",
        Engine::Spawn { .. } => "nft",
    }
}

/// Applies a script atomically: all of it, or nothing and an error quoting nft's complaint.
pub fn apply(script: &str) -> Result<(), HostError> {
    execute(script, false)
}

/// Checks a script against the running kernel without changing anything: nft parses it and
/// sends the batch, which the kernel validates and then aborts (`nft --check`).
///
/// That costs a wait: the kernel's abort of a batch waits for an RCU grace period (10 ms and
/// more on a busy host). To ask whether a table or chain exists, use the queries of
/// [`super::netlink::Nfnetlink`] instead: one request, a fraction of a millisecond.
pub fn check(script: &str) -> Result<(), HostError> {
    execute(script, true)
}

fn execute(script: &str, dry_run: bool) -> Result<(), HostError> {
    let mut guard = engine().lock().unwrap_or_else(|p| p.into_inner());
    match &mut *guard {
        Engine::Library { api, contexts } => {
            let netns = current_netns();
            let index = match contexts.iter().position(|c| c.netns == netns) {
                Some(i) => i,
                None => {
                    // A context's socket pins its namespace: keep only the few most recent.
                    if contexts.len() == MAX_CONTEXTS {
                        contexts.remove(0).free(api);
                    }
                    contexts.push(Context::new(api, netns)?);
                    contexts.len() - 1
                }
            };
            contexts[index].run(api, script, dry_run)
        }
        Engine::Spawn { why } => {
            let why = why.clone();
            drop(guard);
            spawn(script, dry_run, &why)
        }
    }
}

/// Runs the `nft` binary, for hosts without libnftables.
fn spawn(script: &str, dry_run: bool, why: &str) -> Result<(), HostError> {
    let mut nft = Command::new(NFT);
    if dry_run {
        nft.arg("--check");
    }
    nft.args(["-f", "-"]);
    let out = run(nft, Some(script)).map_err(|e| {
        HostError::new(
            e.kind,
            format!(
                "nftables is not usable: {LIBRARY} could not be loaded ({why}) and {}; install the nftables package",
                e.message
            ),
        )
    })?;
    if out.status != 0 {
        return Err(rejected(out.stderr.trim(), script));
    }
    Ok(())
}

/// nft's own message names the failing line and marks the offending words; keep it whole.
fn rejected(text: &str, script: &str) -> HostError {
    let kind = if text.contains("Operation not permitted") {
        HostErrorKind::PermissionDenied
    } else {
        HostErrorKind::Other
    };
    let detail = if text.is_empty() {
        format!("no message; the script was:\n{script}")
    } else {
        text.to_string()
    };
    HostError::new(kind, format!("nftables rejected the rules: {detail}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejection_keeps_the_message_and_names_permission_errors() {
        let e = rejected(
            "Error: Could not process rule: Operation not permitted",
            "x",
        );
        assert_eq!(e.kind, HostErrorKind::PermissionDenied);
        assert!(e.message.contains("Could not process rule"), "{e}");
        let e = rejected("", "add table bridge ioc");
        assert!(e.message.contains("add table bridge ioc"), "{e}");
    }

    #[test]
    fn syntax_errors_are_reported_without_touching_the_kernel() {
        // A parse error is caught before any netlink message is sent, so this is safe on any
        // host, root or not, with or without nftables in the kernel.
        if engine_name() != "libnftables" {
            eprintln!("skipped: libnftables is not installed");
            return;
        }
        let e = check("add tabel bridge ioc").unwrap_err();
        assert!(e.message.contains("syntax error"), "{e}");
        // The buffer is rewound between runs: a second error does not carry the first.
        let e = check("add chian bridge ioc x").unwrap_err();
        assert!(!e.message.contains("tabel"), "{e}");
    }
}
