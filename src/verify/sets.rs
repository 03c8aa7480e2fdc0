//! Where exact verification gets its shingle sets: every document's set
//! in memory ([`ShingleSets`]), the log the sign pass writes ([`SetLog`]),
//! and the candidate documents' sets spilled to disk and read back
//! ([`SpilledSets`]).

use super::bins::set_bins;
use super::table::HashList;
#[cfg(doc)]
use crate::shingle::fingerprint;
use crate::spill::SpillFile;

/// Exact shingle sets of a subset of documents, stored flat: sorted 64-bit
/// shingle hashes (the ground truth), or sorted 32-bit [`fingerprint`]s
/// (what [`crate::Deduplicator`] judges by, as `doppel dedup` does).
#[derive(Debug, Clone, Default)]
pub struct ShingleSets<T = u64> {
    pub(super) docs: Vec<u32>,
    pub(super) offsets: Vec<usize>,
    pub(super) hashes: Vec<T>,
}

impl<T: Copy> ShingleSets<T> {
    /// An empty store.
    pub fn new() -> ShingleSets<T> {
        ShingleSets { docs: Vec::new(), offsets: vec![0], hashes: Vec::new() }
    }

    /// Adds the set of document `doc`; documents must come in increasing order.
    pub fn push(&mut self, doc: u32, sorted_set: &[T]) {
        debug_assert!(self.docs.last().is_none_or(|&d| d < doc));
        self.docs.push(doc);
        self.hashes.extend_from_slice(sorted_set);
        self.offsets.push(self.hashes.len());
    }

    /// The set of `doc`, or `None` if it was not stored.
    pub fn get(&self, doc: u32) -> Option<&[T]> {
        let i = self.docs.binary_search(&doc).ok()?;
        Some(&self.hashes[self.offsets[i]..self.offsets[i + 1]])
    }

    /// Number of stored documents.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.docs.len() * 4 + self.offsets.len() * 8 + std::mem::size_of_val(self.hashes.as_slice())
    }
}

/// Shingle fingerprints of candidate documents in an unnamed temporary file, so that memory
/// holds only an index (20 bytes a stored document) however many candidate
/// documents there are; or, taken over from a set log small enough to be
/// held in memory, in memory. Sets are read back with positioned reads, from the
/// page cache in practice, by any number of threads at once.
///
/// The file holds the sets in native byte order: it lives only as long as
/// the process that wrote it.
#[derive(Debug)]
pub struct SpilledSets {
    pub(super) docs: Vec<u32>,
    // Where each stored list starts in the file, in values (u32), and its length.
    pub(super) starts: Vec<u64>,
    pub(super) lens: Vec<u32>,
    // Each stored list's number of distinct hashes plus one, once counted
    // (0: not yet); a document meets many pairs, its count is made once.
    pub(super) distinct: Vec<std::sync::atomic::AtomicU32>,
    // Each stored list's map of bins (see [`set_bins`]), back to back, once
    // made: `bin_starts[i]..bin_starts[i + 1]` are the words of the `i`th,
    // and `bin_ones[i]` its bins set. Empty when no maps were made.
    pub(super) bin_words: Vec<u64>,
    pub(super) bin_starts: Vec<usize>,
    pub(super) bin_ones: Vec<u32>,
    pub(super) lists: Lists,
    // The first read error; similarity lookups cannot return one.
    pub(super) error: std::sync::Mutex<Option<std::io::Error>>,
}

impl SpilledSets {
    /// An empty store backed by an unnamed temporary file in `dir`.
    pub fn create(dir: &std::path::Path) -> std::io::Result<SpilledSets> {
        Ok(SpilledSets::over(Lists::File(SpillFile::create(dir)?)))
    }

