//! `quan import merchants FILE.csv`: tens of thousands of rows with a
//! progress bar; valid rows go in, invalid rows are listed in
//! `FILE.errors.csv` (line, field, rule, message); importing the same file
//! again creates nothing new.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use quan_domain::merchant::{LatLng, MerchantApplication, Scale, SettlementAccount};
use quan_domain::{Industry, Username};
use quan_engine::merchants::{ImportTotals, RowError};

use crate::config::Config;
use crate::setup;

pub const COLUMNS: [&str; 13] = [
    "legal_name",
    "credit_code",
    "industry",
    "scale",
    "address",
    "address_district",
    "lat",
    "lng",
    "contact_name",
    "contact_phone",
    "bank_name",
    "account_name",
    "account_number",
];

/// Rows per transaction: a failure loses at most one chunk's progress,
/// never half a chunk.
const CHUNK_ROWS: usize = 1000;

fn row_error(line: usize, field: &str, rule: &str, message: impl Into<String>) -> RowError {
    RowError { line, field: field.into(), rule: rule.into(), message: message.into() }
}

/// One CSV record as an application; `idx[i]` is the position of COLUMNS[i].
fn parse_row(line: usize, rec: &csv::StringRecord, idx: &[usize; 13]) -> Result<MerchantApplication, RowError> {
    let f = |i: usize| rec.get(idx[i]).unwrap_or("").trim().to_owned();
    let industry = Industry::parse(&f(2))
        .ok_or_else(|| row_error(line, "industry", "unknown_industry", format!("`{}` is not an industry", f(2))))?;
    let scale = Scale::parse(&f(3)).ok_or_else(|| {
        row_error(line, "scale", "unknown_scale", format!("`{}` is not large, medium, small or micro", f(3)))
    })?;
    let coord = |i: usize, name: &str| -> Result<Option<f64>, RowError> {
        let v = f(i);
        if v.is_empty() {
            return Ok(None);
        }
        v.parse::<f64>().map(Some).map_err(|_| row_error(line, name, "not_a_number", format!("`{v}` is not a number")))
    };
    let location = match (coord(6, "lat")?, coord(7, "lng")?) {
        (Some(lat), Some(lng)) => Some(LatLng { lat, lng }),
        (None, None) => None,
        _ => return Err(row_error(line, "lng", "incomplete_position", "give both lat and lng, or neither")),
    };
    Ok(MerchantApplication {
        legal_name: f(0),
        credit_code: f(1),
        industry,
        scale,
        address: f(4),
        address_district: f(5),
        location,
        contact_name: f(8),
        contact_phone: f(9),
        settlement_account: SettlementAccount { bank_name: f(10), account_name: f(11), account_number: f(12) },
    })
}

pub fn errors_path(input: &Path) -> PathBuf {
    let stem = input.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "import".into());
    input.with_file_name(format!("{stem}.errors.csv"))
}

fn write_errors(path: &Path, errors: &[RowError]) -> anyhow::Result<()> {
    let mut w = crate::files::CsvOut::create(path)?;
    w.record(["line", "field", "rule", "message"])?;
    for e in errors {
        w.record([e.line.to_string().as_str(), &e.field, &e.rule, &e.message])?;
    }
    w.flush()?;
    Ok(())
}

/// Runs the import and returns the summary to print.
pub async fn merchants(
    config: &Config,
    file: &Path,
    as_user: &str,
    approved: bool,
    progress: bool,
) -> anyhow::Result<(String, ImportTotals)> {
    let started = Instant::now();
    let total_bytes = std::fs::metadata(file).with_context(|| format!("cannot read {}", file.display()))?.len();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(file)
        .with_context(|| format!("cannot read {}", file.display()))?;
    let headers = reader.headers().context("the file has no header line")?.clone();
    let mut idx = [0usize; 13];
    for (i, col) in COLUMNS.iter().enumerate() {
        idx[i] = headers
            .iter()
            .position(|h| h.trim().trim_start_matches('\u{feff}') == *col)
            .with_context(|| format!("the header has no `{col}` column; the columns are: {}", COLUMNS.join(",")))?;
    }
    let engine = setup::engine(config).await?;
    let who = engine
        .actor_for_username(&Username::parse(as_user).context("--as")?)
        .await
        .map_err(|_| anyhow::anyhow!("no enabled account `{as_user}`"))?;
    let mut import = engine.start_import(&who, approved).map_err(|e| anyhow::anyhow!("{e}"))?;
    let bar = if progress { indicatif::ProgressBar::new(total_bytes) } else { indicatif::ProgressBar::hidden() };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] [{bar:40}] {percent:>3}% {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let mut chunk = Vec::with_capacity(CHUNK_ROWS);
    let mut record = csv::StringRecord::new();
    loop {
        let more = match reader.read_record(&mut record) {
            Ok(more) => more,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    bail!("reading {} failed at line {line}: {e}", file.display());
                }
                chunk.push((line, Err(row_error(line, "", "malformed_csv", e.to_string()))));
                continue;
            }
        };
        if more {
            let line = record.position().map_or(0, |p| p.line() as usize);
            let row = if record.len() < headers.len() {
                Err(row_error(
                    line,
                    "",
                    "missing_columns",
                    format!("{} columns, the header has {}", record.len(), headers.len()),
                ))
            } else {
                parse_row(line, &record, &idx)
            };
            chunk.push((line, row));
        }
        if chunk.len() >= CHUNK_ROWS || (!more && !chunk.is_empty()) {
            engine.import_chunk(&mut import, std::mem::take(&mut chunk)).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            bar.set_position(record.position().map_or(total_bytes, |p| p.byte()));
            bar.set_message(format!(
                "{} rows, {} new, {} errors",
                import.totals.rows,
                import.totals.inserted,
                import.totals.errors.len()
            ));
        }
        if !more {
            break;
        }
    }
    bar.finish_and_clear();
    let t = import.totals;
    let report = errors_path(file);
    if t.errors.is_empty() {
        let _ = std::fs::remove_file(&report);
    } else {
        write_errors(&report, &t.errors)?;
    }
    let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX).max(1);
    let mut out = format!(
        "{} rows: {} imported, {} already registered, {} refused in {}.{} s ({} rows/s)\n",
        t.rows,
        t.inserted,
        t.already_present,
        t.errors.len(),
        ms / 1000,
        (ms % 1000) / 100,
        t.rows as u64 * 1000 / ms
    );
    if !t.errors.is_empty() {
        out.push_str(&format!("the refused rows are listed in {}\n", report.display()));
    }
    Ok((out, t))
}

