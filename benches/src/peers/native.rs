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

    /// The scalar answer (allowed, how many rules block, the first): what the component's
    /// warm `decide` returns, so the two compare like for like.
    pub fn summarize(&self, request: &DecisionRequest) -> bool {
        self.0.summarize(request).is_ok_and(|summary| !summary.allowed)
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
