//! The test build's fault injection (feature `fault-injection`, wasm32 only): the
//! `pkgprotect:fault/faults` export of `wit-fault/fault.wit`, which breaks a core invariant
//! in every rule set the instance compiles afterwards. Never part of `target/pkgprotect.wasm`.

use bindings::exports::pkgprotect::fault::faults;
use pkgprotect::{Invariant, RuleSet};
use std::cell::Cell;

// wit-bindgen's generated glue is the only `unsafe` here, as in the guest's own bindings.
#[allow(unsafe_code)]
mod bindings {
    wit_bindgen::generate!({ world: "fault-injection", path: "wit-fault" });
    use super::Faults;
    export!(Faults);
}

thread_local! {
    /// The invariant that rule sets compiled from now on are broken in. Per instance: every
    /// instance starts from the module's initial memory, so a host's other instances (and
    /// the next test's) start intact.
    static BROKEN: Cell<Option<Invariant>> = const { Cell::new(None) };
}

#[derive(Debug)]
pub struct Faults;

impl faults::Guest for Faults {
    fn inject(invariant: String) -> Result<(), String> {
        let Some(&found) = Invariant::ALL.iter().find(|known| format!("{known:?}") == invariant) else {
            return Err(format!("no invariant is named `{invariant}`; the core's are {:?}", Invariant::ALL));
        };
        // Ask the core whether this invariant is data a set holds (`inject_fault` says so),
        // rather than keeping a second list here; an empty set has every kind of that data.
        let injectable = RuleSet::new(Vec::new()).is_ok_and(|mut probe| probe.inject_fault(found));
        if !injectable {
            return Err(format!("{invariant} is not data a rule set holds; nothing to break"));
        }
        BROKEN.set(Some(found));
        Ok(())
    }
}

/// `set`, broken as the last `inject` asked (unchanged before any): applied to every rule
/// set `engine.rule-set.compile` makes.
pub(crate) fn apply(mut set: RuleSet) -> RuleSet {
    if let Some(invariant) = BROKEN.get() {
        set.inject_fault(invariant);
    }
    set
}
