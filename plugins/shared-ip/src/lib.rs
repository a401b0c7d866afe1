//! shared-ip plugin
