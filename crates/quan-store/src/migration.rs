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
