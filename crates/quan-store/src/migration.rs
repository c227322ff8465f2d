use sha2::{Digest, Sha256};

/// One schema migration. Both backends keep a folder `migrations/` whose files
/// carry the same version numbers and names; once landed a migration is never
/// edited (the checksum check at start-up refuses an edited one).
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    pub fn checksum(&self) -> String {
        hex::encode(Sha256::digest(self.sql.as_bytes()))
    }
}

/// Compares what the database says it applied with what this binary carries.
/// Returns the migrations still to apply, or an error naming the first
/// difference (an edited migration, or a database newer than this binary).
pub fn check_applied<'a>(known: &'a [Migration], applied: &[(i64, String)]) -> Result<Vec<&'a Migration>, String> {
    for (version, checksum) in applied {
        match known.iter().find(|m| m.version == *version) {
            None => {
                return Err(format!(
                    "the database has migration {version}, which this quan does not know: is it older than the one that migrated the database?"
                ));
            }
            Some(m) if m.checksum() != *checksum => {
                return Err(format!(
                    "migration {version} ({}) was changed after it was applied; landed migrations must never be edited",
                    m.name
                ));
            }
            Some(_) => {}
        }
    }
    Ok(known.iter().filter(|m| !applied.iter().any(|(v, _)| *v == m.version)).collect())
}

