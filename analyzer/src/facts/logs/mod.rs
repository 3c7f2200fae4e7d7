//! What the bundle's logs say: the log families and what a hit of each means, whose log each
//! scanned log is, the hits of a family per subject, the 5-minute windows and the error
//! timeline, the levels of kept lines, database pods and errors, the Services a pod depends on,
//! and the hints that make a family's suggestion concrete.

pub(crate) mod database;
pub(crate) mod dependencies;
pub(crate) mod families;
pub(crate) mod hints;
pub(crate) mod level;
pub(crate) mod patterns;
pub(crate) mod recency;
pub(crate) mod sources;
pub(crate) mod windows;
