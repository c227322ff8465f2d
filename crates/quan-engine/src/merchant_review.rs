//! What a reviewer sees beside an application: other merchants that share
//! its settlement account, contact phone or address (a hint of one business
//! applying twice, or of a cash-out ring), within the reviewer's region.

use quan_domain::MerchantId;
use quan_store::Merchant;

use crate::Engine;
use crate::auth::Actor;
use crate::merchants::MerchantError;

/// Another merchant like this one, and what they share.
#[derive(Debug, Clone)]
pub struct Alike {
    pub merchant: Merchant,
    pub same_account: bool,
    pub same_phone: bool,
    pub same_address: bool,
}

impl Engine {
    /// Merchants sharing the account, phone or address of `id`: those the
    /// caller may see, and how many more lie outside their region.
    pub async fn merchants_alike(&self, actor: &Actor, id: MerchantId) -> Result<(Vec<Alike>, usize), MerchantError> {
        self.get_merchant(actor, id).await?;
        let all = self.store().merchants_alike(id).await?;
        let region = actor.region().ok_or(MerchantError::Forbidden)?;
        let (seen, hidden): (Vec<_>, Vec<_>) =
            all.into_iter().partition(|(m, _)| region.contains_district(&m.app.district));
        let seen = seen
            .into_iter()
            .map(|(merchant, [same_account, same_phone, same_address])| Alike {
                merchant,
                same_account,
                same_phone,
                same_address,
            })
            .collect();
        Ok((seen, hidden.len()))
    }
}
