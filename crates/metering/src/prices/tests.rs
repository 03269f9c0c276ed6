//! The price sheet: loading, validation and lookups.

use super::*;

#[test]
fn builtin_sheet_parses_and_cites_every_price() {
    let sheet = builtin("us-east-1").unwrap().unwrap();
    assert_eq!(sheet.on_demand("g4dn.xlarge").unwrap().usd, 0.526);
    assert!(sheet.ec2.on_demand.values().all(|p| p.usd > 0.0));
    let r = sheet.fsx("SCRATCH_2", None).unwrap();
    assert!(r.source.contains("fsx"), "{}", r.source);
    assert!(builtin("eu-west-1").is_none());
}

#[test]
fn spot_falls_back_to_a_labelled_assumption_and_never_to_zero() {
    let sheet = builtin("us-east-1").unwrap().unwrap();
    let spot = sheet.spot("g4dn.xlarge").unwrap();
    assert!(spot.assumed);
    assert!((spot.usd - 0.526 * 0.30).abs() < 1e-12);
    assert!(sheet.spot("no-such.type").is_none());
    assert!(sheet.on_demand("no-such.type").is_none());
}

#[test]
fn negative_prices_are_refused_at_their_place() {
    let bad = "[sheet]\nname = \"x\"\nregion = \"us-east-1\"\ndate = \"2026-01-01\"\nsource = \"s\"\n[ec2.on_demand]\n\"t3.medium\" = { usd = -0.04 }\n";
    let err = PriceSheet::parse(Path::new("p.toml"), bad.into()).unwrap_err();
    let d = err.diagnostics().unwrap();
    assert_eq!(d.findings[0].code, "bad-price");
    assert_eq!(d.findings[0].line_col.unwrap().line, 7, "{d}");
}

#[test]
fn sheet_errors_are_located() {
    let bad = "[sheet]\nname = \"x\"\nregion = \"us-east-1\"\ndate = \"2026-01-01\"\nsource = \"s\"\n[ec2.on_demand]\n\"t3.medium\" = { usd = \"cheap\" }\n";
    let err = PriceSheet::parse(Path::new("p.toml"), bad.into()).unwrap_err();
    let d = err.diagnostics().unwrap();
    assert_eq!(d.findings[0].line_col.unwrap().line, 7, "{d}");
}

#[test]
fn a_sheet_as_loaded_reads_back_from_a_run_record() {
    // with the path it came from, which the record does not keep
    let sheet = builtin("us-east-1").unwrap().unwrap();
    let text = serde_json::to_string_pretty(&sheet.to_recorded()).unwrap();
    let recorded: RecordedPrices = serde_json::from_str(&text).unwrap();
    let back = PriceSheet::from_recorded(&recorded).unwrap();
    assert_eq!(back.on_demand("g4dn.xlarge").unwrap().usd, 0.526);
    assert_eq!(back.sheet.name, sheet.sheet.name);
    assert!(back.sheet.path.is_none());
    let bad = RecordedPrices(serde_json::json!({"sheet": 1}));
    assert!(PriceSheet::from_recorded(&bad).is_err());
}
