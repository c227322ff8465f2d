//! What an import of boundaries would do, before it is done: each feature,
//! whether it is in the official's region, and whether it is new or replaces
//! a stored boundary (and which version). Nothing is stored.

use quan_domain::Role;
use quan_store::DistrictBoundary;

use crate::Engine;
use crate::auth::Actor;
use crate::districts::{DistrictError, parse_geojson};

/// One feature of a file to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewRow {
    pub code: String,
    pub name: String,
    /// Outside the official's region: it would be refused.
    pub outside: bool,
    /// The stored version it would replace; none: new.
    pub replaces: Option<i64>,
}

impl Engine {
    /// Reads the file as the import would and says what it would do. Roles: official.
    pub async fn preview_districts(&self, actor: &Actor, text: &str) -> Result<Vec<PreviewRow>, DistrictError> {
        let Actor::Staff { user, .. } = actor else { return Err(DistrictError::Forbidden) };
        if user.role != Role::Official {
            return Err(DistrictError::Forbidden);
        }
        let parsed = parse_geojson(text).map_err(DistrictError::Invalid)?;
        let stored = self.store().districts().await?;
        Ok(parsed
            .iter()
            .map(|d| PreviewRow {
                code: d.code.to_string(),
                name: d.name.clone(),
                outside: !user.region.contains_district(&d.code),
                replaces: stored.iter().find(|s| s.code == d.code).map(|s| s.version),
            })
            .collect())
    }

    /// The boundaries of the caller's region with their earlier versions,
    /// newest first. Roles: official, operator, auditor.
    pub async fn district_versions(
        &self,
        actor: &Actor,
    ) -> Result<Vec<(DistrictBoundary, Vec<DistrictBoundary>)>, DistrictError> {
        let region = match actor {
            Actor::Staff { user, .. } if user.role.is_region_scoped() => &user.region,
            _ => return Err(DistrictError::Forbidden),
        };
        let mut out = Vec::new();
        for d in self.store().districts().await?.into_iter().filter(|d| region.contains_district(&d.code)) {
            let mut history = self.store().district_history(&d.code).await?;
            history.reverse();
            out.push((d, history));
        }
        Ok(out)
    }
}
