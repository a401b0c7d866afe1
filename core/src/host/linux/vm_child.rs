//! Starting a helper process that shares ioc's memory instead of copying it: the namespace
//! helpers of a start (see `jail::pin`) and the processes that hold a descriptor past ioc's
//! exit (see `detached`).
//!
//! A `fork` copies the page tables of ioc's whole address space (the binary, the plugins each
//! worker loaded, the heap) and then makes every write of the parent's other threads fault until
//! the child has gone: in a bulk start of 1,000 jails that was a fifth of all CPU time, and
//! glibc's `fork` holds every malloc arena's lock meanwhile, so the other workers waited to
//! allocate. A helper only makes raw syscalls on data prepared before it starts, so it does not
//! need a copy: `clone(CLONE_VM)` runs it in ioc's memory on a stack of its own, and costs the
//! same whatever ioc's size. It still has its own file table, file-system context and
//! namespaces, which is all `unshare` and `setns` look at.
//!
//! What sharing memory asks of the helper, on top of what `pin::child_main` already keeps to
//! (no allocation, no lock, raw syscalls only): it runs with every signal blocked (a handler of
//! ioc's would run on its small stack, in ioc's memory), and it shares the calling thread's
//! thread-local storage, so the only thread-local it may touch is `errno`, which the calling
//! thread does not read while it waits for the helper's report on the pipe. Its stack must
//! outlive it: [`spawn`] hands it back with the child's pid, to keep until the child is reaped
//! (see `reap`); stacks are then reused, so a bulk start maps only as many as run at once.

use std::ffi::c_void;
use std::io;
use std::sync::Mutex;

use nix::unistd::Pid;

/// The helper's stack: plenty for `child_main`, which keeps a few words per frame; pages never
/// touched cost nothing.
const STACK_SIZE: usize = 256 * 1024;

/// One page without access below the stack, so an overflow faults instead of writing over
/// whatever lies below.
const GUARD: usize = 4096;

/// A helper's stack, mapped for it (with [`GUARD`] at the bottom) and unmapped on drop.
pub(crate) struct Stack {
    base: *mut c_void,
}

// SAFETY: a `Stack` owns its mapping exclusively (nothing else holds its address once the child
// using it is reaped), so it can be moved to, and dropped on, another thread.
unsafe impl Send for Stack {}

impl Stack {
    fn map() -> io::Result<Stack> {
        // SAFETY: a fresh anonymous private mapping at an address the kernel picks: it aliases
        // no Rust object.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                STACK_SIZE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let stack = Stack { base };
        // SAFETY: the lowest page of the mapping just made, which nothing uses yet.
        if unsafe { libc::mprotect(base, GUARD, libc::PROT_NONE) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(stack)
    }

    /// The initial stack pointer: the top of the mapping (the stack grows down), 16-aligned.
    fn top(&self) -> *mut c_void {
        // SAFETY: one past the end of the mapping, which is STACK_SIZE bytes long (page
        // aligned, so 16-aligned).
        unsafe { self.base.cast::<u8>().add(STACK_SIZE).cast() }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping this `Stack` made and owns; no child runs on it
        // any more (see [`give_back`]).
        unsafe { libc::munmap(self.base, STACK_SIZE) };
    }
}

/// Stacks whose helpers have been reaped, for the next helpers.
static FREE: Mutex<Vec<Stack>> = Mutex::new(Vec::new());

fn free() -> std::sync::MutexGuard<'static, Vec<Stack>> {
    FREE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Returns the stack of a helper that has been reaped (so it runs no more) for reuse.
pub(crate) fn give_back(stack: Stack) {
    free().push(stack);
}

/// What a helper needs, alive until it is reaped: its stack, and the data its body reads.
pub(crate) struct Running {
    stack: Option<Stack>,
    _call: Box<dyn std::any::Any + Send>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stack) = self.stack.take() {
            give_back(stack);
        }
    }
}

/// A helper's body and the data it reads, boxed so that they stay where they are.
struct Call<T> {
    body: fn(&T) -> libc::c_int,
    data: T,
}

extern "C" fn trampoline<T>(arg: *mut c_void) -> libc::c_int {
    // SAFETY: `arg` is the boxed `Call<T>` that `spawn` passed to clone, which the returned
    // `Running` keeps alive (and unchanged) until the helper has been reaped.
    let call = unsafe { &*arg.cast::<Call<T>>() };
    // glibc's clone ends the process with the returned code once this returns.
    (call.body)(&call.data)
}