    /// A store held in memory of the lists of `docs` (sorted document
    /// indices), each given by `list` (any order, repeats allowed).
    #[cfg(test)]
    pub(crate) fn in_memory<'a>(docs: &[u32], list: impl Fn(u32) -> &'a [u32]) -> SpilledSets {
        let mut all = Vec::new();
        let mut sets = SpilledSets::over(Lists::Memory(Blocks::default()));
        for &doc in docs {
            sets.docs.push(doc);
            sets.starts.push(all.len() as u64);
            sets.lens.push(list(doc).len() as u32);
            all.extend_from_slice(list(doc));
        }
        if let Lists::Memory(blocks) = &mut sets.lists {
            blocks.push(all);
        }
        sets.index_done();
        sets
    }

    pub(super) fn over(lists: Lists) -> SpilledSets {
        SpilledSets {
            docs: Vec::new(),
            starts: Vec::new(),
            lens: Vec::new(),
            distinct: Vec::new(),
            bin_words: Vec::new(),
            bin_starts: Vec::new(),
            bin_ones: Vec::new(),
            lists,
            error: Default::default(),
        }
    }

    /// Appends the [`fingerprint`]s of document `doc`'s shingle hashes (in
    /// any order, repeats allowed); documents must come in increasing order.
    pub fn push(&mut self, doc: u32, hashes: &[u32]) -> std::io::Result<()> {
        debug_assert!(self.docs.last().is_none_or(|&d| d < doc));
        let Lists::File(file) = &mut self.lists else {
            return Err(std::io::Error::other("internal: sets pushed to a store held in memory"));
        };
        let start = file.len() / 4;
        file.append(bytemuck::cast_slice(hashes))?;
        self.docs.push(doc);
        self.starts.push(start);
        self.lens.push(len_u32(hashes.len())?);
        Ok(())
    }

    /// Flushes the writes; call once, before reading.
    pub fn finish(&mut self) -> std::io::Result<()> {
        if let Lists::File(file) = &mut self.lists {
            file.finish()?;
        }
        self.index_done();
        Ok(())
    }

    pub(super) fn index_done(&mut self) {
        self.distinct = (0..self.docs.len()).map(|_| Default::default()).collect();
    }

    /// Where `doc` is stored, for the methods that take a stored list's
    /// index: a pair's judge looks its documents up once, not once a
    /// question.
    pub(super) fn index(&self, doc: u32) -> Option<usize> {
        self.docs.binary_search(&doc).ok()
    }

    /// The number of distinct hashes of the `i`th stored list, which is in
    /// `list`, counted with `scratch` the first time it is asked for.
    pub(super) fn distinct_count(&self, i: usize, list: &[u32], scratch: &mut HashList) -> usize {
        use std::sync::atomic::Ordering::Relaxed;
        match self.distinct[i].load(Relaxed) {
            0 => {
                scratch.fill(list);
                // A list's length is a u32, so only a list of u32::MAX
                // distinct hashes saturates (and is then one off).
                self.distinct[i].store((scratch.len() as u32).saturating_add(1), Relaxed);
                scratch.len()
            }
            n => n as usize - 1,
        }
    }

    /// The list of `doc`, read from the file (`None` if not stored or unreadable).
    pub fn get(&self, doc: u32) -> Option<Vec<u32>> {
        let mut set = Vec::new();
        self.get_into(doc, &mut set).then_some(set)
    }

    /// Reads the list of `doc` into `set`, reusing its buffer; false if the
    /// list is not stored or cannot be read.
    pub fn get_into(&self, doc: u32, set: &mut Vec<u32>) -> bool {
        let mut buf = Vec::new();
        self.index(doc)
            .and_then(|i| {
                self.with_list(i, &mut buf, |list| {
                    set.clear();
                    set.extend_from_slice(list);
                })
            })
            .is_some()
    }

    /// Calls `f` with the `i`th stored list: a slice of the lists held in
    /// memory, or `buf` filled from the file. `None` if the list cannot be
    /// read (the error is kept).
    pub(super) fn with_list<R>(&self, i: usize, buf: &mut Vec<u32>, f: impl FnOnce(&[u32]) -> R) -> Option<R> {
        let (start, len) = (self.starts[i], self.lens[i] as usize);
        let file = match &self.lists {
            Lists::Memory(blocks) => return Some(f(blocks.slice(start, len))),
            Lists::File(file) => file,
        };
        buf.clear();
        buf.resize(len, 0);
        if let Err(e) = file.read_exact_at(bytemuck::cast_slice_mut(buf), start * 4) {
            let mut slot = self.error.lock().unwrap_or_else(|p| p.into_inner());
            slot.get_or_insert(e);
            return None;
        }
        Some(f(buf))
    }

    /// How many words of bins (see [`set_bins`]) each stored list gets in
    /// at most `budget_bytes`: eight bins a hash, or four, two or one when
    /// the budget is short, rounded up to a power of two a list; `None`
    /// when not even one bin a hash fits, too few to rule much out.
    pub(crate) fn plan_bins(&self, budget_bytes: u64) -> Option<Vec<usize>> {
        let hashes: u64 = self.lens.iter().map(|&n| u64::from(n)).sum();
        // Rounding up to a power of two adds 44% on average, and up to 100%.
        let fits = budget_bytes as f64 * 8.0 / (2.0 * hashes.max(1) as f64);
        let mut bins_per_hash = [8.0, 4.0, 2.0, 1.0].into_iter().find(|&b| b <= fits).unwrap_or(0.0);
        // A word a list at least: many short lists can still pass the budget.
        while bins_per_hash >= 1.0 {
            let words_per_list: Vec<usize> = self
                .lens
                .iter()
                .map(|&n| ((f64::from(n) * bins_per_hash / 64.0).ceil() as usize).next_power_of_two())
                .collect();
            if words_per_list.iter().sum::<usize>() as u64 * 8 <= budget_bytes {
                return Some(words_per_list);
            }
            bins_per_hash /= 2.0;
        }
        None
    }

    /// Sets `words` to the bins of the `i`th stored list (see [`set_bins`]),
    /// read with `buf`; the bins set, or `None` if the list cannot be read
    /// (the error is kept).
    pub(crate) fn fill_bins(&self, i: usize, words: &mut [u64], buf: &mut Vec<u32>) -> Option<u32> {
        self.with_list(i, buf, |list| set_bins(words, list))
    }

    /// Keeps the maps of bins made after [`SpilledSets::plan_bins`]:
    /// `words` holds them back to back, `words_per_list[i]` words and
    /// `ones[i]` bins set for the `i`th stored list. Every map must have
    /// been made: an empty map of a list that has hashes would count all of
    /// the other's bins as differing, which is no bound.
    pub(crate) fn attach_bins(&mut self, words: Vec<u64>, words_per_list: &[usize], ones: Vec<u32>) {
        debug_assert!(words_per_list.len() == self.docs.len() && ones.len() == words_per_list.len());
        self.bin_starts = std::iter::once(0)
            .chain(words_per_list.iter().scan(0, |at, &n| {
                *at += n;
                Some(*at)
            }))
            .collect();
        debug_assert_eq!(self.bin_starts.last(), Some(&words.len()));
        self.bin_words = words;
        self.bin_ones = ones;
    }

    /// The map of bins of the `i`th stored list and the bins it sets, if
    /// made.
    pub(super) fn bins(&self, i: usize) -> Option<(&[u64], usize)> {
        if self.bin_ones.is_empty() {
            return None;
        }
        Some((&self.bin_words[self.bin_starts[i]..self.bin_starts[i + 1]], self.bin_ones[i] as usize))
    }

    /// Bytes of the maps of bins.
    pub(crate) fn bin_bytes(&self) -> usize {
        self.bin_words.len() * 8
    }

    /// The length of the `i`th stored list: its hashes with their repeats.
    pub(super) fn list_len(&self, i: usize) -> usize {
        self.lens[i] as usize
    }

    /// Records the distinct count of the `i`th stored list, counted by a
    /// caller's table.
    pub(super) fn note_distinct_count(&self, i: usize, n: usize) {
        self.distinct[i].store((n as u32).saturating_add(1), std::sync::atomic::Ordering::Relaxed);
    }

    /// The number of distinct hashes of the `i`th stored list, if it was
    /// counted already.
    pub(super) fn known_distinct_count(&self, i: usize) -> Option<usize> {
        let n = self.distinct[i].load(std::sync::atomic::Ordering::Relaxed);
        (n > 0).then(|| n as usize - 1)
    }

    /// The first read error, if any read failed.
    pub fn take_error(&self) -> Option<std::io::Error> {
        self.error.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// Number of stored documents.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// Bytes written to the file (0 when the lists are held in memory).
    pub fn file_bytes(&self) -> u64 {
        match &self.lists {
            Lists::File(file) => file.len(),
            Lists::Memory(_) => 0,
        }
    }

    /// Bytes of lists held in memory (0 when they are in a file).
    pub fn memory_bytes(&self) -> u64 {
        match &self.lists {
            Lists::File(_) => 0,
            Lists::Memory(blocks) => blocks.values * 4,
        }
    }

    /// Heap bytes held: the index, and the lists when they are in memory.
    pub fn heap_bytes(&self) -> usize {
        self.docs.len() * 20 + self.memory_bytes() as usize + self.bin_bytes()
    }
}

