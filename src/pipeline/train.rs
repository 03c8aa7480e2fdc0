//! `doppel train-cleaner`: reads labelled pages and trains the cleaner's
//! line classifier ([`crate::clean::model`]) on them.
//!
//! The format is one page a JSONL record, `{"lines": [{"text": "...",
//! "label": "content" | "boilerplate"}, ...]}`; other fields are ignored,
//! blank lines are dropped (the cleaner never sees them), and `junk` is
//! taken as a synonym of `boilerplate`. Files may be compressed with gzip
//! or zstd, as every input of doppel.

use std::io::BufRead;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use serde::Deserialize;

use crate::clean::model::{LabelledPage, LineModel, TrainOptions};
use crate::{Error, Result};

#[derive(Deserialize)]
struct PageRecord {
    lines: Vec<LineRecord>,
}

#[derive(Deserialize)]
struct LineRecord {
    text: String,
    label: String,
}

/// Reads labelled pages from `inputs` and trains a model on them.
pub fn train_cleaner(inputs: &[PathBuf], opts: &TrainOptions) -> Result<LineModel> {
    let mut pages = Vec::new();
    for path in inputs {
        read_labelled(path, &mut pages)?;
    }
    // A model of one class learns nothing and cuts everything (or nothing).
    let junk_lines = pages.iter().flat_map(|p| &p.junk).filter(|&&j| j).count();
    let lines: usize = pages.iter().map(|p| p.junk.len()).sum();
    if junk_lines == 0 || junk_lines == lines {
        let missing = if junk_lines == 0 { "boilerplate" } else { "content" };
        return Err(Error::config(format!(
            "the labelled pages hold no {missing} line ({lines} lines in all): training needs lines of both labels"
        )));
    }
    LineModel::train(&pages, opts)
}

/// Appends the pages of one labelled file; an error names the file and line.
fn read_labelled(path: &PathBuf, pages: &mut Vec<LabelledPage>) -> Result<()> {
    let reader = crate::input::open_decoded(path, Arc::new(AtomicU64::new(0))).map_err(|e| Error::io(path, e))?;
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| Error::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let bad = |message: String| Error::config(format!("{}:{}: {message}", path.display(), i + 1));
        let record: PageRecord = serde_json::from_str(&line).map_err(|e| bad(format!("not a labelled page: {e}")))?;
        let mut page = LabelledPage::default();
        for l in record.lines {
            let junk = match l.label.as_str() {
                "content" => false,
                "boilerplate" | "junk" => true,
                other => return Err(bad(format!("label {other:?} is neither \"content\" nor \"boilerplate\""))),
            };
            if !l.text.trim().is_empty() {
                page.lines.push(l.text);
                page.junk.push(junk);
            }
        }
        pages.push(page);
    }
    Ok(())
}
