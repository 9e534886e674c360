//! SSH transport (see issue: SSH transport).
