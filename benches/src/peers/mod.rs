//! The engines compared, each answering: is a developer's push of this npm name blocked?

pub mod cedar;
pub mod component;
pub mod native;
pub mod postgres;
pub mod regexes;

/// GitLab's developer level: the actor of every decision here.
pub const DEVELOPER: i64 = 30;
