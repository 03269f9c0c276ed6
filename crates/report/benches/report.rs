//! Report generation for a run of 10,000 jobs (the bound: under a second), beside a
//! baseline: serialising the same report to JSON alone, which any report must at least do.

use criterion::{Criterion, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let report = pipectl_report::fixture::sample(10_000);
    let mut g = c.benchmark_group("report_10000_jobs");
    g.sample_size(10);
    g.bench_function("baseline_json_only", |b| {
        b.iter(|| serde_json::to_string_pretty(std::hint::black_box(&report)).unwrap());
    });
    g.bench_function("render_all_files", |b| {
        b.iter(|| pipectl_report::render(std::hint::black_box(&report)).unwrap());
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
