//! Whole-process wall time of `pipectl cost` on the seed spec, beside `pipectl --version` from
//! the same binary (process start-up and exit, no work) as the baseline. The difference is what
//! the command itself costs; no AWS client is ever created by either.
//! `cargo bench -p pipectl-cli`.

use std::process::Command;

use criterion::{Criterion, criterion_group, criterion_main};

fn run(args: &[&str]) {
    let status = Command::new(env!("CARGO_BIN_EXE_pipectl"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("spawn pipectl");
    assert!(status.success());
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("process");
    g.bench_function("baseline: pipectl --version", |b| {
        b.iter(|| run(&["--version"]));
    });
    g.bench_function("pipectl cost (seed spec, built-in list prices)", |b| {
        b.iter(|| {
            run(&[
                "cost",
                "infra-specs/two-hour-pipeline.toml",
                "--output",
                "json",
            ]);
        });
    });
    g.bench_function("pipectl validate (seed spec)", |b| {
        b.iter(|| run(&["validate", "infra-specs/two-hour-pipeline.toml"]));
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
