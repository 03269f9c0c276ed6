//! `completions` and `man`: generated from the command-line definitions, for every shell.

use super::*;

#[test]
fn completions_for_each_shell_name_every_command() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let o = pipectl(&["completions", shell]);
        assert!(o.status.success(), "{shell}: {}", stderr(&o));
        let script = stdout(&o);
        for command in [
            "validate",
            "plan",
            "up",
            "down",
            "run",
            "report",
            "iam-policy",
        ] {
            assert!(
                script.contains(command),
                "{shell} completions do not offer {command}"
            );
        }
        // a flag of a subcommand, not only the subcommand names
        assert!(
            script.contains("runs-dir"),
            "{shell} completions lack --runs-dir"
        );
    }
    let o = pipectl(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bash"), "{}", stderr(&o));
}

#[test]
fn man_prints_the_page_and_writes_one_per_command() {
    let o = pipectl(&["man"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let page = stdout(&o);
    assert!(
        page.starts_with(".ie"),
        "not roff: {}",
        &page[..40.min(page.len())]
    );
    assert!(page.contains(".TH pipectl 1"), "{page}");
    assert!(
        page.contains("iam\\-policy"),
        "the page lists no iam-policy"
    );

    let dir = std::env::temp_dir().join(format!("pipectl-man-{}", std::process::id()));
    let o = pipectl(&["man", "--dir", dir.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    for page in [
        "pipectl.1",
        "pipectl-up.1",
        "pipectl-run.1",
        "pipectl-completions.1",
    ] {
        let text = std::fs::read_to_string(dir.join(page)).unwrap_or_default();
        assert!(text.contains(".TH"), "{page} missing or empty");
    }
    std::fs::remove_dir_all(&dir).unwrap();

    // a directory that cannot be created: a clear error, exit 1
    let o = pipectl(&["man", "--dir", "/proc/pipectl-man"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cannot write /proc/pipectl-man"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("hint:"), "{}", stderr(&o));
}
