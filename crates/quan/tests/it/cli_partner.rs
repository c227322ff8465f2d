//! `quan partner …` as an official runs it: a bank registered with an HMAC
//! secret printed once, an SM2 partner with its public key, a key rotated
//! and the old one revoked, a partner cut off and let back (the list says
//! so), bad input refused with the rule, the platform key printed.

use crate::cli::{run, text};

#[test]
fn an_official_registers_rotates_and_cuts_off_partners_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let d = dir.path();
    let admin = ["admin", "create-user", "--role", "official", "--region", "4205", "--username", "yichang.admin"];
    assert!(run(d, &admin, "").status.success());
    let ok = |args: &[&str]| {
        let out = run(d, args, "");
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        text(&out.stdout)
    };
    let bank = ok(&["partner", "create", "--name", "宜昌银行", "--kind", "bank", "--as", "yichang.admin"]);
    assert!(bank.contains("HMAC secret") && bank.contains("qps_") && bank.contains("public_key 04"), "{bank}");
    let id = bank.split(['(', ')']).nth(1).unwrap_or_default().to_owned();
    let sm2_key = "04".to_owned() + &"0".repeat(128);
    let bad = run(
        d,
        &["partner", "create", "--name", "坏钥匙", "--kind", "bank", "--public-key", &sm2_key, "--as", "yichang.admin"],
        "",
    );
    assert!(!bad.status.success() && text(&bad.stderr).contains("SM2 public key"), "{}", text(&bad.stderr));
    let twice = run(d, &["partner", "create", "--name", "宜昌银行", "--kind", "bank", "--as", "yichang.admin"], "");
    assert!(!twice.status.success() && text(&twice.stderr).contains("registered already"), "{}", text(&twice.stderr));

    let first_serial = bank.lines().find_map(|l| l.strip_prefix("key serial_no ")).unwrap_or_default().to_owned();
    let rotated = ok(&["partner", "rotate", &id, "--revoke", &first_serial, "--as", "yichang.admin"]);
    assert!(rotated.contains("HMAC secret") && rotated.contains(&format!("revoked key {first_serial}")), "{rotated}");
    let cut = ok(&["partner", "suspend", &id, "--reason", "对账差错", "--as", "yichang.admin"]);
    assert!(cut.contains("suspended") && cut.contains("对账差错"), "{cut}");
    ok(&["partner", "resume", &id, "--as", "yichang.admin"]);
    let list = ok(&["partner", "list", "--as", "yichang.admin"]);
    assert!(list.contains("宜昌银行") && list.contains("active") && list.contains("revoked"), "{list}");
    let key = ok(&["partner", "platform-key"]);
    assert!(key.contains("serial_no") && key.contains("public_key 04"), "{key}");
}
