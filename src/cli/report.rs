//! `drover report merge`: one report from the JSON reports of a run's shards.

use crate::diagnostics::{Error, Result, Span};
use crate::output::{MergedReport, ReportFormat};
use std::path::{Path, PathBuf};

/// Merge `inputs` and write each of `outputs` (format by extension) or Markdown to
/// stdout when none is given. Returns the exit code of the merged recap.
pub fn merge(inputs: &[PathBuf], outputs: &[PathBuf]) -> Result<(i32, Option<String>)> {
    let formats: Vec<(&PathBuf, ReportFormat)> = outputs
        .iter()
        .map(|o| {
            ReportFormat::from_path(o).map(|f| (o, f)).ok_or_else(|| {
                Error::invalid(
                    format!("cannot tell the report format of {}", o.display()),
                    &Span::file(Path::new("--output")),
                )
                .with_help("name the file FILE.md, FILE.json or FILE.xml (JUnit)")
            })
        })
        .collect::<Result<_>>()?;
    let merged = MergedReport::read(inputs)?;
    for (path, format) in &formats {
        std::fs::write(path, merged.render(*format)).map_err(|e| Error::io_at(path, &e))?;
    }
    let stdout = formats
        .is_empty()
        .then(|| merged.render(ReportFormat::Markdown));
    Ok((merged.exit_code(), stdout))
}
