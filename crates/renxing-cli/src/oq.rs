//! `renxing oq JOB.ini --out DIR`: run an OpenQuake job whose hazard is given as ground-motion
//! fields and write OpenQuake's exports (see `docs/oq.md`).

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use renxing_risk::oq::OqJob;
use renxing_risk::oq::export::write_tables;

/// Runs the job and writes its tables into `out`.
pub fn run_oq(job: &Path, out: &Path, quiet: bool) -> anyhow::Result<()> {
    let t0 = Instant::now();
    if out.exists() && !out.is_dir() {
        anyhow::bail!("--out {} exists and is not a folder", out.display());
    }
    let job_data = OqJob::read(job).with_context(|| format!("reading the job {}", job.display()))?;
    let mode = job_data.mode;
    let t_read = t0.elapsed();
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        let b = ProgressBar::new(0);
        b.set_style(
            ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} events ({elapsed})")
                .expect("valid template")
                .progress_chars("=> "),
        );
        b.set_message(mode.name());
        b
    };
    let run = job_data.run(&|n| bar.set_length(n), &|k| bar.inc(k))?;
    bar.finish_and_clear();
    let written = write_tables(out, &run.tables)?;
    for w in &run.warnings {
        eprintln!("warning: {w}");
    }
    eprintln!(
        "{}: {} of {} assets on {} sites, {} events; read {:.2} s, total {:.2} s; wrote {}",
        mode.name(),
        run.n_assets_kept,
        run.n_assets,
        run.n_sites,
        run.n_events,
        t_read.as_secs_f64(),
        t0.elapsed().as_secs_f64(),
        written
            .iter()
            .map(|p| p
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}
