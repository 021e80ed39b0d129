//! Cedar: one `forbid` policy per rule, with the level condition, plus one `permit`.
//! Cedar's `like` is case-sensitive where GitLab's ILIKE is not, so names and patterns are
//! lowered first (generated patterns hold no `\`, `%` or `_` surprises).

use super::DEVELOPER;
use crate::workload::Workload;
use cedar_policy::{Authorizer, Context, Decision, Entities, EntityUid, PolicySet, Request};
use std::str::FromStr;

pub struct Cedar {
    policies: PolicySet,
    authorizer: Authorizer,
    principal: EntityUid,
    action: EntityUid,
    resource: EntityUid,
}

impl Cedar {
    pub fn new(work: &Workload) -> Cedar {
        let mut text = String::from("permit(principal, action, resource);\n");
        for (pattern, minimum) in &work.rules {
            let like = pattern.to_lowercase().replace('"', "\\\"");
            text.push_str(&format!(
                "forbid(principal, action == Action::\"push\", resource) when {{ context.package_type == \"npm\" && context.name like \"{like}\" && context.level < {} }};\n",
                minimum.value()
            ));
        }
        Cedar {
            policies: PolicySet::from_str(&text).unwrap(),
            authorizer: Authorizer::new(),
            principal: EntityUid::from_str("User::\"developer\"").unwrap(),
            action: EntityUid::from_str("Action::\"push\"").unwrap(),
            resource: EntityUid::from_str("Package::\"p\"").unwrap(),
        }
    }

    pub fn blocked(&self, name: &str) -> bool {
        let context = Context::from_pairs([
            ("name".to_owned(), cedar_policy::RestrictedExpression::new_string(name.to_lowercase())),
            ("package_type".to_owned(), cedar_policy::RestrictedExpression::new_string("npm".into())),
            ("level".to_owned(), cedar_policy::RestrictedExpression::new_long(DEVELOPER)),
        ])
        .unwrap();
        let request =
            Request::new(self.principal.clone(), self.action.clone(), self.resource.clone(), context, None).unwrap();
        self.authorizer.is_authorized(&request, &self.policies, &Entities::empty()).decision() == Decision::Deny
    }
}
