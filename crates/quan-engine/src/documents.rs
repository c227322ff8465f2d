//! The documents officials keep in version control (campaign files), read
//! from TOML or JSON and written back as TOML for editing.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// TOML values as JSON: TOML datetimes and dates become RFC 3339 strings,
/// so a file may write `opening_at = 2027-01-08T10:00:00+08:00` unquoted.
fn toml_to_json(v: toml::Value) -> serde_json::Value {
    match v {
        toml::Value::String(s) => serde_json::Value::String(s),
        toml::Value::Integer(i) => serde_json::Value::from(i),
        toml::Value::Float(f) => serde_json::Value::from(f),
        toml::Value::Boolean(b) => serde_json::Value::Bool(b),
        toml::Value::Datetime(d) => serde_json::Value::String(d.to_string()),
        toml::Value::Array(a) => serde_json::Value::Array(a.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => serde_json::Value::Object(t.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect()),
    }
}

/// Why a document does not read: the path of the field (empty for the
/// whole text) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", if path.is_empty() { String::new() } else { format!("{path}: ") })]
pub struct DocumentError {
    pub path: String,
    pub message: String,
}

/// Parses `text` as TOML (or JSON when `json` is set) into `T`; an error
/// names the path of the field (`batches[0].kinds[1].kind.discount`).
pub fn parse<T: DeserializeOwned>(text: &str, json: bool) -> Result<T, DocumentError> {
    let whole = |message: String| DocumentError { path: String::new(), message };
    let value: serde_json::Value = if json {
        serde_json::from_str(text).map_err(|e| whole(format!("not valid JSON: {e}")))?
    } else {
        let t: toml::Value = toml::from_str(text).map_err(|e| whole(format!("not valid TOML: {}", e.message())))?;
        toml_to_json(t)
    };
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        DocumentError { path, message: e.into_inner().to_string() }
    })
}

/// Whether a text is JSON rather than TOML (it starts with `{`).
pub fn looks_like_json(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

fn without_nulls(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => serde_json::Value::Object(
            m.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, without_nulls(v))).collect(),
        ),
        serde_json::Value::Array(a) => serde_json::Value::Array(a.into_iter().map(without_nulls).collect()),
        v => v,
    }
}

/// A document as TOML (what [`parse`] reads back to the same value).
pub fn to_toml<T: Serialize>(doc: &T) -> Result<String, DocumentError> {
    let fail = |message: String| DocumentError { path: String::new(), message };
    let v = without_nulls(serde_json::to_value(doc).map_err(|e| fail(e.to_string()))?);
    toml::to_string_pretty(&v).map_err(|e| fail(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaigns::CampaignFile;

    #[test]
    fn every_example_campaign_file_reads_back_the_same_after_writing_it_as_toml() {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples");
        let mut n = 0;
        for e in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{e}")).flatten() {
            if e.path().extension().is_some_and(|x| x == "toml") {
                let text = std::fs::read_to_string(e.path()).unwrap_or_default();
                let f: CampaignFile = parse(&text, false).unwrap_or_else(|err| panic!("{}: {err}", e.path().display()));
                let written = to_toml(&f).unwrap_or_else(|err| panic!("{err}"));
                let back: CampaignFile = parse(&written, false).unwrap_or_else(|err| panic!("{err}\n{written}"));
                assert_eq!(back, f, "{}", e.path().display());
                n += 1;
            }
        }
        assert!(n >= 5);
    }

    #[test]
    fn a_wrong_field_is_named_by_its_path() {
        let e = parse::<CampaignFile>("[campaign]\nname = 3\n", false).err().unwrap_or_else(|| panic!("refused"));
        assert_eq!(e.path, "campaign.name");
        assert!(parse::<CampaignFile>("{", true).is_err_and(|e| e.path.is_empty() && e.message.contains("JSON")));
        assert!(looks_like_json("  {\"campaign\": {}}") && !looks_like_json("[campaign]"));
    }
}
