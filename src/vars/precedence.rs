//! Variable precedence (see README).