/// `quan import districts`: each file in one transaction, then the index is rebuilt.
pub async fn districts(config: &Config, files: &[PathBuf], crs: &str) -> anyhow::Result<String> {
    let crs =
        quan_domain::geo::Crs::parse(crs).with_context(|| format!("--crs `{crs}` is not wgs84, gcj02 or bd09"))?;
    let engine = setup::engine(config).await?;
    let mut out = String::new();
    for f in files {
        let text = std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
        let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let (new, replaced) =
            engine.import_districts(&text, crs, &name).await.map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?;
        out.push_str(&format!(
            "{}: {new} new districts, {replaced} replaced (old boundaries kept in history)\n",
            f.display()
        ));
    }
    out.push_str(&format!("{} districts are now indexed\n", engine.district_index().len()));
    Ok(out)
}

/// `quan import list`: people as keyed hashes; the file itself is not kept.
pub async fn list(
    config: &Config,
    file: &Path,
    name: &str,
    batch: Option<&str>,
    as_user: &str,
) -> anyhow::Result<String> {
    use quan_store::MemberKind;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(file)
        .with_context(|| format!("cannot read {}", file.display()))?;
    let headers = reader.headers().context("the file has no header line")?.clone();
    let find = |col: &str| headers.iter().position(|h| h.trim().trim_start_matches('\u{feff}') == col);
    let (kind, col) = match (find("id_number"), find("phone")) {
        (Some(c), _) => (MemberKind::IdNumber, c),
        (None, Some(c)) => (MemberKind::Phone, c),
        (None, None) => bail!("the header needs an `id_number` or a `phone` column"),
    };
    let engine = setup::engine(config).await?;
    let who = engine
        .actor_for_username(&Username::parse(as_user).context("--as")?)
        .await
        .map_err(|_| anyhow::anyhow!("no enabled account `{as_user}`"))?;
    if let Some(b) = batch {
        let id: quan_domain::BatchId = b.parse()?;
        let (batch, _) = engine.get_batch(&who, id).await.map_err(|e| anyhow::anyhow!("--batch: {e}"))?;
        if !batch.spec.eligibility.lists.iter().any(|l| l == name) {
            bail!(
                "batch {b} does not refer to a list named `{name}` (it refers to: {:?})",
                batch.spec.eligibility.lists
            );
        }
    }
    let mut values = Vec::new();
    let mut errors = Vec::new();
    for rec in reader.records() {
        match rec {
            Ok(r) => values.push((r.position().map_or(0, |p| p.line() as usize), r.get(col).unwrap_or("").to_owned())),
            Err(e) => errors.push(row_error(
                e.position().map_or(0, |p| p.line() as usize),
                "",
                "malformed_csv",
                e.to_string(),
            )),
        }
    }
    let report = engine.import_list(&who, name, kind, &values).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    errors.extend(report.invalid.iter().cloned());
    let path = errors_path(file);
    if errors.is_empty() {
        let _ = std::fs::remove_file(&path);
    } else {
        write_errors(&path, &errors)?;
    }
    let mut out = format!(
        "list `{name}`: {} rows, {} added, {} already on the list or repeated, {} invalid\n",
        report.rows,
        report.added,
        report.duplicates,
        errors.len()
    );
    if !errors.is_empty() {
        out.push_str(&format!("the invalid rows are listed in {}\n", path.display()));
    }
    Ok(out)
}
