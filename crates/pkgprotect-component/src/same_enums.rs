// The WIT enums and the core's have the same variants: one table, included by the guest
// (`convert.rs` here) and by the host crate (`pkgprotect-host/src/convert.rs`), each with
// its own bindings' types as `wit` and the core crate as `core`.

macro_rules! same_enum {
    ($to_core:ident, $to_wit:ident, $wit:ty, $core:ty, [$($variant:ident),* $(,)?]) => {
        #[allow(dead_code)]
        pub fn $to_core(value: $wit) -> $core {
            match value { $(<$wit>::$variant => <$core>::$variant),* }
        }
        #[allow(dead_code)]
        pub fn $to_wit(value: $core) -> $wit {
            match value { $(<$core>::$variant => <$wit>::$variant),* }
        }
    };
}

same_enum!(
    core_level,
    wit_level,
    wit::AccessLevel,
    core::AccessLevel,
    [NoAccess, MinimalAccess, Guest, Planner, Reporter, Developer, Maintainer, Owner, Admin]
);
same_enum!(
    core_package_type,
    wit_package_type,
    wit::PackageType,
    core::PackageType,
    [Cargo, Conan, Generic, Helm, Maven, Npm, Nuget, Pypi, TerraformModule]
);
same_enum!(core_action, wit_action, wit::Action, core::Action, [Push, Delete]);
same_enum!(core_kind, wit_kind, wit::RuleKind, core::RuleKind, [Package, ContainerRepository]);
