use crate::workload::Workload;
use pkgprotect::{AccessLevel, Action, Actor, DecisionRequest, PackageType, RuleSet, Target};

pub struct Native(RuleSet);

impl Native {
    pub fn new(work: &Workload) -> Native {
        Native(RuleSet::new(work.core_rules()).unwrap())
    }

    /// The full decision (blocking rule ids, reason), not just a yes/no.
    pub fn decide(&self, request: &DecisionRequest) -> bool {
        !self.0.decide(request).unwrap().allowed
    }

    pub fn blocked(&self, name: &str) -> bool {
        self.decide(&request(name))
    }
}

/// A developer's push of the npm package `name`.
pub fn request(name: &str) -> DecisionRequest {
    DecisionRequest {
        target: Target::Package { name: name.to_owned(), package_type: PackageType::Npm },
        action: Action::Push,
        actor: Actor::User { access_level: AccessLevel::Developer },
    }
}
