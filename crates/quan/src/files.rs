//! Reading the documents officials keep in version control (TOML or JSON).

use std::path::Path;

use anyhow::{Context, bail};
use serde::de::DeserializeOwned;

/// Parses `text` as TOML (or JSON when `json` is set) into `T`; an error
/// names the path of the field (`batches[0].kinds[1].kind.discount`).
pub fn parse<T: DeserializeOwned>(text: &str, json: bool) -> anyhow::Result<T> {
    quan_engine::documents::parse(text, json).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Reads and parses a file; `.json` files as JSON, anything else as TOML.
pub fn read<T: DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    if !path.exists() {
        bail!("{} does not exist", path.display());
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
    parse(&text, json).with_context(|| format!("{} is not a valid document", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use quan_engine::campaigns::CampaignFile;

    #[test]
    fn every_example_campaign_file_parses() {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples");
        let mut n = 0;
        for e in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{e}")).flatten() {
            if e.path().extension().is_some_and(|x| x == "toml") {
                let f: CampaignFile = read(&e.path()).unwrap_or_else(|err| panic!("{}: {err:#}", e.path().display()));
                assert!(!f.batches.is_empty());
                n += 1;
            }
        }
        assert_eq!(n, 5, "one example per city");
    }

    #[test]
    fn a_bad_field_is_named_by_its_path() {
        let text = "[campaign]\nname = \"x\"\nregion = \"4205\"\nbudget_fen = \"lots\"\nfunding_source = \"f\"\nstarts_on = 2027-01-01\nends_on = 2027-01-02\n";
        let err = parse::<CampaignFile>(text, false).err().map(|e| format!("{e:#}")).unwrap_or_default();
        assert!(err.starts_with("campaign.budget_fen:"), "{err}");
        let err =
            parse::<CampaignFile>("[campaign]\nnme = 1\n", false).err().map(|e| format!("{e:#}")).unwrap_or_default();
        assert!(err.contains("unknown field `nme`"), "{err}");
    }
}

/// A CSV file as quan writes every one: a UTF-8 byte-order mark first (so
/// a Chinese Excel reads it as UTF-8), and every cell through
/// [`quan_engine::csv_cell::cell`] (text that a spreadsheet would run as a
/// formula is written as text; numbers are left alone).
#[derive(Debug)]
pub struct CsvOut {
    w: csv::Writer<std::fs::File>,
}

impl CsvOut {
    pub fn create(path: &Path) -> anyhow::Result<CsvOut> {
        use std::io::Write as _;
        let mut f = std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
        f.write_all(quan_engine::csv_cell::BOM.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(CsvOut { w: csv::Writer::from_writer(f) })
    }

    pub fn record<I, S>(&mut self, cells: I) -> anyhow::Result<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let cells: Vec<String> =
            cells.into_iter().map(|c| quan_engine::csv_cell::cell(c.as_ref()).into_owned()).collect();
        self.w.write_record(&cells)?;
        Ok(())
    }

    pub fn flush(&mut self) -> anyhow::Result<()> {
        self.w.flush()?;
        Ok(())
    }
}