pub(super) fn len_u32(len: usize) -> std::io::Result<u32> {
    u32::try_from(len).map_err(|_| std::io::Error::other("a document has more than 2^32 shingles"))
}

/// Where a store's lists are: back to back in document order, `starts`
/// indexing them.
#[derive(Debug)]
pub(super) enum Lists {
    File(SpillFile),
    Memory(Blocks),
}

/// Lists held in memory in the blocks they were built in, each the lists
/// of a run of whole documents, back to back.
///
/// The sign pass's workers build each run of documents' lists in one
/// buffer, and the log keeps that buffer as it is: copying every list into
/// one growing array cost a fifth of the sign pass on a corpus whose log
/// stays in memory, and freeing a buffer a document another tenth.
#[derive(Debug, Default)]
pub(super) struct Blocks {
    pub(super) blocks: Vec<Vec<u32>>,
    // Where each block starts, in values, counted over all blocks; strictly
    // increasing, as empty blocks are not kept.
    pub(super) starts: Vec<u64>,
    pub(super) values: u64,
}

impl Blocks {
    pub(super) fn push(&mut self, block: Vec<u32>) {
        if block.is_empty() {
            return;
        }
        self.starts.push(self.values);
        self.values += block.len() as u64;
        self.blocks.push(block);
    }

