//! A case's evidence package for the authorities (`quan risk export`):
//! the case and its records as JSON, its redemptions as CSV, the
//! resident–merchant graph as data and as a picture (SVG), a summary in
//! Chinese, and a manifest of every file's SHA-256 signed with the
//! deployment's SM2 key. `verify` checks a package read back.

use quan_store::RiskCase;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::RiskError;
use crate::Engine;
use crate::auth::Actor;
use crate::platform_key::{SIGNER_ID, verify_hex};

/// The files of a package, in order, with the manifest and its signature last.
#[derive(Debug)]
pub struct Package {
    pub files: Vec<(String, Vec<u8>)>,
}

impl Package {
    /// The package as one ZIP file (deflated), its files in a folder named `case-N`.
    pub fn zip(&self, folder: &str) -> std::io::Result<Vec<u8>> {
        use std::io::Write as _;
        let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in &self.files {
            z.start_file(format!("{folder}/{name}"), opts).map_err(std::io::Error::other)?;
            z.write_all(bytes)?;
        }
        Ok(z.finish().map_err(std::io::Error::other)?.into_inner())
    }
}

/// The manifest's file name and its signature's.
pub const MANIFEST: &str = "manifest.json";
pub const SIGNATURE: &str = "manifest.sig";

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

fn beijing(s: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&quan_domain::UTC8).format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|_| s.to_owned())
}

fn yuan_cell(v: &Value) -> String {
    quan_domain::Fen::new(v.as_i64().unwrap_or(0)).to_string()
}

/// The redemptions of the evidence as CSV (BOM, formula-safe cells, Beijing time).
fn redemptions_csv(evidence: &Value) -> Vec<u8> {
    let mut out = String::from(crate::csv_cell::BOM);
    out.push_str("核销编号,居民编号,商户编号,订单金额（元）,补贴（元）,核销时间（北京时间）\r\n");
    for r in evidence["redemptions"].as_array().into_iter().flatten() {
        let text = |k: &str| crate::csv_cell::cell(r[k].as_str().unwrap_or("")).into_owned();
        out.push_str(&format!(
            "{},{},{},{},{},{}\r\n",
            text("id"),
            text("resident"),
            text("merchant"),
            yuan_cell(&r["order_fen"]),
            yuan_cell(&r["subsidy_fen"]),
            beijing(r["redeemed_at"].as_str().unwrap_or(""))
        ));
    }
    out.into_bytes()
}

