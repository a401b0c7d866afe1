//! firewall-pf plugin
