//! `quan partner …`: partners of the partner API registered, listed, their
//! keys rotated and revoked, cut off and let back; the platform key printed.

use std::fmt::Write as _;

use quan_engine::Engine;
use quan_engine::partners::{KeyIssued, NewKey, NewPartner, PartnerView};

use crate::cli::PartnerCmd;
use crate::config::Config;
use crate::setup;

/// Runs one `quan partner` command: what it prints.
pub async fn dispatch(config: &Config, c: PartnerCmd) -> anyhow::Result<String> {
    let engine = setup::engine(config).await?;
    let e = |x: quan_engine::partners::PartnerError| anyhow::anyhow!("{x}");
    match c {
        PartnerCmd::Create { name, kind, mode, scopes, public_key, serial_no, as_user } => {
            let who = setup::actor(&engine, &as_user).await?;
            let scopes = scopes.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
            let req = NewPartner { name, kind, mode, scopes, key: key(public_key, serial_no) };
            let (p, k) = engine.create_partner(&who, req).await.map_err(e)?;
            let mut out = format!("registered partner {} ({})\n", p.name, p.id);
            issued(&mut out, &k);
            platform(&mut out, &engine);
            Ok(out)
        }
        PartnerCmd::List { as_user } => {
            let who = setup::actor(&engine, &as_user).await?;
            let mut out = String::new();
            for p in engine.partners(&who).await.map_err(e)? {
                describe(&mut out, &p);
            }
            if out.is_empty() {
                out.push_str("no partners yet: quan partner create --help\n");
            }
            Ok(out)
        }
        PartnerCmd::Rotate { id, public_key, serial_no, revoke, as_user } => {
            let who = setup::actor(&engine, &as_user).await?;
            let id = uuid::Uuid::parse_str(id.trim()).map_err(|_| anyhow::anyhow!("no partner {id}"))?;
            let k = engine.add_partner_key(&who, id, key(public_key, serial_no)).await.map_err(e)?;
            let mut out = String::new();
            issued(&mut out, &k);
            if let Some(old) = revoke {
                engine.revoke_partner_key(&who, id, &old).await.map_err(e)?;
                let _ = writeln!(out, "revoked key {old}");
            }
            Ok(out)
        }
        PartnerCmd::Suspend { id, reason, as_user } => status(&engine, &id, true, &reason, &as_user).await,
        PartnerCmd::Resume { id, as_user } => status(&engine, &id, false, "", &as_user).await,
        PartnerCmd::PlatformKey => {
            let mut out = String::new();
            platform(&mut out, &engine);
            Ok(out)
        }
    }
}

async fn status(engine: &Engine, id: &str, suspended: bool, reason: &str, as_user: &str) -> anyhow::Result<String> {
    let who = setup::actor(engine, as_user).await?;
    let id = uuid::Uuid::parse_str(id.trim()).map_err(|_| anyhow::anyhow!("no partner {id}"))?;
    let p = engine.set_partner_status(&who, id, suspended, reason).await.map_err(|x| anyhow::anyhow!("{x}"))?;
    let mut out = String::new();
    describe(&mut out, &p);
    Ok(out)
}

fn key(public_key: Option<String>, serial_no: Option<String>) -> NewKey {
    match public_key {
        Some(public_key) => NewKey::Sm2 { public_key, serial_no },
        None => NewKey::Hmac,
    }
}

fn issued(out: &mut String, k: &KeyIssued) {
    let _ = writeln!(out, "key serial_no {}", k.serial_no);
    if let Some(s) = &k.secret {
        let _ = writeln!(out, "HMAC secret (shown this once; give it to the partner over a safe channel):\n  {s}");
    }
}

fn platform(out: &mut String, engine: &Engine) {
    let (serial, public) = engine.platform_certificate();
    let _ = writeln!(out, "platform key (signs every answer; SM2 with SM3, signer ID 1234567812345678)");
    let _ = writeln!(out, "  serial_no  {serial}\n  public_key {public}");
}

fn describe(out: &mut String, p: &PartnerView) {
    let _ = writeln!(out, "{}  {}  {} {} [{}]  {}", p.id, p.name, p.kind, p.mode, p.scopes.join(","), p.status);
    if !p.status_reason.is_empty() {
        let _ = writeln!(out, "    reason: {}", p.status_reason);
    }
    for k in &p.keys {
        let state = if k.revoked_at.is_some() { "revoked" } else { "active" };
        let _ = writeln!(out, "    key {} {} {state}", k.serial_no, k.scheme);
    }
}
