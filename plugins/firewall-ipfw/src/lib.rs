//! firewall-ipfw plugin
