//! Band tables: every document's LSH band keys, kept for grouping into
//! candidate pairs, in memory or, past `--memory-limit`, in sorted runs on disk.
//!
//! In memory the keys are band-major (`columns[band][doc]`, 4 bytes a key),
//! and banding sorts one band's `(key, doc)` entries at a time. When a
//! memory limit is set and the buffered keys reach it, each band of the
//! buffer is sorted and appended to a spill file as a run, and the buffer
//! starts again. Banding then merges the runs of each band (a k-way merge on
//! `(key, doc)`), which yields exactly the sequence that sorting the whole
//! band in memory gives: document indices are unique and every run is sorted
//! on the same order. The buckets, and so the candidate pairs and every
//! output, are byte-identical whatever the limit.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::Path;

use rayon::prelude::*;

use crate::lsh::{band_key, pairs_from_bucket};
use crate::spill::SpillFile;

/// Bytes of one spilled entry: a 32-bit key and a 32-bit document index.
const ENTRY_BYTES: usize = 8;

/// Entries read from a run at a time during the merge, at least and at most.
const MIN_READ_ENTRIES: usize = 16;
const MAX_READ_ENTRIES: usize = 128 * 1024;

/// The fewest documents a run holds, whatever the limit: a run costs
/// `16 x bands` bytes of bookkeeping and a reader in every band's merge, so
/// runs of a document or two would take more memory than the keys they
/// hold. At 256 documents the bookkeeping is about one byte a document.
pub(crate) const MIN_RUN_DOCS: usize = 256;

/// The band keys of a corpus (see the module docs).
#[derive(Debug)]
pub(crate) struct BandTables {
    rows: usize,
    // Keys of the documents `first_doc..`, band-major.
    columns: Vec<Vec<u32>>,
    first_doc: u32,
    spill: Option<Runs>,
    scratch: Vec<u8>,
}

/// Sorted runs of a spilled band table.
#[derive(Debug)]
struct Runs {
    limit_bytes: u64,
    // Documents a run holds: what the limit allows, at least MIN_RUN_DOCS.
    run_docs: usize,
    dir: std::path::PathBuf,
    file: Option<SpillFile>,
    // `segments[run][band]`: where that band's sorted entries of that run lie.
    segments: Vec<Vec<Segment>>,
}

#[derive(Debug, Clone, Copy)]
struct Segment {
    offset: u64,
    entries: u64,
}

impl BandTables {
    /// Empty tables of `bands` bands of `rows` signature values, in memory.
    pub(crate) fn new(bands: usize, rows: usize) -> BandTables {
        BandTables { rows, columns: vec![Vec::new(); bands], first_doc: 0, spill: None, scratch: Vec::new() }
    }

    /// Spill to sorted runs in an unnamed file in `dir` whenever the buffered
    /// keys (with the scratch a band's sort needs) would pass `limit_bytes`,
    /// in runs of at least [`MIN_RUN_DOCS`] documents.
    pub(crate) fn limit_memory(&mut self, limit_bytes: u64, dir: &Path) {
        let per_document = (self.bands() * 4 + ENTRY_BYTES) as u64;
        let run_docs = usize::try_from(limit_bytes / per_document).unwrap_or(usize::MAX).max(MIN_RUN_DOCS);
        self.spill_every(run_docs, limit_bytes, dir);
    }

    /// Spill a run every `run_docs` documents; `limit_bytes` sizes the
    /// merge's reads.
    fn spill_every(&mut self, run_docs: usize, limit_bytes: u64, dir: &Path) {
        self.spill = Some(Runs { limit_bytes, run_docs, dir: dir.to_path_buf(), file: None, segments: Vec::new() });
    }

    /// Number of bands.
    pub(crate) fn bands(&self) -> usize {
        self.columns.len()
    }

    /// Appends the band keys of the next document's signature.
    pub(crate) fn push(&mut self, sig: &[u32]) {
        let run_docs = self.spill.as_ref().map(|s| s.run_docs);
        for (band, column) in self.columns.iter_mut().enumerate() {
            // Under a limit, capacity doubles only up to a run, so the
            // buffer never holds more than the limit allows.
            if let Some(max) = run_docs
                && column.len() == column.capacity()
            {
                let room = max.saturating_sub(column.len()).max(1);
                column.reserve_exact(column.capacity().max(64).min(room));
            }
            // The low half of the band hash; see `Signatures`.
            column.push(band_key(sig, band, self.rows, &mut self.scratch).0 as u32);
        }
    }

