//! What a merchant's owner reads and manages beyond the application: its
//! redemptions by day and till, its settlement lines, its cashiers (list,
//! password reset; disabling is `set_user_disabled`).

use chrono::NaiveDate;
use quan_domain::{Invalid, MerchantId, Role, TillId, UserId};
use quan_store::{Redemption, Settlement, StoreError, User};

use crate::Engine;
use crate::auth::Actor;
use crate::merchants::MerchantError;

/// Business days one read of a merchant's redemptions may span at most.
pub const REDEMPTION_DAYS_MAX: i64 = 93;

impl Engine {
    /// The merchant's redemptions of business days `days.0` to `days.1`
    /// (both included), at one till or all, newest first, at most `limit`
    /// (1–500). For its owner, and staff of its region.
    pub async fn merchant_redemptions(
        &self,
        actor: &Actor,
        merchant: MerchantId,
        days: (NaiveDate, NaiveDate),
        till: Option<TillId>,
        limit: u32,
    ) -> Result<Vec<Redemption>, MerchantError> {
        self.get_merchant(actor, merchant).await?;
        if days.1 < days.0 {
            return Err(MerchantError::Invalid(Invalid::new(
                "to",
                "days_reversed",
                "the last day is before the first",
            )));
        }
        if (days.1 - days.0).num_days() >= REDEMPTION_DAYS_MAX {
            return Err(MerchantError::Invalid(Invalid::new(
                "to",
                "days_too_many",
                format!("at most {REDEMPTION_DAYS_MAX} days at a time"),
            )));
        }
        Ok(self.store().redemptions_of_merchant(merchant, days, till, limit.clamp(1, crate::LIST_LEN_MAX)).await?)
    }

    /// The merchant's settlement lines, newest day first, at most `limit` (1–500).
    pub async fn merchant_settlements(
        &self,
        actor: &Actor,
        merchant: MerchantId,
        limit: u32,
    ) -> Result<Vec<Settlement>, MerchantError> {
        self.get_merchant(actor, merchant).await?;
        Ok(self.store().settlements_of_merchant(merchant, limit.clamp(1, crate::LIST_LEN_MAX)).await?)
    }

    /// The merchant's cashiers, for its owner.
    pub async fn cashiers(&self, actor: &Actor, merchant: MerchantId) -> Result<Vec<User>, MerchantError> {
        Self::owner_of(actor, merchant)?;
        let all = self.store().users_of_merchant(merchant).await?;
        Ok(all.into_iter().filter(|u| u.role == Role::Cashier).collect())
    }

    /// The owner gives one of their cashiers a new generated password
    /// (returned once); the cashier's sessions end.
    pub async fn reset_cashier_password(
        &self,
        actor: &Actor,
        merchant: MerchantId,
        cashier: UserId,
    ) -> Result<(User, String), MerchantError> {
        let owner = Self::owner_of(actor, merchant)?;
        let user = match self.store().user_by_id(cashier).await {
            Ok(u) if u.role == Role::Cashier && u.merchant == Some(merchant) => u,
            Ok(_) | Err(StoreError::NotFound) => return Err(MerchantError::NotFound),
            Err(e) => return Err(e.into()),
        };
        let password = self.generate_password();
        let hash = self.hash_password_blocking(password.clone()).await;
        self.store().set_user_password(user.id, &hash).await?;
        self.store().delete_user_sessions(user.id, self.now()).await?;
        self.inner.remembered_sessions.forget_user(user.id);
        tracing::info!(user_id = %user.id, by = %owner.id, "a cashier's password was reset");
        Ok((user, password))
    }
}