    /// The `len` values from `start`, which lie in one block when they are
    /// one document's list.
    pub(super) fn slice(&self, start: u64, len: usize) -> &[u32] {
        if len == 0 {
            return &[];
        }
        let b = self.starts.partition_point(|&s| s <= start) - 1;
        let at = (start - self.starts[b]) as usize;
        &self.blocks[b][at..at + len]
    }
}

/// Every document's shingle [`fingerprint`]s, in document order, as the
/// sign pass emits them (text order, repeats kept: sorting is left to no
/// one, see [`HashList`]), in memory while it is small (see [`SetLog::create`]) and
/// otherwise in an unnamed temporary file. Memory holds nothing per
/// document beyond that: the lengths are the shingle counts the signatures
/// keep anyway.
/// Once LSH has named the candidates, [`SetLog::into_sets`] indexes just
/// those, and verification reads their hashes without reading the corpus
/// again. Against a second pass that re-reads and re-hashes the candidate
/// documents, it costs disk (4 bytes a shingle of every document, about
/// 0.6x the size of a news corpus) and saves the second read, parse and
/// hash.
#[derive(Debug)]
pub(crate) struct SetLog {
    // The hashes logged, while they fit in `memory_budget_values`; then
    // moved to `file`, where the rest follow.
    pub(super) memory: Blocks,
    pub(super) memory_budget_values: usize,
    pub(super) file: Option<SpillFile>,
    pub(super) dir: std::path::PathBuf,
    pub(super) documents: usize,
}