    /// The key of `band` for `doc`. Panics once runs have been spilled.
    pub(crate) fn key(&self, doc: u32, band: usize) -> u32 {
        assert!(self.runs() == 0, "band keys of a spilled table are on disk");
        self.columns[band][doc as usize]
    }

    /// Documents held in the in-memory buffer.
    fn buffered(&self) -> usize {
        self.columns.first().map_or(0, Vec::len)
    }

    /// Number of runs spilled so far.
    pub(crate) fn runs(&self) -> usize {
        self.spill.as_ref().map_or(0, |s| s.segments.len())
    }

    /// Bytes written to the spill file.
    pub(crate) fn spilled_bytes(&self) -> u64 {
        self.spill.as_ref().and_then(|s| s.file.as_ref()).map_or(0, SpillFile::len)
    }

    /// Spills the buffer as a run if it has reached the memory limit.
    /// `shingles` holds every document's shingle count, indexed by document:
    /// documents without shingles take no part in banding.
    pub(crate) fn spill_if_full(&mut self, shingles: &[u32]) -> std::io::Result<()> {
        match &self.spill {
            Some(s) if self.buffered() >= s.run_docs => self.spill_run(shingles),
            _ => Ok(()),
        }
    }

    fn spill_run(&mut self, shingles: &[u32]) -> std::io::Result<()> {
        let buffered = self.buffered() as u32;
        let Some(spill) = self.spill.as_mut() else { return Ok(()) };
        if buffered == 0 {
            return Ok(());
        }
        let file = match &mut spill.file {
            Some(f) => f,
            None => spill.file.insert(SpillFile::create(&spill.dir)?),
        };
        let first = self.first_doc;
        let mut entries: Vec<(u32, u32)> = Vec::with_capacity(buffered as usize);
        let mut segments = Vec::with_capacity(self.columns.len());
        for column in &mut self.columns {
            entries.clear();
            entries.extend(
                column
                    .iter()
                    .enumerate()
                    .map(|(i, &key)| (key, first + i as u32))
                    .filter(|&(_, doc)| shingles[doc as usize] > 0),
            );
            entries.sort_unstable();
            segments.push(Segment { offset: file.len(), entries: entries.len() as u64 });
            // Through the file's buffer: no second copy of the run in memory.
            for &(key, doc) in &entries {
                file.append(&key.to_le_bytes())?;
                file.append(&doc.to_le_bytes())?;
            }
            column.clear();
        }
        spill.segments.push(segments);
        self.first_doc = first + buffered;
        Ok(())
    }

    /// True when banding must merge runs from disk.
    pub(crate) fn is_spilled(&self) -> bool {
        self.runs() > 0
    }

    /// The candidate pairs of every band, band by band, merged from the
    /// runs: spills the rest of the buffer as a last run first.
    pub(crate) fn spilled_pairs(&mut self, shingles: &[u32]) -> std::io::Result<Vec<Vec<u64>>> {
        self.spill_run(shingles)?;
        let Some(spill) = self.spill.as_mut() else { return Ok(Vec::new()) };
        let Some(file) = spill.file.as_mut() else { return Ok(Vec::new()) };
        file.finish()?;
        let (file, segments) = (&*file, &spill.segments);
        let runs = segments.len().max(1);
        // Each band's merge reads every run through its own buffer; all the
        // merges running at once share the memory limit.
        let per_read = spill.limit_bytes as usize / (ENTRY_BYTES * runs * rayon::current_num_threads().max(1));
        let read_entries = per_read.clamp(MIN_READ_ENTRIES, MAX_READ_ENTRIES);
        (0..self.columns.len())
            .into_par_iter()
            .map(|band| {
                let mut pairs = Vec::new();
                let band_segments: Vec<Segment> = segments.iter().map(|run| run[band]).collect();
                merge_band(file, &band_segments, read_entries, &mut pairs)?;
                Ok(pairs)
            })
            .collect()
    }
}

