//! Staff accounts: officials manage the accounts of their own region.

use quan_domain::{Region, Role, UserId, Username};
use quan_store::{StoreError, User};

use crate::auth::Actor;
use crate::rejection::{Rejection, Status};
use crate::{Engine, secrets};

/// A request to create an account, already parsed.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub username: Username,
    pub role: Role,
    pub region: Region,
    pub display_name: String,
    /// `None`: quan generates a password and returns it once.
    pub password: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum UserRejection {
    #[error("your role may not do this")]
    Forbidden,
    #[error("no such user")]
    NotFound,
    #[error("the username `{0}` is taken")]
    UsernameTaken(String),
    #[error("a {0} account cannot be created here")]
    RoleNotCreatable(Role),
    #[error("region {region} is outside your region {yours}")]
    RegionOutside { region: Region, yours: Region },
    #[error("a password has at least {0} characters")]
    PasswordTooShort(usize),
    #[error("a password has at most 128 characters")]
    PasswordTooLong,
    #[error("a display name has 1 to 64 characters")]
    BadDisplayName,
    #[error("you cannot disable your own account")]
    CannotDisableSelf,
    #[error("the current password is wrong")]
    WrongPassword,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Rejection for UserRejection {
    fn status(&self) -> Status {
        match self {
            UserRejection::Forbidden => Status::Forbidden,
            UserRejection::NotFound => Status::NotFound,
            UserRejection::UsernameTaken(_) => Status::Conflict,
            UserRejection::RoleNotCreatable(_)
            | UserRejection::RegionOutside { .. }
            | UserRejection::PasswordTooShort(_)
            | UserRejection::PasswordTooLong
            | UserRejection::BadDisplayName
            | UserRejection::CannotDisableSelf => Status::Unprocessable,
            UserRejection::WrongPassword => Status::Forbidden,
            UserRejection::Store(_) => Status::Internal,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            UserRejection::Forbidden => "forbidden",
            UserRejection::NotFound => "not_found",
            UserRejection::UsernameTaken(_) => "username_taken",
            UserRejection::RoleNotCreatable(_) => "role_not_creatable",
            UserRejection::RegionOutside { .. } => "region_outside_yours",
            UserRejection::PasswordTooShort(_) => "password_too_short",
            UserRejection::PasswordTooLong => "password_too_long",
            UserRejection::BadDisplayName => "bad_display_name",
            UserRejection::CannotDisableSelf => "cannot_disable_self",
            UserRejection::WrongPassword => "wrong_password",
            UserRejection::Store(_) => "internal",
        }
    }
}

fn staff(actor: &Actor) -> Result<&User, UserRejection> {
    match actor {
        Actor::Staff { user, .. } => Ok(user),
        Actor::Resident { .. } => Err(UserRejection::Forbidden),
    }
}

impl Engine {
    pub(crate) fn check_password(&self, pw: &str) -> Result<(), UserRejection> {
        let n = pw.chars().count();
        if n < self.config().password_len_min {
            return Err(UserRejection::PasswordTooShort(self.config().password_len_min));
        }
        if n > 128 {
            return Err(UserRejection::PasswordTooLong);
        }
        Ok(())
    }

    /// A random password of 20 characters from an alphabet without look-alikes.
    pub fn generate_password(&self) -> String {
        const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        (0..20).map(|_| char::from(ALPHABET[self.inner.random.below(ALPHABET.len() as u64) as usize])).collect()
    }

    pub(crate) async fn hash_password_blocking(&self, pw: String) -> String {
        let params = self.config().password;
        let random = self.inner.random.clone();
        tokio::task::spawn_blocking(move || secrets::hash_password(&pw, params, random.as_ref()))
            .await
            .unwrap_or_else(|e| panic!("password hashing task failed: {e}"))
    }

    /// Creates an account without an acting user: for `quan admin create-user`,
    /// which is run by whoever operates the server. Returns the account and
    /// the generated password, if one was generated.
    pub async fn create_user_unchecked(
        &self,
        new: NewAccount,
        created_by: Option<UserId>,
    ) -> Result<(User, Option<String>), UserRejection> {
        if new.role == Role::Resident {
            return Err(UserRejection::RoleNotCreatable(Role::Resident));
        }
        let name = new.display_name.trim();
        if name.is_empty() || name.chars().count() > 64 {
            return Err(UserRejection::BadDisplayName);
        }
        let (password, generated) = match new.password {
            Some(p) => (p, None),
            None => {
                let p = self.generate_password();
                (p.clone(), Some(p))
            }
        };
        self.check_password(&password)?;
        let user = User {
            id: UserId::from_uuid(self.new_uuid()),
            username: new.username,
            role: new.role,
            region: new.region,
            display_name: name.to_owned(),
            password_hash: self.hash_password_blocking(password).await,
            disabled: false,
            created_at: self.now(),
            created_by,
            merchant: None,
            till: None,
        };
        match self.store().insert_user(&user).await {
            Ok(()) => {}
            Err(StoreError::Conflict { .. }) => return Err(UserRejection::UsernameTaken(user.username.to_string())),
            Err(e) => return Err(e.into()),
        }
        let back = self.store().user_by_id(user.id).await?;
        assert_eq!(back, user, "a stored user must read back as written");
        tracing::info!(user_id = %user.id, role = %user.role, region = %user.region, "account created");
        Ok((user, generated))
    }

    /// An official creates an account for a role they manage, inside their region.
    pub async fn create_user(&self, actor: &Actor, new: NewAccount) -> Result<(User, Option<String>), UserRejection> {
        let me = staff(actor)?;
        if !me.role.may_create(new.role) {
            return Err(if me.role == Role::Official {
                UserRejection::RoleNotCreatable(new.role)
            } else {
                UserRejection::Forbidden
            });
        }
        if !me.region.contains(&new.region) {
            return Err(UserRejection::RegionOutside { region: new.region, yours: me.region.clone() });
        }
        self.create_user_unchecked(new, Some(me.id)).await
    }

    /// A user inside the caller's region. Outside it the answer is the same
    /// as for a user that does not exist.
    pub async fn get_user(&self, actor: &Actor, id: UserId) -> Result<User, UserRejection> {
        let me = staff(actor)?;
        if !me.role.is_region_scoped() {
            return if me.id == id { Ok(me.clone()) } else { Err(UserRejection::NotFound) };
        }
        match self.store().user_by_id(id).await {
            Ok(u) if me.region.contains(&u.region) => Ok(u),
            Ok(_) | Err(StoreError::NotFound) => Err(UserRejection::NotFound),
            Err(e) => Err(e.into()),
        }
    }

    /// Accounts inside the caller's region, `limit` at most (1–500), after `after`.
    pub async fn list_users(
        &self,
        actor: &Actor,
        after: Option<UserId>,
        limit: u32,
        search: Option<&str>,
    ) -> Result<Vec<User>, UserRejection> {
        let me = staff(actor)?;
        if !me.role.is_region_scoped() {
            return Err(UserRejection::Forbidden);
        }
        let search = crate::search_text(search);
        Ok(self.store().list_users(&me.region, after, limit.clamp(1, crate::LIST_LEN_MAX), search).await?)
    }

    /// Disables or re-enables an account; disabling ends its sessions.
    pub async fn set_user_disabled(&self, actor: &Actor, id: UserId, disabled: bool) -> Result<User, UserRejection> {
        let me = staff(actor)?;
        let target = if me.role == Role::MerchantOwner {
            // An owner manages their own shop's cashiers, and no one else.
            match self.store().user_by_id(id).await {
                Ok(u) if u.role == Role::Cashier && u.merchant.is_some() && u.merchant == me.merchant => u,
                Ok(_) | Err(StoreError::NotFound) => return Err(UserRejection::NotFound),
                Err(e) => return Err(e.into()),
            }
        } else {
            let target = self.get_user(actor, id).await?;
            if !me.role.may_create(target.role) {
                return Err(UserRejection::Forbidden);
            }
            target
        };
        if target.id == me.id && disabled {
            return Err(UserRejection::CannotDisableSelf);
        }
        self.store().set_user_disabled(id, disabled).await?;
        if disabled {
            self.store().delete_user_sessions(id, self.now()).await?;
            self.inner.remembered_sessions.forget_user(id);
        }
        tracing::info!(user_id = %id, disabled, by = %me.id, "account access changed");
        Ok(self.store().user_by_id(id).await?)
    }

    /// An official gives an account they manage (inside their region) a new
    /// generated password, returned once; its sessions end.
    pub async fn reset_user_password(&self, actor: &Actor, id: UserId) -> Result<(User, String), UserRejection> {
        let me = staff(actor)?.clone();
        let target = self.get_user(actor, id).await?;
        if !me.role.may_create(target.role) || target.id == me.id {
            return Err(UserRejection::Forbidden);
        }
        let password = self.generate_password();
        let hash = self.hash_password_blocking(password.clone()).await;
        self.store().set_user_password(id, &hash).await?;
        self.store().delete_user_sessions(id, self.now()).await?;
        self.inner.remembered_sessions.forget_user(id);
        tracing::info!(user_id = %id, by = %me.id, "a password was reset");
        Ok((target, password))
    }

    /// Changes the caller's own password and ends all their sessions,
    /// this one included: every device must log in again with the new password.
    pub async fn change_password(&self, actor: &Actor, current: &str, new: &str) -> Result<(), UserRejection> {
        let me = staff(actor)?;
        let (cur, hash) = (current.to_owned(), me.password_hash.clone());
        let ok = tokio::task::spawn_blocking(move || secrets::verify_password(&cur, &hash)).await.unwrap_or(false);
        if !ok {
            return Err(UserRejection::WrongPassword);
        }
        self.check_password(new)?;
        let hash = self.hash_password_blocking(new.to_owned()).await;
        self.store().set_user_password(me.id, &hash).await?;
        self.store().delete_user_sessions(me.id, self.now()).await?;
        self.inner.remembered_sessions.forget_user(me.id);
        Ok(())
    }
}