/// Starts `body(&data)` in a new process sharing this one's memory, with every signal blocked
/// and `SIGCHLD` on its exit. Returns its pid and what it runs on, which the caller must keep
/// until the child has been reaped (dropping it earlier pulls the stack from under the child).
///
/// # Safety
/// `body` runs concurrently with the caller, in the caller's memory and with the calling
/// thread's thread-local storage: it may only make raw syscalls on `data` (and on what `data`
/// owns), must not allocate, lock, panic or touch any thread-local but `errno`, and the caller
/// must not rely on its own `errno` while the child may write it.
pub(crate) unsafe fn spawn<T: Send + 'static>(
    data: T,
    body: fn(&T) -> libc::c_int,
) -> io::Result<(Pid, Running)> {
    let stack = match free().pop() {
        Some(stack) => stack,
        None => Stack::map()?,
    };
    let call = Box::new(Call { body, data });
    // SAFETY: the caller keeps to `body`'s rules (this function's contract); `stack` and
    // `call` go to the returned `Running`, kept until the child is reaped.
    match unsafe { clone_on(&stack, &call, libc::SIGCHLD) } {
        Ok(pid) => Ok((
            Pid::from_raw(pid),
            Running {
                stack: Some(stack),
                _call: call,
            },
        )),
        Err(e) => {
            give_back(stack);
            Err(e)
        }
    }
}

/// Starts `body(&data)` like [`spawn`], but as a process nobody waits for: no exit signal, so
/// no `waitpid` of ioc's (which waits for its own helpers) ever sees it, and when ioc exits
/// it goes to init, which reaps it. Its stack and data are never freed, since nothing tells
/// when it is done with them: for the few such processes a command starts (see `detached`).
///
/// # Safety
/// As for [`spawn`].
pub(crate) unsafe fn spawn_unreaped<T: Send + 'static>(
    data: T,
    body: fn(&T) -> libc::c_int,
) -> io::Result<()> {
    let stack = match free().pop() {
        Some(stack) => stack,
        None => Stack::map()?,
    };
    let call = Box::new(Call { body, data });
    // SAFETY: the caller keeps to `body`'s rules; on success both are leaked below, so they
    // outlive the child.
    match unsafe { clone_on(&stack, &call, 0) } {
        Ok(_) => {
            std::mem::forget(stack);
            std::mem::forget(call);
            Ok(())
        }
        Err(e) => {
            give_back(stack);
            Err(e)
        }
    }
}

/// The clone both spawns share: `call` run on `stack` in a new process sharing this one's
/// memory, with every signal blocked (a handler of ioc's would run on the small stack, in
/// ioc's memory) and `exit_signal` sent on its exit. Returns its pid.
///
/// # Safety
/// `stack` must be unused, and `stack` and `call` must outlive the child; `call.body` keeps to
/// the rules of [`spawn`].
unsafe fn clone_on<T>(
    stack: &Stack,
    call: &Call<T>,
    exit_signal: libc::c_int,
) -> io::Result<libc::c_int> {
    let arg: *const Call<T> = call;
    // SAFETY: sigset_t is a plain bit array; all zeroes is a valid value, filled right after.
    let mut all: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: as above, for the mask saved by pthread_sigmask.
    let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: both calls only write the live local sets given to them.
    unsafe {
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
    }
    // SAFETY: the stack is unused and `top` is its upper end; `call` outlives the child (this
    // function's contract), and `trampoline` only reads it. Without CLONE_VFORK the caller goes
    // on while the child runs; without CLONE_FILES, CLONE_FS or CLONE_SIGHAND the child has its
    // own file table, file-system context and signal handlers.
    let pid = unsafe {
        libc::clone(
            trampoline::<T>,
            stack.top(),
            libc::CLONE_VM | exit_signal,
            arg.cast_mut().cast(),
        )
    };
    let error = io::Error::last_os_error();
    // SAFETY: restores this thread's own mask from the live local saved above.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut()) };
    if pid < 0 {
        return Err(error);
    }
    Ok(pid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::wait::{waitpid, WaitStatus};

    fn write_byte(fd: &libc::c_int) -> libc::c_int {
        // SAFETY: writes one byte from a string literal to a pipe fd the test keeps open.
        let written = unsafe { libc::write(*fd, c"x".as_ptr().cast(), 1) };
        if written == 1 {
            7
        } else {
            1
        }
    }

    #[test]
    fn a_helper_runs_in_our_memory_exits_with_its_code_and_leaves_its_stack_for_reuse() {
        let mut fds = [0; 2];
        // SAFETY: pipe writes two fds into a live array of two c_ints.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: the body makes one raw syscall on its own data (an fd number).
        let (pid, running) = unsafe { spawn(fds[1], write_byte) }.unwrap();
        let mut byte = 0u8;
        // SAFETY: reads one byte into a live local from the pipe's read end.
        let read = unsafe { libc::read(fds[0], (&mut byte as *mut u8).cast(), 1) };
        assert_eq!(read, 1);
        assert_eq!(byte, b'x');
        assert_eq!(waitpid(pid, None).unwrap(), WaitStatus::Exited(pid, 7));
        let base = running.stack.as_ref().unwrap().base;
        drop(running);
        assert!(
            free().iter().any(|s| s.base == base),
            "the stack goes back to the pool"
        );
        for fd in fds {
            // SAFETY: closes the pipe this test made.
            unsafe { libc::close(fd) };
        }
    }
}
