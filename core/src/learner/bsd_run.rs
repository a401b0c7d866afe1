//! The FreeBSD learner's life: attach bpf to the port, say so, learn until the port is gone
//! or the host ends it (SIGTERM), then delete everything it added.

use std::ffi::CString;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};

use super::bpf::Wanted;
use super::bpf_device::{Bpf, BpfError, Side};
use super::bsd::{BsdConfig, Direction, Learner};
use super::freebsd_sink::ProcessRunner;
use crate::render::freebsd::learn::SinkError;

/// Why a learner stopped.
#[derive(Debug, thiserror::Error)]
pub enum BsdLearnError {
    #[error("port {0} does not exist")]
    NoPort(String),
    #[error(transparent)]
    Sink(#[from] SinkError),
    #[error(transparent)]
    Bpf(#[from] BpfError),
    #[error("bpf on {port}: {source}")]
    Read { port: String, source: io::Error },
    #[error("install the signal handler: {0}")]
    Signal(nix::Error),
}

/// Set by SIGTERM or SIGINT: the learner cleans up and exits.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_stop(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// Runs the learner: attaches bpf, calls `ready`, then learns until the port is gone or a
/// stop signal comes (`Ok`), and deletes what it added either way once `ready` was called.
pub fn run(config: &BsdConfig, ready: impl FnOnce(&'static str)) -> Result<(), BsdLearnError> {
    let index = ifindex(&config.port).ok_or_else(|| BsdLearnError::NoPort(config.port.clone()))?;
    let mut learner = Learner::new(config.clone(), ProcessRunner)?;
    let mut descriptors = vec![(
        Direction::TowardJail,
        Bpf::open(
            &config.port,
            Side::Sent,
            Wanted::toward_jail(config.dhcp4, config.slaac),
        )?,
    )];
    if config.dhcp4 {
        let from_jail = Bpf::open(&config.port, Side::Received, Wanted::from_jail())?;
        descriptors.push((Direction::FromJail, from_jail));
    }
    catch_stop_signals()?;
    ready("bpf");
    let result = learn(config, index, &mut learner, &mut descriptors);
    learner.finish();
    result
}

/// The loop: wait for frames or the next expiry, whichever comes first, and check the port
/// at least every [`super::bsd::PORT_CHECK`].
fn learn(
    config: &BsdConfig,
    index: u32,
    learner: &mut Learner<ProcessRunner>,
    descriptors: &mut [(Direction, Bpf)],
) -> Result<(), BsdLearnError> {
    let read_error = |source| BsdLearnError::Read {
        port: config.port.clone(),
        source,
    };
    while !STOP.load(Ordering::SeqCst) {
        let timeout = learner.wait(Instant::now());
        let mut fds: Vec<libc::pollfd> = descriptors
            .iter()
            .map(|(_, bpf)| libc::pollfd {
                fd: bpf.fd(),
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        // Rounded up: a wake-up before the expiry would only loop again.
        let ms =
            libc::c_int::try_from(timeout.as_micros().div_ceil(1000)).unwrap_or(libc::c_int::MAX);
        // SAFETY: `fds` is a vector of valid pollfds, its length passed with it.
        if unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) } < 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(read_error(e));
            }
        }
        for (poll, (direction, bpf)) in fds.iter().zip(descriptors.iter_mut()) {
            if poll.revents == 0 {
                continue;
            }
            let now = Instant::now();
            let attached = bpf
                .read(|frame| learner.frame(*direction, frame, now))
                .map_err(read_error)?;
            if !attached {
                tracing::info!(port = %config.port, "port is gone, learner exits");
                return Ok(());
            }
        }
        learner.tick(Instant::now());
        if ifindex(&config.port) != Some(index) {
            tracing::info!(port = %config.port, "port is gone, learner exits");
            return Ok(());
        }
    }
    tracing::info!(port = %config.port, "stopped, learner exits");
    Ok(())
}

/// Stop signals set [`STOP`] instead of ending the process, so the learner can delete what it
/// added; without `SA_RESTART`, they also end a waiting poll.
fn catch_stop_signals() -> Result<(), BsdLearnError> {
    let action = SigAction::new(
        SigHandler::Handler(on_stop),
        SaFlags::empty(),
        SigSet::empty(),
    );
    for signal in [Signal::SIGTERM, Signal::SIGINT] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe { sigaction(signal, &action) }.map_err(BsdLearnError::Signal)?;
    }
    // The learner lives as long as the jail, not as the terminal that started it.
    let ignore = SigAction::new(SigHandler::SigIgn, SaFlags::empty(), SigSet::empty());
    // SAFETY: ignoring a signal installs no handler.
    unsafe { sigaction(Signal::SIGHUP, &ignore) }.map_err(BsdLearnError::Signal)?;
    Ok(())
}

/// The interface index of `name`; a destroyed port, or another interface that took its name,
/// has none or another.
fn ifindex(name: &str) -> Option<u32> {
    let name = CString::new(name).ok()?;
    // SAFETY: `name` is a valid NUL-terminated string for the duration of the call.
    let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
    (index != 0).then_some(index)
}
