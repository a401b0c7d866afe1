//! CNI mode (issue 13): the CNI properties through the real `ioc` binary, and CNI jails end to
//! end in sandbox namespaces with Debian's CNI plugins and network lists of the test's own.

mod properties;
