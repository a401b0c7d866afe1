//! A bpf(4) descriptor on one interface, one direction (FreeBSD): opened, configured, locked,
//! and read into whole frames.

use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::fd::{AsRawFd, RawFd};

use super::bpf::{program, records, Insn, Layout, Wanted};

// Not in the libc crate for FreeBSD, from <net/bpf.h>:
//   #define BIOCSDIRECTION _IOW('B', 119, u_int)
//   #define BIOCLOCK       _IO('B', 122)
//   enum bpf_direction { BPF_D_IN, BPF_D_INOUT, BPF_D_OUT };
// and from <net/dlt.h>: #define DLT_EN10MB 1.
nix::ioctl_write_ptr!(bioc_set_direction, b'B', 119, libc::c_uint);
nix::ioctl_none!(bioc_lock, b'B', 122);
const BPF_D_IN: libc::c_uint = 0;
const BPF_D_OUT: libc::c_uint = 2;
const DLT_EN10MB: libc::c_uint = 1;

// The rest the libc crate has.
nix::ioctl_readwrite_bad!(bioc_set_buffer_len, libc::BIOCSBLEN, libc::c_uint);
nix::ioctl_read_bad!(bioc_get_buffer_len, libc::BIOCGBLEN, libc::c_uint);
nix::ioctl_write_ptr_bad!(bioc_set_interface, libc::BIOCSETIF, libc::ifreq);
nix::ioctl_write_ptr_bad!(bioc_immediate, libc::BIOCIMMEDIATE, libc::c_uint);
nix::ioctl_read_bad!(bioc_get_link_type, libc::BIOCGDLT, libc::c_uint);
nix::ioctl_write_ptr_bad!(bioc_set_filter, libc::BIOCSETF, libc::bpf_program);

/// The read buffer asked for: DHCP replies and RAs are small, but a burst of them should fit.
const BUFFER: libc::c_uint = 64 * 1024;

/// Which frames of the interface a descriptor sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Frames the interface sends (for the jail's port: toward the jail).
    Sent,
    /// Frames the interface receives (from the jail).
    Received,
}

/// One open, configured bpf descriptor.
pub struct Bpf {
    file: File,
    buffer: Vec<u8>,
}

/// What failed while setting a descriptor up.
#[derive(Debug, thiserror::Error)]
#[error("bpf on {interface}: {step}: {source}")]
pub struct BpfError {
    pub interface: String,
    pub step: &'static str,
    pub source: io::Error,
}

impl Bpf {
    /// Opens `/dev/bpf` (a cloning device: each open is a new descriptor) on `interface`, for
    /// the frames of `side` that `wanted` passes, and locks the descriptor so that nothing
    /// the learner later does can change that.
    pub fn open(interface: &str, side: Side, wanted: Wanted) -> Result<Bpf, BpfError> {
        let fail = |step| {
            move |source: io::Error| BpfError {
                interface: interface.to_string(),
                step,
                source,
            }
        };
        let errno = |step| move |e: nix::Error| fail(step)(io::Error::from(e));
        let file = OpenOptions::new()
            .read(true)
            .open("/dev/bpf")
            .map_err(fail("open /dev/bpf"))?;
        let fd = file.as_raw_fd();
        let request = interface_request(interface).map_err(fail("interface name"))?;
        let mut length = BUFFER;
        let direction = match side {
            Side::Sent => BPF_D_OUT,
            Side::Received => BPF_D_IN,
        };
        let mut insns: Vec<libc::bpf_insn> = program(wanted).into_iter().map(insn).collect();
        let filter = libc::bpf_program {
            bf_len: insns.len() as libc::c_uint,
            bf_insns: insns.as_mut_ptr(),
        };
        let mut link_type: libc::c_uint = 0;
        let one: libc::c_uint = 1;
        // SAFETY: `fd` is the open bpf descriptor `file` owns, and each pointer is to a live
        // local of the type the request takes (<net/bpf.h>); the kernel copies in or out and
        // keeps no pointer after the call. The buffer length must be set before the interface.
        unsafe {
            bioc_set_buffer_len(fd, &mut length).map_err(errno("BIOCSBLEN"))?;
            bioc_set_interface(fd, &request).map_err(errno("BIOCSETIF"))?;
            bioc_get_link_type(fd, &mut link_type).map_err(errno("BIOCGDLT"))?;
            bioc_get_buffer_len(fd, &mut length).map_err(errno("BIOCGBLEN"))?;
            bioc_immediate(fd, &one).map_err(errno("BIOCIMMEDIATE"))?;
            bioc_set_direction(fd, &direction).map_err(errno("BIOCSDIRECTION"))?;
            bioc_set_filter(fd, &filter).map_err(errno("BIOCSETF"))?;
            bioc_lock(fd).map_err(errno("BIOCLOCK"))?;
        }
        if link_type != DLT_EN10MB {
            return Err(fail("BIOCGDLT")(io::Error::other(format!(
                "link type {link_type}, not Ethernet"
            ))));
        }
        Ok(Bpf {
            file,
            buffer: vec![0; length as usize],
        })
    }

    /// Reads what is there (a read must ask for the whole buffer length) and calls `frame`
    /// for each captured frame. `Ok(false)`: the interface is gone (bpf detached, ENXIO).
    pub fn read(&mut self, mut frame: impl FnMut(&[u8])) -> io::Result<bool> {
        let n = match self.file.read(&mut self.buffer) {
            Ok(n) => n,
            Err(e) if e.raw_os_error() == Some(libc::ENXIO) => return Ok(false),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(true),
            Err(e) => return Err(e),
        };
        for bytes in records(&self.buffer[..n], Layout::native()) {
            frame(bytes);
        }
        Ok(true)
    }

    pub fn fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }
}

fn insn(i: Insn) -> libc::bpf_insn {
    libc::bpf_insn {
        code: i.code,
        jt: i.jt,
        jf: i.jf,
        k: i.k,
    }
}

/// A `struct ifreq` naming `interface`, the rest zero.
fn interface_request(interface: &str) -> io::Result<libc::ifreq> {
    let name = CString::new(interface).map_err(io::Error::other)?;
    let bytes = name.as_bytes_with_nul();
    // SAFETY: ifreq is plain old data (a name array and a union of integers, addresses and
    // pointers), for which all-zero bytes are a valid value.
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    if bytes.len() > request.ifr_name.len() {
        return Err(io::Error::other(format!(
            "{interface:?} is longer than IFNAMSIZ"
        )));
    }
    for (slot, &b) in request.ifr_name.iter_mut().zip(bytes) {
        *slot = b as libc::c_char;
    }
    Ok(request)
}