/// The graph as data: merchants and residents as nodes, pairs as edges.
fn graph(evidence: &Value) -> Value {
    let merchants: Vec<Value> = evidence["merchants"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| json!({"id": m["id"], "kind": "merchant", "name": m["name"]}))
        .collect();
    let residents: Vec<Value> =
        evidence["residents"].as_array().into_iter().flatten().map(|r| json!({"id": r, "kind": "resident"})).collect();
    json!({"nodes": merchants.into_iter().chain(residents).collect::<Vec<_>>(), "edges": evidence["edges"].clone()})
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The graph of a case's evidence (JSON) as a picture (SVG).
pub fn graph_svg_of(evidence: &Value) -> String {
    String::from_utf8(graph_svg(&graph(evidence))).unwrap_or_default()
}

/// The graph as a picture: merchants on the left, residents on the right,
/// a line per pair as thick as its redemptions, red where orders hugged the threshold.
fn graph_svg(g: &Value) -> Vec<u8> {
    let nodes = g["nodes"].as_array().cloned().unwrap_or_default();
    let (ms, rs): (Vec<&Value>, Vec<&Value>) = nodes.iter().partition(|n| n["kind"] == "merchant");
    let row = |i: usize, n: usize, h: usize| 40 + if n <= 1 { h / 2 } else { i * h / (n - 1) };
    let h = 16 * rs.len().max(ms.len()).max(4);
    let y_of = |list: &[&Value], id: &Value| list.iter().position(|n| n["id"] == *id).map(|i| row(i, list.len(), h));
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="760" height="{h2}" viewBox="0 0 760 {h2}" font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="white"/><text x="20" y="20">商户</text><text x="560" y="20">居民</text>"#,
        h2 = h + 80
    );
    for e in g["edges"].as_array().into_iter().flatten() {
        if let (Some(y1), Some(y2)) = (y_of(&ms, &e["merchant"]), y_of(&rs, &e["resident"])) {
            let n = e["redemptions"].as_u64().unwrap_or(1).min(8);
            let colour = if e["hugging"].as_u64().unwrap_or(0) * 2 >= e["redemptions"].as_u64().unwrap_or(1) {
                "#c0392b"
            } else {
                "#7f8c8d"
            };
            s.push_str(&format!(r#"<line x1="200" y1="{y1}" x2="550" y2="{y2}" stroke="{colour}" stroke-width="{n}" stroke-opacity="0.6"/>"#));
        }
    }
    for (i, m) in ms.iter().enumerate() {
        let y = row(i, ms.len(), h);
        let name = xml(m["name"].as_str().unwrap_or(""));
        s.push_str(&format!(
            r##"<circle cx="200" cy="{y}" r="6" fill="#2c3e50"/><text x="190" y="{}" text-anchor="end">{name}</text>"##,
            y + 4
        ));
    }
    for (i, r) in rs.iter().enumerate() {
        let y = row(i, rs.len(), h);
        let short = quan_domain::ids::short(r["id"].as_str().unwrap_or(""));
        s.push_str(&format!(
            r##"<circle cx="550" cy="{y}" r="4" fill="#2980b9"/><text x="560" y="{}">{}</text>"##,
            y + 4,
            xml(&short)
        ));
    }
    s.push_str("</svg>\n");
    s.into_bytes()
}

fn action_zh(a: &str) -> &str {
    match a {
        "opened" => "立案",
        "found_again" => "再次发现",
        "hold_settlement" => "暂停结算",
        "release_settlement" => "恢复结算",
        "suspend_merchants" => "暂停商户",
        "freeze_vouchers" => "冻结消费券",
        "release_vouchers" => "解冻消费券",
        "note" => "备注",
        "closed" => "结案",
        other => other,
    }
}

fn summary_txt(c: &RiskCase, files: &[(String, Vec<u8>)], public_hex: &str) -> Vec<u8> {
    let t = |d: chrono::DateTime<chrono::Utc>| d.with_timezone(&quan_domain::UTC8).format("%Y-%m-%d %H:%M").to_string();
    let mut s = format!(
        "风险案件 {} 号证据材料\n\n类型：{}\n状态：{}\n立案时间：{}（北京时间）\n涉及补贴：{}\n\n{}\n\n处置记录：\n",
        c.number,
        c.kind,
        match (c.status.as_str(), c.outcome.as_deref()) {
            ("open", _) => "处理中",
            (_, Some("fraud_confirmed")) => "已结案（确认违规）",
            (_, Some("false_alarm")) => "已结案（误报）",
            _ => "已结案",
        },
        t(c.opened_at),
        super::findings::yuan(c.amount),
        c.summary
    );
    for a in &c.actions {
        let who =
            a.by.map_or("系统分析".to_owned(), |u| format!("工作人员 {}", quan_domain::ids::short(&u.to_string())));
        s.push_str(&format!("- {} {} {}：{}\n", t(a.at), who, action_zh(&a.action), a.note));
    }
    s.push_str("\n材料清单：\n");
    for (name, _) in files {
        s.push_str(&format!("- {name}\n"));
    }
    s.push_str(&format!(
        "\n核验方法：manifest.json 列出每个文件的 SHA-256；manifest.sig 是部署方以 SM2 国密算法（SM3 杂凑，签名者标识 {SIGNER_ID}）对 manifest.json 的签名（r‖s，十六进制），公钥（SEC1，十六进制）：\n{public_hex}\n可用 quan risk verify 目录 核验。\n"
    ));
    s.into_bytes()
}

impl Engine {
    /// A case's evidence package, as an operator or official of its region reads it.
    pub async fn case_package(&self, actor: &Actor, id: uuid::Uuid) -> Result<Package, RiskError> {
        let c = self.risk_case(actor, id).await?;
        Ok(self.package_of(&c))
    }

    /// The package of a case read already (the command line reads it without an actor).
    pub async fn case_package_unchecked(&self, number_or_id: &str) -> Result<Package, RiskError> {
        let id = match number_or_id.parse::<i64>() {
            Ok(n) => {
                let all = self.store().risk_cases(false, u32::MAX).await?;
                all.into_iter().find(|c| c.number == n).map(|c| c.id).ok_or(RiskError::NotFound)?
            }
            Err(_) => number_or_id.parse().map_err(|_| RiskError::NotFound)?,
        };
        Ok(self.package_of(&self.store().risk_case(id).await?))
    }

    fn package_of(&self, c: &RiskCase) -> Package {
        let evidence: Value = serde_json::from_str(&c.evidence).unwrap_or(Value::Null);
        let record = json!({
            "id": c.id, "number": c.number, "kind": c.kind, "subject": c.subject, "source": c.source,
            "district": c.district, "campaign": c.campaign, "score": c.score, "summary": c.summary,
            "amount_fen": c.amount.as_i64(), "status": c.status, "outcome": c.outcome,
            "opened_at": c.opened_at.to_rfc3339(), "closed_at": c.closed_at.map(|t| t.to_rfc3339()),
            "members": c.members.iter().map(|m| json!({"kind": m.kind, "id": m.id})).collect::<Vec<_>>(),
            "actions": c.actions.iter().map(|a| json!({"seq": a.seq, "action": a.action, "by": a.by, "at": a.at.to_rfc3339(),
                "note": a.note, "detail": serde_json::from_str::<Value>(&a.detail).unwrap_or(Value::String(a.detail.clone()))})).collect::<Vec<_>>(),
            "evidence": evidence,
        });
        let g = graph(&evidence);
        let key = self.platform_key();
        let mut files: Vec<(String, Vec<u8>)> = vec![
            ("case.json".into(), serde_json::to_vec_pretty(&record).unwrap_or_default()),
            ("redemptions.csv".into(), redemptions_csv(&evidence)),
            ("graph.json".into(), serde_json::to_vec_pretty(&g).unwrap_or_default()),
            ("graph.svg".into(), graph_svg(&g)),
        ];
        let summary = summary_txt(c, &files, &key.public_hex());
        files.insert(0, ("summary.txt".into(), summary));
        let manifest = json!({
            "case": c.number, "case_id": c.id, "created_at": self.now().to_rfc3339(),
            "files": files.iter().map(|(n, b)| json!({"name": n, "sha256": sha256_hex(b), "bytes": b.len()})).collect::<Vec<_>>(),
            "signature": {"algorithm": "SM2-with-SM3", "signer_id": SIGNER_ID, "public_key": key.public_hex(), "file": SIGNATURE, "encoding": "hex r||s"},
        });
        let manifest = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
        let sig = key.sign_hex(&manifest);
        files.push((MANIFEST.into(), manifest));
        files.push((SIGNATURE.into(), format!("{sig}\n").into_bytes()));
        Package { files }
    }

    /// The deployment's signing key.
    pub fn platform_key(&self) -> crate::platform_key::PlatformKey {
        self.inner.partners.platform().clone()
    }
}

/// What checking a package found: one line per problem (none: it verifies).
pub fn verify(read: &dyn Fn(&str) -> Option<Vec<u8>>, expected_public_hex: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let (Some(manifest), Some(sig)) = (read(MANIFEST), read(SIGNATURE)) else {
        return vec![format!("{MANIFEST} or {SIGNATURE} is missing")];
    };
    let Ok(m) = serde_json::from_slice::<Value>(&manifest) else { return vec![format!("{MANIFEST} is not JSON")] };
    let public = m["signature"]["public_key"].as_str().unwrap_or("");
    if public != expected_public_hex {
        problems.push("the manifest names another public key than this deployment's".into());
    }
    if !verify_hex(expected_public_hex, &manifest, &String::from_utf8_lossy(&sig)) {
        problems.push("the manifest's signature does not verify under this deployment's key".into());
    }
    for f in m["files"].as_array().into_iter().flatten() {
        let name = f["name"].as_str().unwrap_or("");
        match read(name) {
            None => problems.push(format!("{name} is missing")),
            Some(b) if sha256_hex(&b) != f["sha256"].as_str().unwrap_or("") => {
                problems.push(format!("{name} differs from its SHA-256 in the manifest"))
            }
            Some(_) => {}
        }
    }
    problems
}
