//! Sending login codes by SMS. Real deployments plug in their gateway; the
//! default writes each message to a file under the data folder, so a local
//! demo works and no code ever reaches the log.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use quan_domain::PhoneNumber;

#[derive(Debug, thiserror::Error)]
#[error("the SMS gateway failed: {0}")]
pub struct SmsError(pub String);

#[async_trait]
pub trait SmsSender: Send + Sync + std::fmt::Debug {
    async fn send_login_code(&self, phone: &PhoneNumber, code: &str, expires_at: DateTime<Utc>)
    -> Result<(), SmsError>;
}

/// Appends one JSON line per message to a file readable only by its owner.
#[derive(Debug)]
pub struct FileSmsSender {
    path: PathBuf,
    lock: Mutex<()>,
}

impl FileSmsSender {
    pub fn new(path: &Path) -> FileSmsSender {
        FileSmsSender { path: path.to_owned(), lock: Mutex::new(()) }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[async_trait]
impl SmsSender for FileSmsSender {
    async fn send_login_code(
        &self,
        phone: &PhoneNumber,
        code: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), SmsError> {
        let line = format!(
            "{{\"to\":\"{}\",\"text\":\"【quan】您的登录验证码是 {code}，5分钟内有效。\",\"code\":\"{code}\",\"expires_at\":\"{}\"}}\n",
            phone.expose(),
            expires_at.to_rfc3339()
        );
        let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut opts = std::fs::OpenOptions::new();
        opts.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&self.path).map_err(|e| SmsError(format!("{}: {e}", self.path.display())))?;
        f.write_all(line.as_bytes()).map_err(|e| SmsError(e.to_string()))
    }
}

/// Sends each message through two senders, the first deciding the answer
/// (the demo keeps codes in memory for itself and in a file outbox for a
/// person logging in to its pages).
#[derive(Debug)]
pub struct CopySmsSender {
    first: std::sync::Arc<dyn SmsSender>,
    copy: std::sync::Arc<dyn SmsSender>,
}

impl CopySmsSender {
    pub fn new(first: std::sync::Arc<dyn SmsSender>, copy: std::sync::Arc<dyn SmsSender>) -> CopySmsSender {
        CopySmsSender { first, copy }
    }
}

#[async_trait]
impl SmsSender for CopySmsSender {
    async fn send_login_code(
        &self,
        phone: &PhoneNumber,
        code: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), SmsError> {
        self.first.send_login_code(phone, code, expires_at).await?;
        if let Err(e) = self.copy.send_login_code(phone, code, expires_at).await {
            tracing::warn!(error = %e.0, "the copy of a login code was not sent");
        }
        Ok(())
    }
}

/// Keeps messages in memory, for tests and the demo.
#[derive(Debug, Default)]
pub struct MemorySmsSender {
    sent: Mutex<Vec<(String, String)>>,
}

impl MemorySmsSender {
    /// The last code sent to this number (given as 11 digits).
    pub fn last_code(&self, phone: &str) -> Option<String> {
        let sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        sent.iter().rev().find(|(p, _)| p == phone).map(|(_, c)| c.clone())
    }

    pub fn count(&self) -> usize {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

#[async_trait]
impl SmsSender for MemorySmsSender {
    async fn send_login_code(
        &self,
        phone: &PhoneNumber,
        code: &str,
        _expires_at: DateTime<Utc>,
    ) -> Result<(), SmsError> {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).push((phone.expose().to_owned(), code.to_owned()));
        Ok(())
    }
}