impl SetLog {
    /// An empty log that holds up to `memory_budget_bytes` of hashes in
    /// memory and moves them to an unnamed temporary file in `dir` once
    /// they would pass it (with a budget of 0, the file is made at once).
    ///
    /// Held in memory, the log is neither written nor read back: on a
    /// corpus dense with near-copies each candidate's list is read once a
    /// pair it is in, each read a system call and a copy out of the page
    /// cache: clustering 150 MB of news with 40,000 planted copies took
    /// 0.59 s that way and 0.41 s from memory (medians of 5).
    pub fn create(dir: &std::path::Path, memory_budget_bytes: u64) -> std::io::Result<SetLog> {
        let file = match memory_budget_bytes {
            0 => Some(SpillFile::create(dir)?),
            _ => None,
        };
        Ok(SetLog {
            memory: Blocks::default(),
            memory_budget_values: usize::try_from(memory_budget_bytes / 4).unwrap_or(usize::MAX),
            file,
            dir: dir.to_path_buf(),
            documents: 0,
        })
    }

    /// Appends the hashes of the next document.
    #[cfg(test)]
    pub fn append(&mut self, hashes: &[u32]) -> std::io::Result<()> {
        len_u32(hashes.len())?;
        self.append_documents(hashes.to_vec(), 1)
    }

    /// Appends the fingerprints of the next `documents` documents, their
    /// lists back to back in `hashes`; held as they are while the log is in
    /// memory.
    pub fn append_documents(&mut self, hashes: Vec<u32>, documents: usize) -> std::io::Result<()> {
        if self.file.is_none() && self.memory.values + hashes.len() as u64 > self.memory_budget_values as u64 {
            let mut file = SpillFile::create(&self.dir)?;
            for block in std::mem::take(&mut self.memory).blocks {
                file.append(bytemuck::cast_slice(&block))?;
            }
            self.file = Some(file);
        }
        match &mut self.file {
            Some(file) => file.append(bytemuck::cast_slice(&hashes))?,
            None => self.memory.push(hashes),
        }
        self.documents += documents;
        Ok(())
    }

    /// Documents logged so far.
    pub fn documents(&self) -> usize {
        self.documents
    }

    /// Writes what is buffered; the error a full disk may give only here.
    pub fn finish(&mut self) -> std::io::Result<()> {
        self.file.as_mut().map_or(Ok(()), SpillFile::finish)
    }

    /// Bytes written to the file.
    #[cfg(test)]
    pub fn file_bytes(&self) -> u64 {
        self.file.as_ref().map_or(0, SpillFile::len)
    }

    /// A store of the hashes of `docs` (sorted document indices, each below
    /// [`SetLog::documents`]); `len(doc)` must give the number of hashes
    /// appended for each document. The others stay where they are, unread.
    pub fn into_sets(mut self, docs: &[u32], len: impl Fn(u32) -> u32) -> std::io::Result<SpilledSets> {
        self.finish()?;
        let (total, lists) = match self.file {
            Some(file) => (file.len() / 4, Lists::File(file)),
            None => (self.memory.values, Lists::Memory(self.memory)),
        };
        let mut sets = SpilledSets::over(lists);
        let (mut start, mut next) = (0u64, 0usize);
        for doc in 0..self.documents as u32 {
            let n = len(doc);
            if docs.get(next) == Some(&doc) {
                sets.docs.push(doc);
                sets.starts.push(start);
                sets.lens.push(n);
                next += 1;
            }
            start += u64::from(n);
        }
        if next != docs.len() || start != total {
            return Err(std::io::Error::other("internal: the set log does not match the documents signed"));
        }
        sets.index_done();
        Ok(sets)
    }
}
