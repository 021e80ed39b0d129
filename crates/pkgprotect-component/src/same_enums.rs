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
same_enum!(
    core_field,
    wit_field,
    wit::Field,
    core::Field,
    [
        Base,
        PackageNamePattern,
        PackageType,
        RepositoryPathPattern,
        MinimumAccessLevelForPush,
        MinimumAccessLevelForDelete,
        MinimumAccessLevels
    ]
);
same_enum!(
    core_finding_kind,
    wit_finding_kind,
    wit::FindingKind,
    core::FindingKind,
    [
        DuplicatePattern,
        EquivalentPatterns,
        SubsumedRule,
        RestrictsNothing,
        TrailingEscape,
        SurprisingEscape,
        LiteralWildcardLookalike,
        PypiSeparators
    ]
);
same_enum!(core_offset_unit, wit_offset_unit, wit::OffsetUnit, core::OffsetUnit, [Utf8Bytes, Utf16CodeUnits, CodePoints]);

// The WIT's target kind is flat (one enum of package types and container repository), the
// core's nests the package type; the two tables below are the whole correspondence.
#[allow(dead_code)]
pub fn core_target_kind(kind: wit::TargetKind) -> core::TargetKind {
    use core::{PackageType as P, TargetKind as K};
    match kind {
        wit::TargetKind::Cargo => K::Package(P::Cargo),
        wit::TargetKind::Conan => K::Package(P::Conan),
        wit::TargetKind::Generic => K::Package(P::Generic),
        wit::TargetKind::Helm => K::Package(P::Helm),
        wit::TargetKind::Maven => K::Package(P::Maven),
        wit::TargetKind::Npm => K::Package(P::Npm),
        wit::TargetKind::Nuget => K::Package(P::Nuget),
        wit::TargetKind::Pypi => K::Package(P::Pypi),
        wit::TargetKind::TerraformModule => K::Package(P::TerraformModule),
        wit::TargetKind::ContainerRepository => K::ContainerRepository,
    }
}

#[allow(dead_code)]
pub fn wit_target_kind(kind: core::TargetKind) -> wit::TargetKind {
    use core::{PackageType as P, TargetKind as K};
    match kind {
        K::Package(P::Cargo) => wit::TargetKind::Cargo,
        K::Package(P::Conan) => wit::TargetKind::Conan,
        K::Package(P::Generic) => wit::TargetKind::Generic,
        K::Package(P::Helm) => wit::TargetKind::Helm,
        K::Package(P::Maven) => wit::TargetKind::Maven,
        K::Package(P::Npm) => wit::TargetKind::Npm,
        K::Package(P::Nuget) => wit::TargetKind::Nuget,
        K::Package(P::Pypi) => wit::TargetKind::Pypi,
        K::Package(P::TerraformModule) => wit::TargetKind::TerraformModule,
        K::ContainerRepository => wit::TargetKind::ContainerRepository,
    }
}
