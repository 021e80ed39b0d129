//! The server over HTTP, against SQLite and (with `--ignored`) PostgreSQL.

// Test code may index, unwrap and panic: a failure is the point.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod audit;
mod case_oracle;
mod harness;
mod oracle;
mod registry;
mod scale;
mod scenarios;
mod shapes;
mod tokens;

use harness::Backend;

macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::scenarios::$name(super::Backend::Sqlite).await }
            )*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "needs PKGPROTECT_TEST_POSTGRES_URL; scripts/test.sh starts PostgreSQL and runs these"]
            async fn $name() { super::scenarios::$name(super::Backend::Postgres).await }
            )*
        }
    };
}

on_every_backend!(
    package_rules_crud,
    container_rules_crud_and_unset,
    parameter_and_model_errors,
    authentication_and_authorization,
    project_by_path_and_form_bodies,
    decisions_for_users_tokens_and_admins,
    decisions_are_gitlabs_whole_answer,
    decisions_see_rule_changes_at_once,
    concurrent_identical_creates_give_one_201,
    two_instances_share_one_database,
    hostile_requests_get_4xx,
    decisions_never_see_half_applied_changes,
    many_projects_decide_through_a_small_pool,
    concurrent_patches_of_different_fields_both_survive,
    concurrent_unsets_are_validated_against_each_other,
    patch_racing_delete_is_200_only_for_a_row_that_still_existed,
    schema_refuses_impossible_rules,
    checks_migration_keeps_an_existing_database,
    health_liveness_readiness_and_request_ids,
    personal_tokens_have_scopes,
    tokens_are_read_from_their_own_headers_only,
    revoked_expired_and_blocked_tokens_fail_on_every_instance,
    deploy_tokens_have_usernames_and_registry_scopes,
    gitlab_shapes_for_lists_404s_and_parameter_errors,
    delete_honours_if_unmodified_since,
    database_outage_answers_503,
    metrics_count_requests_decisions_and_the_cache,
    rule_sets_too_large_for_the_engine_are_refused_at_write_time,
    concurrent_misses_compile_once,
    rule_changes_are_audited_with_actor_before_and_after,
    concurrent_patches_are_audited_once_each,
    backup_while_writers_create_rules_is_consistent,
    a_change_is_not_stored_without_its_audit_row,
    registry_tokens_grant_per_role_and_token_kind,
    registry_protected_push_is_denied_and_delete_dropped,
    registry_bad_credentials_are_401,
    registry_instances_on_one_database_sign_with_one_key,
    registry_concurrent_first_starts_agree,
);