/// Reads one run's segment of a band in blocks.
struct RunReader {
    next_offset: u64,
    left: u64,
    block: Vec<u8>,
    pos: usize,
}

impl RunReader {
    fn next(&mut self, file: &SpillFile, read_entries: usize) -> std::io::Result<Option<(u32, u32)>> {
        if self.pos == self.block.len() {
            if self.left == 0 {
                return Ok(None);
            }
            let n = self.left.min(read_entries as u64);
            self.block.resize(n as usize * ENTRY_BYTES, 0);
            file.read_exact_at(&mut self.block, self.next_offset)?;
            self.next_offset += n * ENTRY_BYTES as u64;
            self.left -= n;
            self.pos = 0;
        }
        let e = &self.block[self.pos..self.pos + ENTRY_BYTES];
        self.pos += ENTRY_BYTES;
        let word = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        Ok(Some((word(&e[..4]), word(&e[4..]))))
    }
}

/// Merges the sorted segments of one band and appends its candidate pairs.
fn merge_band(file: &SpillFile, segments: &[Segment], read_entries: usize, out: &mut Vec<u64>) -> std::io::Result<()> {
    let mut readers: Vec<RunReader> = segments
        .iter()
        .map(|s| RunReader { next_offset: s.offset, left: s.entries, block: Vec::new(), pos: 0 })
        .collect();
    let mut heap = BinaryHeap::with_capacity(readers.len());
    for (run, reader) in readers.iter_mut().enumerate() {
        if let Some((key, doc)) = reader.next(file, read_entries)? {
            heap.push(Reverse((key, doc, run)));
        }
    }
    let mut bucket: Vec<u32> = Vec::new();
    let mut bucket_key = None;
    while let Some(Reverse((key, doc, run))) = heap.pop() {
        if bucket_key != Some(key) {
            pairs_from_bucket(&bucket, |&d| d, out);
            bucket.clear();
            bucket_key = Some(key);
        }
        bucket.push(doc);
        if let Some((key, doc)) = readers[run].next(file, read_entries)? {
            heap.push(Reverse((key, doc, run)));
        }
    }
    pairs_from_bucket(&bucket, |&d| d, out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lsh::{BandKey, pairs_from_sorted_band};
    use proptest::prelude::*;

    /// The pairs of every band, from sorting each whole band in memory.
    fn in_memory_pairs(tables: &BandTables, shingles: &[u32]) -> Vec<Vec<u64>> {
        (0..tables.bands())
            .map(|band| {
                let mut entries: Vec<(BandKey, u32)> = (0..shingles.len() as u32)
                    .filter(|&d| shingles[d as usize] > 0)
                    .map(|d| (BandKey(u64::from(tables.key(d, band))), d))
                    .collect();
                entries.sort_unstable();
                let mut pairs = Vec::new();
                pairs_from_sorted_band(&entries, &mut pairs);
                pairs
            })
            .collect()
    }

    proptest! {
        // Few distinct values, so buckets of every size (including ones past
        // ALL_PAIRS_BUCKET) span many runs.
        #[test]
        fn spilled_runs_give_the_pairs_of_the_whole_table(
            docs in prop::collection::vec((prop::collection::vec(0u32..3, 8), 0u32..4), 0..120),
            run_docs in 1usize..40,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let mut whole = BandTables::new(4, 2);
            let mut spilled = BandTables::new(4, 2);
            spilled.spill_every(run_docs, 1 << 20, dir.path());
            let mut shingles = Vec::new();
            for (sig, count) in &docs {
                whole.push(sig);
                spilled.push(sig);
                shingles.push(*count);
                spilled.spill_if_full(&shingles).unwrap();
            }
            let expected = in_memory_pairs(&whole, &shingles);
            let got = spilled.spilled_pairs(&shingles).unwrap();
            if docs.is_empty() {
                prop_assert!(got.is_empty());
            } else {
                prop_assert!(spilled.runs() >= 1);
                prop_assert_eq!(got, expected);
            }
        }
    }
}
