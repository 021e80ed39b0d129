//! GitLab's way: a `packages_protection_rules` table shaped as GitLab's, 50,000 rows of
//! other projects around the project's rules, and GitLab's push query as a prepared statement.

use super::DEVELOPER;
use crate::workload::Workload;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

pub struct Postgres {
    pool: PgPool,
}

const PROJECT: i64 = 1;
const NPM: i16 = 2;

impl Postgres {
    pub async fn connect(url: &str) -> Postgres {
        let pool = PgPoolOptions::new().max_connections(1).connect(url).await.unwrap();
        for statement in [
            "DROP TABLE IF EXISTS packages_protection_rules",
            "CREATE TABLE packages_protection_rules (id bigserial PRIMARY KEY, project_id bigint NOT NULL, \
             created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(), \
             package_type smallint NOT NULL, minimum_access_level_for_push smallint, \
             minimum_access_level_for_delete smallint, package_name_pattern text NOT NULL)",
            "CREATE UNIQUE INDEX i_packages_unique_project_id_package_type_package_name_pattern \
             ON packages_protection_rules (project_id, package_type, package_name_pattern)",
            // 50,000 rules of 1,000 other projects, as a busy instance has.
            "INSERT INTO packages_protection_rules (project_id, package_type, minimum_access_level_for_push, package_name_pattern) \
             SELECT 1000 + g / 50, 2, 40, '@other-' || g || '/*' FROM generate_series(1, 50000) g",
        ] {
            sqlx::query(statement).execute(&pool).await.unwrap();
        }
        Postgres { pool }
    }

    /// Replace project 1's rules with the workload's.
    pub async fn load(&self, work: &Workload) {
        sqlx::query("DELETE FROM packages_protection_rules WHERE project_id = $1")
            .bind(PROJECT)
            .execute(&self.pool)
            .await
            .unwrap();
        for chunk in work.rules.chunks(1000) {
            let patterns: Vec<&str> = chunk.iter().map(|(p, _)| p.as_str()).collect();
            let levels: Vec<i16> = chunk.iter().map(|(_, l)| i16::from(l.value())).collect();
            sqlx::query(
                "INSERT INTO packages_protection_rules (project_id, package_type, package_name_pattern, minimum_access_level_for_push) \
                 SELECT $1, $2, p, l FROM unnest($3::text[], $4::smallint[]) AS t(p, l)",
            )
            .bind(PROJECT)
            .bind(NPM)
            .bind(&patterns)
            .bind(&levels)
            .execute(&self.pool)
            .await
            .unwrap();
        }
        sqlx::query("ANALYZE packages_protection_rules").execute(&self.pool).await.unwrap();
    }

    /// `for_action_exists?` for push: GitLab's query, prepared (sqlx caches the statement).
    pub async fn blocked(&self, name: &str) -> bool {
        sqlx::query_scalar::<_, bool>(
            "SELECT EXISTS (SELECT 1 FROM packages_protection_rules WHERE project_id = $1 AND package_type = $2 \
             AND $3 ILIKE REPLACE(REPLACE(REPLACE(package_name_pattern, '%', '\\%'), '_', '\\_'), '*', '%') \
             AND $4 < minimum_access_level_for_push)",
        )
        .bind(PROJECT)
        .bind(NPM)
        .bind(name)
        .bind(DEVELOPER as i16)
        .fetch_one(&self.pool)
        .await
        .unwrap()
    }
}
