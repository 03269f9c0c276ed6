//! Every policy pipectl prints (the operator's, per command set and account, and the stack's
//! permissions boundary) or creates (the job role's, the S3 endpoint's) for every shipped spec
//! passes the maintained IAM policy linter parliament with no finding of MEDIUM or above. parliament is
//! installed in the local AWS's environment by the test command (localstack/requirements-test.lock);
//! without it this test fails rather than pass unread.

use super::*;

fn parliament() -> PathBuf {
    let p = root().join("localstack/.venv/bin/parliament");
    assert!(
        p.exists(),
        "{} is missing: run localstack/start, then localstack/.venv/bin/pip install -r localstack/requirements-test.lock",
        p.display()
    );
    p
}

fn shipped_specs() -> Vec<String> {
    let mut specs: Vec<String> = std::fs::read_dir(root().join("infra-specs"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| p.strip_prefix(root()).unwrap().display().to_string())
        .collect();
    specs.push("examples/rnn-textgen/pipeline.toml".into());
    specs.sort();
    specs
}

/// parliament's findings of MEDIUM or above for one policy document.
fn findings(policy: &str) -> String {
    let o = Command::new(parliament())
        .args(["--minimum_severity", "MEDIUM", "--string", policy])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run parliament");
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        o.status.success() || !text.trim().is_empty(),
        "parliament failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    text.trim().to_string()
}

#[test]
fn every_printed_policy_passes_the_linter() {
    let mut linted = 0;
    for spec in shipped_specs() {
        for extra in [
            vec![],
            vec!["--account", "123456789012"],
            vec!["--commands", "run"],
            vec!["--boundary", "--account", "123456789012"],
            vec!["--boundary"],
        ] {
            let mut args = vec!["-q", "iam-policy", spec.as_str()];
            args.extend(&extra);
            let o = pipectl(&args);
            assert!(o.status.success(), "{args:?}: {}", stderr(&o));
            let found = findings(&stdout(&o));
            assert!(found.is_empty(), "{args:?}:\n{found}");
            linted += 1;
        }
    }
    assert!(linted >= 15, "{linted} policies linted");
}

#[test]
fn the_linter_reads_what_it_is_given() {
    // the finding the issue found in the old policy: `s3:Get*` on bucket ARNs
    let old = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":["arn:aws:s3:::pipectl-s-*"]}]}"#;
    assert!(findings(old).contains("MEDIUM"), "parliament found nothing");
}

#[test]
fn every_policy_pipectl_creates_passes_the_linter() {
    use pipectl_provision::policies;
    let mut linted = 0;
    for spec in shipped_specs() {
        let spec = pipectl_spec::load_file(&root().join(&spec)).unwrap().spec;
        let account = "123456789012";
        let job = policies::job_policy(&policies::bucket_names(&spec, account));
        let endpoint = policies::s3_endpoint_policy(&spec, account).to_string();
        let mut docs = vec![
            ("job role".to_string(), job),
            ("S3 endpoint".into(), endpoint),
        ];
        for svc in pipectl_spec::graph::interface_endpoints(&spec) {
            if let Some(p) = policies::interface_endpoint_policy(&spec, account, &svc) {
                docs.push((format!("{svc} endpoint"), p.to_string()));
            }
        }
        for (what, doc) in docs {
            let found = findings(&doc);
            assert!(found.is_empty(), "{what} of {}:\n{found}", spec.stack.name);
            linted += 1;
        }
        // (trust policies are not linted: parliament reads a policy as an identity policy and
        // demands a Resource, which a trust policy never has; policies.rs tests them)
    }
    assert!(linted >= 3 * 5, "{linted}");
}
