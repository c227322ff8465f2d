//! A resident's ID number: recorded once by the resident; changed after
//! that only by an operator, with the reason kept (a resident who could
//! replace it at will could move their household region past a rule).

use quan_domain::id_number::ResidentIdNumber;
use quan_domain::{Invalid, PhoneNumber, Role};
use quan_store::{Identity, IdentityChange, StoreError};

use crate::Engine;
use crate::auth::Actor;
use crate::eligibility::{DIVISIONS, EligibilityError};

/// The longest reason an operator may give for a change.
pub const IDENTITY_CHANGE_REASON_CHARS_MAX: usize = 200;

impl Engine {
    /// The stored form of ID number `raw` for `resident`, as of now.
    fn stored_identity_for(&self, resident: quan_domain::ResidentId, raw: &str) -> Result<Identity, EligibilityError> {
        self.stored_identity(resident, raw).map_err(EligibilityError::IdNumber)
    }

    /// `stored_identity_for`, refused with the number's own error.
    pub(crate) fn stored_identity(
        &self,
        resident: quan_domain::ResidentId,
        raw: &str,
    ) -> Result<Identity, quan_domain::id_number::IdNumberError> {
        let id = ResidentIdNumber::parse(raw, &DIVISIONS, self.today())?;
        Ok(Identity {
            resident_id: resident,
            id_hash: self.inner.pii_key.hash("id", id.expose().as_bytes()),
            id_masked: id.masked(),
            household_region: id.region().to_owned(),
            birth_date: id.birth_date(),
            verified_at: self.now(),
            real_name_checked_at: None,
        })
    }

    /// A resident records their ID number: only its keyed hash, masked
    /// form, household region and birth date are kept. Sending the same
    /// number again answers the recorded identity; another number is
    /// refused (`identity_already_recorded`): a change goes through an operator.
    pub async fn verify_identity(&self, actor: &Actor, raw: &str) -> Result<Identity, EligibilityError> {
        let Actor::Resident { resident, .. } = actor else { return Err(EligibilityError::Forbidden) };
        let identity = self.stored_identity_for(resident.id, raw)?;
        let stored = self.store().record_identity_once(&identity).await?;
        if stored.id_hash != identity.id_hash {
            tracing::warn!(resident_id = %resident.id, recorded = %stored.id_masked, "a resident sent another ID number: refused");
            return Err(EligibilityError::IdentityRecorded(stored.id_masked));
        }
        if stored == identity {
            tracing::info!(resident_id = %resident.id, id = %identity.id_masked, "identity recorded");
        }
        self.remember_identity(stored.clone());
        Ok(stored)
    }

    /// The calling resident's recorded identity (masked), if any.
    pub async fn my_identity(&self, actor: &Actor) -> Result<Option<Identity>, EligibilityError> {
        let Actor::Resident { resident, .. } = actor else { return Err(EligibilityError::Forbidden) };
        Ok(self.store().identity(resident.id).await?)
    }

    /// An operator changes the ID number recorded for the resident of phone
    /// `phone` (at the service desk, after seeing the papers), giving a
    /// reason that is kept with the change. The operator's region must
    /// contain the old or the new household region.
    pub async fn change_identity(
        &self,
        actor: &Actor,
        phone: &PhoneNumber,
        raw: &str,
        reason: &str,
    ) -> Result<(Identity, IdentityChange), EligibilityError> {
        let Actor::Staff { user, .. } = actor else { return Err(EligibilityError::Forbidden) };
        if user.role != Role::Operator {
            return Err(EligibilityError::Forbidden);
        }
        let reason = quan_domain::invalid::text("reason", reason, IDENTITY_CHANGE_REASON_CHARS_MAX)
            .map_err(EligibilityError::Invalid)?;
        let resident = self.store().resident_by_phone(&self.phone_hash(phone)).await?;
        let new = self.stored_identity_for(resident.id, raw)?;
        let Some(old) = self.store().identity(resident.id).await? else {
            return Err(EligibilityError::Invalid(Invalid::new(
                "phone",
                "no_identity_recorded",
                "this resident has not recorded an ID number: they record it themselves",
            )));
        };
        let region = user.region.as_str();
        if !old.household_region.starts_with(region) && !new.household_region.starts_with(region) {
            return Err(EligibilityError::NotFound);
        }
        if old.id_hash == new.id_hash {
            return Err(EligibilityError::Invalid(Invalid::new(
                "id_number",
                "unchanged",
                "this is the number recorded",
            )));
        }
        let change = IdentityChange {
            resident_id: resident.id,
            changed_at: new.verified_at,
            changed_by: user.id,
            old_masked: old.id_masked.clone(),
            new_masked: new.id_masked.clone(),
            old_region: old.household_region.clone(),
            new_region: new.household_region.clone(),
            reason,
        };
        self.store().replace_identity(&new, &change).await.map_err(|e| match e {
            StoreError::Conflict { .. } => EligibilityError::Invalid(Invalid::new(
                "phone",
                "changed_just_now",
                "this resident's ID number was changed this very millisecond; look again",
            )),
            e => e.into(),
        })?;
        self.remember_identity(new.clone());
        tracing::info!(resident_id = %resident.id, operator = %user.id, from = %old.id_masked, to = %new.id_masked, "identity changed by an operator");
        Ok((new, change))
    }
}
