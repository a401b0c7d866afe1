//! NAT mode (issue 12): the NAT properties through the real `ioc` binary.

mod properties;
