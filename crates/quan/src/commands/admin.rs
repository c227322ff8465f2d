//! `quan admin …`: bootstrapping accounts from the server's own machine.

use anyhow::{Context, bail};
use quan_domain::{Region, Role, Username};
use quan_engine::users::NewAccount;

use crate::config::Config;
use crate::setup;

#[derive(Debug)]
pub struct CreateUser {
    pub role: String,
    pub region: String,
    pub username: String,
    pub display_name: Option<String>,
    pub password_stdin: bool,
}

/// Creates the account and returns the lines to print (the generated
/// password, shown this once).
pub async fn create_user(
    config: &Config,
    args: CreateUser,
    stdin: &mut dyn std::io::BufRead,
) -> anyhow::Result<String> {
    let role: Role = args.role.parse()?;
    if role == Role::Resident {
        bail!("residents sign up with their phone number; they are not created here");
    }
    let region = Region::parse(&args.region).context("--region")?;
    let username = Username::parse(&args.username).context("--username")?;
    let password = if args.password_stdin {
        let mut line = String::new();
        stdin.read_line(&mut line).context("cannot read the password from stdin")?;
        let pw = line.trim_end_matches(['\n', '\r']).to_owned();
        if pw.is_empty() {
            bail!("--password-stdin was given but stdin held no password");
        }
        Some(pw)
    } else {
        None
    };
    let engine = setup::engine(config).await?;
    let display_name = args.display_name.unwrap_or_else(|| username.to_string());
    let new = NewAccount { username, role, region, display_name, password };
    let (user, generated) = engine.create_user_unchecked(new, None).await?;
    let mut out = format!("created {} `{}` for region {} (id {})\n", user.role, user.username, user.region, user.id);
    if let Some(pw) = generated {
        out.push_str(&format!("password: {pw}\n(shown only this once; change it after the first login)\n"));
    }
    Ok(out)
}