/// The migrations, in order: the one list both backends expand, each with
/// its own folder `$dir` (relative to the file that expands it) holding the
/// same versions and names (`0001_accounts.sql`, …). A new migration is a
/// line here and a file in each backend's folder.
#[macro_export]
macro_rules! migrations {
    ($dir:literal) => {
        &[
            $crate::Migration { version: 1, name: "accounts", sql: include_str!(concat!($dir, "/0001_accounts.sql")) },
            $crate::Migration {
                version: 2,
                name: "campaigns",
                sql: include_str!(concat!($dir, "/0002_campaigns.sql")),
            },
            $crate::Migration {
                version: 3,
                name: "merchants",
                sql: include_str!(concat!($dir, "/0003_merchants.sql")),
            },
            $crate::Migration {
                version: 4,
                name: "districts",
                sql: include_str!(concat!($dir, "/0004_districts.sql")),
            },
            $crate::Migration {
                version: 5,
                name: "eligibility",
                sql: include_str!(concat!($dir, "/0005_eligibility.sql")),
            },
            $crate::Migration { version: 6, name: "ledger", sql: include_str!(concat!($dir, "/0006_ledger.sql")) },
            $crate::Migration {
                version: 7,
                name: "idempotency",
                sql: include_str!(concat!($dir, "/0007_idempotency.sql")),
            },
            $crate::Migration { version: 8, name: "claims", sql: include_str!(concat!($dir, "/0008_claims.sql")) },
            $crate::Migration {
                version: 9,
                name: "redemptions",
                sql: include_str!(concat!($dir, "/0009_redemptions.sql")),
            },
            $crate::Migration {
                version: 10,
                name: "settlements",
                sql: include_str!(concat!($dir, "/0010_settlements.sql")),
            },
            $crate::Migration {
                version: 11,
                name: "closed_campaigns",
                sql: include_str!(concat!($dir, "/0011_closed_campaigns.sql")),
            },
            $crate::Migration {
                version: 12,
                name: "netting_and_matching",
                sql: include_str!(concat!($dir, "/0012_netting_and_matching.sql")),
            },
            $crate::Migration {
                version: 13,
                name: "report_snapshots",
                sql: include_str!(concat!($dir, "/0013_report_snapshots.sql")),
            },
            $crate::Migration {
                version: 14,
                name: "voucher_claim_index",
                sql: include_str!(concat!($dir, "/0014_voucher_claim_index.sql")),
            },
            $crate::Migration {
                version: 15,
                name: "drop_redundant_redemption_index",
                sql: include_str!(concat!($dir, "/0015_drop_redundant_redemption_index.sql")),
            },
            $crate::Migration {
                version: 16,
                name: "redemption_write_path",
                sql: include_str!(concat!($dir, "/0016_redemption_write_path.sql")),
            },
            $crate::Migration {
                version: 17,
                name: "claim_write_path",
                sql: include_str!(concat!($dir, "/0017_claim_write_path.sql")),
            },
            $crate::Migration {
                version: 18,
                name: "session_ends",
                sql: include_str!(concat!($dir, "/0018_session_ends.sql")),
            },
            $crate::Migration {
                version: 19,
                name: "identity_feed",
                sql: include_str!(concat!($dir, "/0019_identity_feed.sql")),
            },
            $crate::Migration {
                version: 20,
                name: "one_row_per_claim",
                sql: include_str!(concat!($dir, "/0020_one_row_per_claim.sql")),
            },
            $crate::Migration {
                version: 21,
                name: "list_member_feed",
                sql: include_str!(concat!($dir, "/0021_list_member_feed.sql")),
            },
            $crate::Migration {
                version: 22,
                name: "person_slot",
                sql: include_str!(concat!($dir, "/0022_person_slot.sql")),
            },
            $crate::Migration {
                version: 23,
                name: "identity_changes",
                sql: include_str!(concat!($dir, "/0023_identity_changes.sql")),
            },
            $crate::Migration {
                version: 24,
                name: "claim_district",
                sql: include_str!(concat!($dir, "/0024_claim_district.sql")),
            },
            $crate::Migration {
                version: 25,
                name: "merchant_phone_sealed",
                sql: include_str!(concat!($dir, "/0025_merchant_phone_sealed.sql")),
            },
            $crate::Migration {
                version: 26,
                name: "complaints",
                sql: include_str!(concat!($dir, "/0026_complaints.sql")),
            },
            $crate::Migration {
                version: 27,
                name: "campaign_deleted",
                sql: include_str!(concat!($dir, "/0027_campaign_deleted.sql")),
            },
            $crate::Migration {
                version: 28,
                name: "grab_seconds",
                sql: include_str!(concat!($dir, "/0028_grab_seconds.sql")),
            },
            $crate::Migration {
                version: 29,
                name: "risk_at_the_grab",
                sql: include_str!(concat!($dir, "/0029_risk_at_the_grab.sql")),
            },
            $crate::Migration {
                version: 30,
                name: "voucher_freezes",
                sql: include_str!(concat!($dir, "/0030_voucher_freezes.sql")),
            },
            $crate::Migration {
                version: 31,
                name: "risk_holds",
                sql: include_str!(concat!($dir, "/0031_risk_holds.sql")),
            },
            $crate::Migration {
                version: 32,
                name: "risk_cases",
                sql: include_str!(concat!($dir, "/0032_risk_cases.sql")),
            },
            $crate::Migration { version: 33, name: "partners", sql: include_str!(concat!($dir, "/0033_partners.sql")) },
            $crate::Migration { version: 34, name: "webhooks", sql: include_str!(concat!($dir, "/0034_webhooks.sql")) },
            $crate::Migration {
                version: 35,
                name: "partner_bindings",
                sql: include_str!(concat!($dir, "/0035_partner_bindings.sql")),
            },
            $crate::Migration {
                version: 36,
                name: "partner_refunds",
                sql: include_str!(concat!($dir, "/0036_partner_refunds.sql")),
            },
            $crate::Migration {
                version: 37,
                name: "claim_channels",
                sql: include_str!(concat!($dir, "/0037_claim_channels.sql")),
            },
            $crate::Migration {
                version: 38,
                name: "partner_orders_redemption",
                sql: include_str!(concat!($dir, "/0038_partner_orders_redemption.sql")),
            },
        ]
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Migration = Migration { version: 1, name: "init", sql: "CREATE TABLE a (x INT);" };
    const B: Migration = Migration { version: 2, name: "more", sql: "CREATE TABLE b (x INT);" };

    #[test]
    fn only_migrations_not_yet_applied_are_returned_in_order() {
        let todo = check_applied(&[A, B], &[(1, A.checksum())]).unwrap_or_default();
        assert_eq!(todo.iter().map(|m| m.version).collect::<Vec<_>>(), vec![2]);
    }

    #[test]
    fn an_edited_migration_is_refused() {
        let err = check_applied(&[A, B], &[(1, "0000".into())]).err().unwrap_or_default();
        assert!(err.contains("was changed"), "{err}");
    }

    #[test]
    fn a_database_newer_than_the_binary_is_refused() {
        let err = check_applied(&[A], &[(1, A.checksum()), (2, B.checksum())]).err().unwrap_or_default();
        assert!(err.contains("does not know"), "{err}");
    }
}
