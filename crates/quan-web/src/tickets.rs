//! Complaint tickets as every page set shows them (the resident's H5, the
//! console, the shop's pages): the ticket, its history, its photo, and the
//! multipart filing form read into the engine's input.

use axum::extract::Multipart;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use quan_domain::complaint::ComplaintState;
use quan_engine::complaints::ComplaintView;
use quan_store::{Complaint, ComplaintEvent};

use crate::msg::Msg;
use crate::zh::{beijing, complaints as zh};

/// A ticket as listed and shown.
#[derive(Debug, Clone)]
pub struct Ticket {
    pub id: String,
    pub ticket: String,
    pub kind: &'static str,
    pub state: &'static str,
    pub closed: bool,
    pub outcome: &'static str,
    pub filed: String,
    pub answer_due: String,
    pub close_due: String,
    pub overdue: bool,
    pub has_photo: bool,
    pub version: i64,
}

impl Ticket {
    pub fn of(c: &Complaint, now: chrono::DateTime<chrono::Utc>) -> Ticket {
        let closed = c.state == ComplaintState::Closed;
        Ticket {
            id: c.id.to_string(),
            ticket: c.ticket.clone(),
            kind: c.kind.zh(),
            state: c.state.zh(),
            closed,
            outcome: c.outcome.map_or("", |o| o.zh()),
            filed: beijing(c.filed_at),
            answer_due: beijing(c.answer_due),
            close_due: beijing(c.close_due),
            overdue: !closed
                && quan_domain::complaint::overdue(now, c.answer_due, c.answered_at, c.close_due, c.closed_at),
            has_photo: c.photo_type.is_some(),
            version: c.version,
        }
    }
}

/// One line of a ticket's history.
#[derive(Debug, Clone)]
pub struct Line {
    pub who: &'static str,
    pub what: &'static str,
    pub text: String,
    pub at: String,
}

impl Line {
    fn of(e: &ComplaintEvent) -> Line {
        Line {
            who: zh::who(e.actor_role),
            what: e.action().map_or(zh::FILED, |a| a.zh()),
            text: e.body.clone(),
            at: beijing(e.at),
        }
    }
}

/// A ticket with its history as its reader sees it.
pub fn detail(v: &ComplaintView, now: chrono::DateTime<chrono::Utc>) -> (Ticket, Vec<Line>) {
    let mut t = Ticket::of(&v.complaint, now);
    t.overdue = v.overdue;
    (t, v.events.iter().map(Line::of).collect())
}

/// The photo, as the API serves it: its type, never cached, sandboxed.
pub fn photo((mime, bytes): (String, Vec<u8>)) -> Response {
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_str(&mime).unwrap_or(HeaderValue::from_static("image/jpeg")));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    r
}

/// The text fields and the photo of a multipart form.
#[derive(Debug, Default)]
pub struct Form {
    pub fields: std::collections::HashMap<String, String>,
    /// The file chosen (a photo, a campaign file).
    pub photo: Option<Vec<u8>>,
}

impl Form {
    pub fn get(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }

    /// Reads every part; a file part named `photo` with no file chosen is none.
    pub async fn read(m: Multipart) -> Result<Form, Msg> {
        Form::read_file(m, "photo").await
    }

    /// Reads every part; the file part `file_field` (its bytes, and its
    /// name as the field `file_name`) is none when no file was chosen.
    pub async fn read_file(mut m: Multipart, file_field: &str) -> Result<Form, Msg> {
        let bad = |_| Msg::warn(StatusCode::BAD_REQUEST, "bad_input", zh::FORM_UNREADABLE);
        let mut f = Form::default();
        while let Some(part) = m.next_field().await.map_err(bad)? {
            let name = part.name().unwrap_or("").to_owned();
            if name == file_field {
                if let Some(n) = part.file_name() {
                    f.fields.insert("file_name".into(), n.to_owned());
                }
                let bytes = part.bytes().await.map_err(bad)?;
                if !bytes.is_empty() {
                    f.photo = Some(bytes.to_vec());
                }
            } else {
                let text = part.text().await.map_err(bad)?;
                f.fields.insert(name, text);
            }
        }
        Ok(f)
    }
}
