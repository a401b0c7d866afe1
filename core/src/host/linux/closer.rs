//! A process that holds one descriptor until it exits, made as cheaply as Linux allows.
//!
//! `clone(CLONE_VM)` without `CLONE_THREAD` makes a process of its own (it outlives the
//! caller, whose exit does not kill it) that shares the caller's memory, so nothing is
//! copied but the descriptor table, which is what it is for: its copy of the descriptor keeps
//! the socket open after the caller closed its own. It closes every other descriptor at once,
//! so it holds no pipe of the caller (a caller reading ioc's output sees its end when ioc
//! exits), and exits; its exit is what waits for the kernel.
//!
//! Sharing memory constrains the child: it runs on a stack of its own (mapped here and never
//! unmapped: the caller cannot know when the child is done with it, and there are at most a
//! few per command), reads nothing the caller may change, and makes raw system calls only,
//! none of which fails in a way that writes `errno` (it shares the caller's thread pointer).
//! Its exit signal is 0: no SIGCHLD, and no `waitpid` of ioc's (which waits for its own
//! helpers) ever sees it; when ioc exits it goes to init, which reaps it.

use std::io;
use std::os::fd::RawFd;

/// The child's stack: it makes three system calls.
const STACK: usize = 64 * 1024;

/// Starts the process that holds `keep`; returns once it exists.
pub fn spawn(keep: RawFd) -> io::Result<()> {
    if keep < 0 {
        return Err(io::Error::from_raw_os_error(libc::EBADF));
    }
    // SAFETY: an anonymous private mapping, no address requested; checked below.
    let stack = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            STACK,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK,
            -1,
            0,
        )
    };
    if stack == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `stack` maps STACK bytes, so its end is in bounds (one past the last byte); the
    // stack grows down from there on every architecture Linux runs ioc on.
    let top = unsafe { stack.cast::<u8>().add(STACK) }.cast::<libc::c_void>();
    // SAFETY: `hold` only makes raw system calls on its own stack and reads nothing but its
    // argument (the descriptor number, passed by value), so sharing the caller's memory is
    // sound; the stack stays mapped for the rest of the process's life; exit signal 0.
    let pid = unsafe {
        libc::clone(
            hold,
            top,
            libc::CLONE_VM,
            keep as usize as *mut libc::c_void,
        )
    };
    if pid == -1 {
        let e = io::Error::last_os_error();
        // SAFETY: no child runs on the stack: unmapping our own mapping.
        unsafe { libc::munmap(stack, STACK) };
        return Err(e);
    }
    Ok(())
}

/// The child: blocks every signal (a Ctrl-C to ioc's process group must not run ioc's
/// handlers in it), closes every descriptor but `keep`, and exits.
extern "C" fn hold(arg: *mut libc::c_void) -> libc::c_int {
    let keep = arg as usize as libc::c_long;
    let all: u64 = !0;
    // SAFETY: raw system calls with valid arguments: a full signal mask of the kernel's size
    // (8 bytes), no old mask asked for; descriptor ranges (close_range exists since Linux 5.9,
    // below the 5.16 the netdev egress hook needs, so it does not fail and writes no errno).
    unsafe {
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK as libc::c_long,
            &all as *const u64,
            std::ptr::null_mut::<u64>(),
            8 as libc::c_long,
        );
        if keep > 0 {
            libc::syscall(libc::SYS_close_range, 0u32, (keep - 1) as u32, 0u32);
        }
        libc::syscall(libc::SYS_close_range, (keep + 1) as u32, u32::MAX, 0u32);
        libc::syscall(libc::SYS_exit, 0 as libc::c_long);
    }
    0
}
