//! `ioc exec JAIL -- CMD...`: run a command inside a running jail.

use std::convert::Infallible;
use std::ffi::CString;

use crate::error::{Error, Result};
use crate::runtime::{JailState, RunDir};

fn cstrings(argv: &[String]) -> Result<Vec<CString>> {
    argv.iter()
        .map(|a| {
            CString::new(a.as_bytes())
                .map_err(|_| Error::Usage(format!("argument {a:?} contains a NUL byte")))
        })
        .collect()
}

/// Replaces this process with `argv` running inside the jail, so the command's exit code is
/// ioc's and signals reach it directly. Returns only on failure.
pub fn exec(run: &RunDir, name: &str, argv: &[String]) -> Result<Infallible> {
    if argv.is_empty() {
        return Err(Error::Usage(
            "ioc exec needs a command after the jail name".into(),
        ));
    }
    match run.state(name) {
        JailState::Running { .. } => {}
        JailState::Vanished { .. } => {
            return Err(Error::JailVanished(name.to_string()));
        }
        _ => return Err(Error::JailNotRunning(name.to_string())),
    }
    platform_exec(run, name, argv)
}

#[cfg(target_os = "linux")]
fn platform_exec(run: &RunDir, name: &str, argv: &[String]) -> Result<Infallible> {
    use crate::host::linux::jail::{JailNs, JailPaths};
    let enter = |action: &'static str| {
        move |source: std::io::Error| Error::EnterJail {
            jail: name.to_string(),
            action,
            source,
        }
    };
    let args = cstrings(argv)?;
    let cwd = std::env::current_dir().ok();
    let ns = JailNs::open(&JailPaths::new(run.path(), name))
        .map_err(enter("cannot open its namespaces"))?;
    ns.enter()
        .map_err(|e| enter("cannot enter its namespaces")(e.into()))?;
    if ns.has_root() {
        // Its own root and process table: start at its `/`, and fork once more, since only
        // children enter a PID namespace. This process waits and passes the exit code on.
        let _ = std::env::set_current_dir("/");
        drop(ns);
        // SAFETY: `ioc exec` is single-threaded here (it has just entered a mount namespace,
        // which the kernel allows only then), so the child may run any code before exec.
        match unsafe { nix::unistd::fork() }
            .map_err(|e| enter("cannot start a process in it")(e.into()))?
        {
            nix::unistd::ForkResult::Parent { child } => {
                ignore_terminal_signals();
                std::process::exit(crate::host::linux::jail::wait_status(child.as_raw()));
            }
            nix::unistd::ForkResult::Child => {}
        }
    } else {
        // The jail shares the host's files; stay in the same directory when it is visible
        // there.
        let here = cwd.filter(|d| d.is_dir()).unwrap_or_else(|| "/".into());
        let _ = std::env::set_current_dir(here);
    }
    let err = nix::unistd::execvp(&args[0], &args).unwrap_err();
    Err(Error::ExecInJail {
        jail: name.to_string(),
        program: argv[0].clone(),
        source: err,
    })
}

/// The terminal sends ^C and ^\ to the command in the jail too; the waiting `ioc exec`
/// outlives it to report its status.
#[cfg(target_os = "linux")]
fn ignore_terminal_signals() {
    use nix::sys::signal::{signal, SigHandler, Signal};
    for sig in [Signal::SIGINT, Signal::SIGQUIT] {
        // SAFETY: SIG_IGN installs no handler code.
        let _ = unsafe { signal(sig, SigHandler::SigIgn) };
    }
}

#[cfg(not(target_os = "linux"))]
fn platform_exec(_run: &RunDir, name: &str, argv: &[String]) -> Result<Infallible> {
    let mut full = vec![
        crate::render::freebsd::JEXEC.to_string(),
        format!("ioc-{name}"),
    ];
    full.extend(argv.iter().cloned());
    let args = cstrings(&full)?;
    let err = nix::unistd::execv(&args[0], &args).unwrap_err();
    Err(Error::ExecInJail {
        jail: name.to_string(),
        program: "jexec".into(),
        source: err,
    })
}
