//! Verification: deciding whether a candidate pair really is a near-duplicate.
//!
//! LSH candidates are only likely matches. With exact verification (the
//! default) a pair is confirmed on the true Jaccard similarity of the two
//! documents' sets of shingles, counted by 32-bit fingerprints of their
//! hashes (see [`fingerprint`] for the odds of a collision and how far it
//! moves a similarity), or on containment: the
//! share of the smaller set found in the larger, which is what a truncated
//! syndicated copy has in common with the full article. The hashes come
//! from a log the sign pass wrote, or from a second read of the
//! candidate documents ([`SpilledSets::push`]); shared hashes are counted
//! with a small hash table, so no set is sorted, after maps of bins, when
//! made for a corpus dense with candidates, have ruled out the pairs they
//! can (`set_bins`). With estimate
//! verification the MinHash estimates are used instead, and the texts are
//! looked at once.

#[cfg(doc)]
use crate::shingle::fingerprint;
use crate::shingle::intersection_size;
use crate::spill::SpillFile;

/// The similarities at or above which a pair is a near-duplicate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Jaccard similarity.
    pub jaccard: f64,
    /// Containment of the smaller set in the larger (`--containment`), if
    /// contained copies count.
    pub containment: Option<f64>,
}

/// What estimate verification reads: each document's MinHash signature and
/// its number of shingles (the pipeline's signature store).
pub trait SignatureStore: Sync + std::fmt::Debug {
    /// The signature of document `doc`.
    fn signature(&self, doc: u32) -> &[u32];
    /// Number of shingles of document `doc`.
    fn shingle_count(&self, doc: u32) -> u32;
}

/// How candidate pairs are confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verify {
    /// True Jaccard (and containment) of the shingle sets.
    #[default]
    Exact,
    /// MinHash estimates only.
    Estimate,
}

/// Exact shingle sets of a subset of documents, stored flat: sorted 64-bit
/// shingle hashes (the ground truth), or sorted 32-bit [`fingerprint`]s
/// (what [`crate::Deduplicator`] judges by, as `doppel dedup` does).
#[derive(Debug, Clone, Default)]
pub struct ShingleSets<T = u64> {
    docs: Vec<u32>,
    offsets: Vec<usize>,
    hashes: Vec<T>,
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
    docs: Vec<u32>,
    // Where each stored list starts in the file, in values (u32), and its length.
    starts: Vec<u64>,
    lens: Vec<u32>,
    // Each stored list's number of distinct hashes plus one, once counted
    // (0: not yet); a document meets many pairs, its count is made once.
    distinct: Vec<std::sync::atomic::AtomicU32>,
    // Each stored list's map of bins (see [`set_bins`]), back to back, once
    // made: `bin_starts[i]..bin_starts[i + 1]` are the words of the `i`th,
    // and `bin_ones[i]` its bins set. Empty when no maps were made.
    bin_words: Vec<u64>,
    bin_starts: Vec<usize>,
    bin_ones: Vec<u32>,
    lists: Lists,
    // The first read error; similarity lookups cannot return one.
    error: std::sync::Mutex<Option<std::io::Error>>,
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

    fn over(lists: Lists) -> SpilledSets {
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

    fn index_done(&mut self) {
        self.distinct = (0..self.docs.len()).map(|_| Default::default()).collect();
    }

    /// Where `doc` is stored, for the methods that take a stored list's
    /// index: a pair's judge looks its documents up once, not once a
    /// question.
    fn index(&self, doc: u32) -> Option<usize> {
        self.docs.binary_search(&doc).ok()
    }

    /// The number of distinct hashes of the `i`th stored list, which is in
    /// `list`, counted with `scratch` the first time it is asked for.
    fn distinct_count(&self, i: usize, list: &[u32], scratch: &mut HashList) -> usize {
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
    fn with_list<R>(&self, i: usize, buf: &mut Vec<u32>, f: impl FnOnce(&[u32]) -> R) -> Option<R> {
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
    fn bins(&self, i: usize) -> Option<(&[u64], usize)> {
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
    fn list_len(&self, i: usize) -> usize {
        self.lens[i] as usize
    }

    /// Records the distinct count of the `i`th stored list, counted by a
    /// caller's table.
    fn note_distinct_count(&self, i: usize, n: usize) {
        self.distinct[i].store((n as u32).saturating_add(1), std::sync::atomic::Ordering::Relaxed);
    }

    /// The number of distinct hashes of the `i`th stored list, if it was
    /// counted already.
    fn known_distinct_count(&self, i: usize) -> Option<usize> {
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

/// An odd multiplier for [`HashList`] slots, drawn once a process from the
/// standard library's randomly keyed hasher.
fn table_multiplier() -> u64 {
    static MULTIPLIER: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *MULTIPLIER.get_or_init(|| {
        use std::hash::BuildHasher;
        std::collections::hash_map::RandomState::new().hash_one(0x5EED_u64) | 1
    })
}

fn len_u32(len: usize) -> std::io::Result<u32> {
    u32::try_from(len).map_err(|_| std::io::Error::other("a document has more than 2^32 shingles"))
}

/// Where a store's lists are: back to back in document order, `starts`
/// indexing them.
#[derive(Debug)]
enum Lists {
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
struct Blocks {
    blocks: Vec<Vec<u32>>,
    // Where each block starts, in values, counted over all blocks; strictly
    // increasing, as empty blocks are not kept.
    starts: Vec<u64>,
    values: u64,
}

impl Blocks {
    fn push(&mut self, block: Vec<u32>) {
        if block.is_empty() {
            return;
        }
        self.starts.push(self.values);
        self.values += block.len() as u64;
        self.blocks.push(block);
    }

    /// The `len` values from `start`, which lie in one block when they are
    /// one document's list.
    fn slice(&self, start: u64, len: usize) -> &[u32] {
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
    memory: Blocks,
    memory_budget_values: usize,
    file: Option<SpillFile>,
    dir: std::path::PathBuf,
    documents: usize,
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

/// The buffers a worker judges pairs with, kept from one document's pairs
/// to the next: allocating and freeing them for each document, and
/// clearing each table's marks, cost about a tenth of the cluster stage
/// (0.478 against 0.438 s on 1 GB of news, medians of 5).
#[derive(Debug, Default)]
pub(crate) struct JudgeScratch {
    buf: Vec<u32>,
    table: HashList,
    missed: HashList,
}

/// A document's shingle fingerprints in a table, for counting what another
/// document shares with it.
///
/// Exact Jaccard needs `|A|`, `|B|` and `|A ∩ B|` of the distinct
/// fingerprints (called hashes below: they are the top halves of hashes).
/// Sorting every document's hashes to intersect them by merging costs
/// `n log n` for every document signed, candidate or not; a table costs two
/// probes a hash, and only for the documents of candidate pairs. Shingle
/// hashes are uniform, so a slot is the hash's low bits. The seed of the
/// default hash is public, though, so input can be built whose shingles
/// share their low bits and make probing quadratic: a fill that probes more
/// than a budget starts again with slots taken from the hash times an odd
/// multiplier drawn once a process, which such input cannot know (always
/// mixing cost a tenth of the cluster stage). The layout never shows in a
/// result: the values are exactly those of [`PairSimilarity::exact`] on the
/// sorted sets.
#[derive(Debug, Default, Clone)]
pub(crate) struct HashList {
    slots: Vec<u32>,
    // log2 of the capacity, for slots from the top bits of the mixed hash.
    bits: u32,
    // 0: slots are the low bits of the hash; else the multiplier.
    multiplier: u64,
    // 0 marks an empty slot, so a real hash of 0 is kept aside.
    has_zero: bool,
    len: usize,
    // For counting what another list shares: the round in which each slot
    // (and the zero hash) was last met, so that a hash repeated in the other
    // list counts once.
    met: Vec<u32>,
    met_zero: u32,
    round: u32,
}

impl HashList {
    /// Empties the table and sizes it for `n` hashes (load at most 1/4:
    /// on 1 GB of news, clustering took 0.40 s at that load, 0.50 s at 1/2
    /// and 0.62 s at 2/3; short probe runs matter more than clearing).
    fn reset(&mut self, n: usize) {
        let capacity = (4 * n).next_power_of_two().max(16);
        self.slots.clear();
        self.slots.resize(capacity, 0);
        self.bits = capacity.trailing_zeros();
        self.has_zero = false;
        self.len = 0;
        // The marks are kept: rounds only grow, so an old mark is never
        // the round being counted (see `start_round`).
    }

    /// The table of `hashes` (repeats and any order allowed).
    pub fn fill(&mut self, hashes: &[u32]) {
        self.reset(hashes.len());
        self.multiplier = 0;
        // At load 1/4 a uniform fill probes about 1.2 slots a hash.
        let budget = 8 * hashes.len() + 64;
        let mut probes = 0;
        for &h in hashes {
            probes += self.insert(h).1;
            if probes > budget && self.multiplier == 0 {
                self.reset(hashes.len());
                self.multiplier = table_multiplier();
                hashes.iter().for_each(|&h| _ = self.insert(h));
                return;
            }
        }
    }

    /// Adds `h`: whether it was not there, and the slots probed.
    fn insert(&mut self, h: u32) -> (bool, usize) {
        if h == 0 {
            let new = !self.has_zero;
            self.has_zero = true;
            self.len += usize::from(new);
            return (new, 1);
        }
        let (mut i, mask) = (self.home(h), self.slots.len() - 1);
        let mut probes = 1;
        loop {
            match self.slots[i] {
                0 => {
                    self.slots[i] = h;
                    self.len += 1;
                    return (true, probes);
                }
                v if v == h => return (false, probes),
                _ => {
                    i = (i + 1) & mask;
                    probes += 1;
                }
            }
        }
    }

    fn slot_of(&self, h: u32) -> Option<usize> {
        let (mut i, mask) = (self.home(h), self.slots.len() - 1);
        loop {
            match self.slots[i] {
                0 => return None,
                v if v == h => return Some(i),
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// The first slot probed for `h` (multiplicative hashing: the top bits
    /// of the product depend on every bit of `h`).
    fn home(&self, h: u32) -> usize {
        match self.multiplier {
            0 => h as usize & (self.slots.len() - 1),
            m => (u64::from(h).wrapping_mul(m) >> (64 - self.bits)) as usize,
        }
    }

    /// How many distinct hashes of `other` (repeats and any order allowed)
    /// are held: one probe a hash, no table of `other`.
    fn shared_with(&mut self, other: &[u32]) -> usize {
        // Needing none, the count is never given up.
        self.shared_at_least(other, 0).unwrap_or(0)
    }

    /// [`HashList::shared_with`], given up (`None`) as soon as fewer than
    /// `needed` could be shared: once more entries of `other` have missed
    /// than it has beyond `needed`. Entries count with their repeats, so
    /// the bound only errs towards going on.
    fn shared_at_least(&mut self, other: &[u32], needed: usize) -> Option<usize> {
        let spare = other.len().checked_sub(needed)?;
        self.start_round();
        let round = self.round;
        let mut shared = 0usize;
        for (seen, &h) in other.iter().enumerate() {
            if h == 0 {
                if self.has_zero && self.met_zero != round {
                    self.met_zero = round;
                    shared += 1;
                }
            } else if let Some(i) = self.slot_of(h)
                && self.met[i] != round
            {
                self.met[i] = round;
                shared += 1;
            }
            // Checked every 64 entries: misses so far are seen + 1 - shared.
            if seen % 64 == 63 && seen + 1 - shared > spare {
                return None;
            }
        }
        Some(shared)
    }

    /// How many distinct hashes of `other` (repeats and any order allowed)
    /// are held, and how many distinct hashes of `other` are not, which go
    /// into `missed` (emptied first): one probe a hash, plus an insert for a
    /// hash not held. Given up (`None`) once `may_match(most shared, fewest
    /// missed)` says no: the similarity only grows with the shared count
    /// and shrinks with the missed count, so the bound is the count so far
    /// plus every entry left, against the misses so far.
    fn shared_and_missed(
        &mut self,
        other: &[u32],
        missed: &mut HashList,
        may_match: impl Fn(usize, usize) -> bool,
    ) -> Option<(usize, usize)> {
        self.start_round();
        let round = self.round;
        // Misses are few in a pair that matches; their slots are mixed, so
        // no input can make their probing quadratic.
        missed.reset(other.len());
        missed.multiplier = table_multiplier();
        let mut shared = 0usize;
        // The marking is written out as in `shared_at_least`: one helper for
        // both, returning whether a hash was held and first met, made the
        // cluster stage 10-28% slower on 1 GB with one thread (medians of 5).
        for (seen, &h) in other.iter().enumerate() {
            if h == 0 {
                if !self.has_zero {
                    missed.insert(0);
                } else if self.met_zero != round {
                    self.met_zero = round;
                    shared += 1;
                }
            } else {
                match self.slot_of(h) {
                    Some(i) if self.met[i] != round => {
                        self.met[i] = round;
                        shared += 1;
                    }
                    Some(_) => {}
                    None => _ = missed.insert(h),
                }
            }
            if seen % 64 == 63 && !may_match(shared + other.len() - seen - 1, missed.len()) {
                return None;
            }
        }
        Some((shared, missed.len()))
    }

    /// Starts a round of marks for counting what another list shares.
    fn start_round(&mut self) {
        if self.round == u32::MAX {
            self.met.fill(0);
            self.met_zero = 0;
            self.round = 0;
        }
        self.met.resize(self.slots.len(), 0);
        self.round += 1;
    }

    /// Distinct hashes held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Similarity of the hashes held with `other` (repeats and any order
    /// allowed), using `scratch` to count `other`'s distinct hashes: the
    /// tests' reference for the cached counts the pipeline uses.
    #[cfg(test)]
    fn similarity(&mut self, other: &[u32], scratch: &mut HashList) -> PairSimilarity {
        scratch.fill(other);
        let shared = self.shared_with(other);
        PairSimilarity::from_sizes(self.len as f64, scratch.len as f64, shared as f64)
    }
}

/// Sets `words.len() * 64` bins (a power of two) for `hashes` (fingerprints),
/// each the bit of its value turned by half, and returns the bins set.
///
/// A map of bins rules a pair out without probing. Bins are disjoint, so
/// every bin set in one map and not the other holds a hash of one set that
/// the other lacks: the bins that differ never exceed the symmetric
/// difference `|A| + |B| - 2 |A ∩ B|`, which a pair must keep small to
/// match. With eight bins a hash, a hash the other set lacks is alone in its
/// bin nine times in ten, so the bound sits close to the true difference.
/// On a corpus dense with near-copies most candidate pairs fall short of
/// the threshold by less than the MinHash estimate can tell (on `real150`,
/// 114k of 141k judged pairs, most between 0.6 and 0.8), and the maps rule
/// out 94% of those for about two fifths of the bytes of the lists (eight
/// bins a hash, rounded up to a power of two). A bin is the low bits of the
/// value with its halves swapped, so that a map of `2^k` bins folds to one
/// of `2^(k-1)` by OR-ing its halves (see [`bins_differing`]); the top half
/// first keeps the bins apart from [`HashList`]'s slots, which are the low
/// bits, up to maps of 2^16 bins.
pub(crate) fn set_bins(words: &mut [u64], hashes: &[u32]) -> u32 {
    debug_assert!(words.len().is_power_of_two());
    words.fill(0);
    let mask = words.len() * 64 - 1;
    for &h in hashes {
        let bin = h.rotate_left(16) as usize & mask;
        words[bin >> 6] |= 1 << (bin & 63);
    }
    words.iter().map(|w| w.count_ones()).sum()
}

/// The bins set in one map and not the other, the larger map folded to
/// the size of the smaller (both sizes powers of two): a lower bound of the
/// symmetric difference of the sets they were made of.
pub(crate) fn bins_differing(a: &[u64], b: &[u64]) -> usize {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let mut differ = 0u32;
    if small.len() == large.len() {
        for (x, y) in small.iter().zip(large) {
            differ += (x ^ y).count_ones();
        }
    } else {
        for (i, x) in small.iter().enumerate() {
            let folded = large[i..].iter().step_by(small.len()).fold(0, |f, w| f | w);
            differ += (x ^ folded).count_ones();
        }
    }
    differ as usize
}

/// False when a pair cannot match under `config` whose sets differ in at
/// least `differ` hashes (a lower bound of the symmetric difference, from
/// [`bins_differing`]), given the least and most distinct hashes each set
/// may have.
///
/// The shared count is then at most `(|A| + |B| - differ) / 2`, so Jaccard
/// is at most `(S - differ) / (S + differ)` for `S = |A| + |B|`, which grows
/// with `S`; containment `shared / |B|` (B the smaller) is at most
/// `1/2 + (|A| - differ) / 2|B|`, largest with `|A|` most and `|B|` least.
/// The bounds are worked out in floating point, which may round a hair
/// differently from [`PairSimilarity::from_sizes`], so a pair within
/// `1e-9` of a threshold is let through to be counted.
pub(crate) fn may_match(a: (usize, usize), b: (usize, usize), differ: usize, config: &Thresholds) -> bool {
    const SLACK: f64 = 1e-9;
    let (sum, differ) = ((a.1 + b.1) as f64, differ as f64);
    if sum + differ == 0.0 || (sum - differ) / (sum + differ) + SLACK >= config.jaccard {
        return true;
    }
    let Some(containment) = config.containment else { return false };
    let bound = |most: usize, least: usize| match least {
        0 => 1.0,
        _ => 0.5 + (most as f64 - differ).max(0.0) / (2.0 * least as f64),
    };
    bound(a.1, b.0).max(bound(b.1, a.0)) + SLACK >= containment
}

/// Similarity of a pair: Jaccard and containment of the smaller in the larger.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairSimilarity {
    /// |A ∩ B| / |A ∪ B|.
    pub jaccard: f64,
    /// |A ∩ B| / min(|A|, |B|).
    pub containment: f64,
}

impl PairSimilarity {
    /// From set sizes and the size of the intersection (which may be an estimate).
    pub fn from_sizes(a: f64, b: f64, intersection: f64) -> PairSimilarity {
        let union = a + b - intersection;
        let smaller = a.min(b);
        PairSimilarity {
            jaccard: if union > 0.0 { intersection / union } else { 0.0 },
            containment: if smaller > 0.0 { (intersection / smaller).min(1.0) } else { 0.0 },
        }
    }

    /// Exact similarity of two sorted, repeat-free sets.
    pub fn exact<T: Ord>(a: &[T], b: &[T]) -> PairSimilarity {
        PairSimilarity::from_sizes(a.len() as f64, b.len() as f64, intersection_size(a, b) as f64)
    }

    /// True when the pair meets the configured thresholds: Jaccard at or
    /// above the threshold, or containment at or above `--containment`.
    pub fn matches(&self, config: &Thresholds) -> bool {
        self.jaccard >= config.jaccard || config.containment.is_some_and(|c| self.containment >= c)
    }
}

/// Where similarities come from: exact sets or signatures.
#[derive(Debug, Clone, Copy)]
pub enum SimilaritySource<'a> {
    /// Exact shingle sets, as fingerprints (every document asked about
    /// must be stored).
    Exact(&'a ShingleSets<u32>),
    /// MinHash estimates; containment is derived from the estimated
    /// intersection `J (|A| + |B|) / (1 + J)`.
    Estimate(&'a dyn SignatureStore),
    /// Exact shingle sets read back from a spill file.
    Spilled(&'a SpilledSets),
}

impl SimilaritySource<'_> {
    /// Similarity of documents `a` and `b`.
    pub fn similarity(&self, a: u32, b: u32) -> PairSimilarity {
        match self {
            // Every document of a candidate pair has its set; one without
            // (which does not happen) would match nothing.
            SimilaritySource::Exact(sets) => match (sets.get(a), sets.get(b)) {
                (Some(x), Some(y)) => PairSimilarity::exact(x, y),
                _ => PairSimilarity { jaccard: 0.0, containment: 0.0 },
            },
            SimilaritySource::Estimate(sigs) => estimate(*sigs, a, b),
            SimilaritySource::Spilled(_) => {
                let mut found = PairSimilarity { jaccard: 0.0, containment: 0.0 };
                self.similarities_to(a, std::iter::once(b), |_, s| found = s);
                found
            }
        }
    }

    /// Calls `each(b, judgement)` for every `b` of `others`: the similarity
    /// of `a` and `b`, or `None` for a pair that does not match `config`
    /// and whose similarity was not worked out to the end. Reading back a
    /// pair's hashes stops once too few are left to reach the threshold,
    /// and a pair whose sizes alone rule it out, or whose maps of bins (when
    /// made, see [`set_bins`]) do, is not read at all: on a dense corpus
    /// most candidate pairs fall short.
    pub(crate) fn judge_to(
        &self,
        a: u32,
        others: impl Iterator<Item = u32>,
        config: &Thresholds,
        judge_scratch: &mut JudgeScratch,
        mut each: impl FnMut(u32, Option<PairSimilarity>),
    ) {
        match self {
            SimilaritySource::Spilled(sets) => {
                let JudgeScratch { buf, table, missed: scratch } = judge_scratch;
                // A document that is not stored (which does not happen)
                // matches nothing.
                let Some(ia) = sets.index(a) else {
                    others.for_each(|b| each(b, None));
                    return;
                };
                // `a`'s table is filled when a pair first gets past the bins.
                let mut have_a = None;
                let bins_a = sets.bins(ia);
                let mut a_known = sets.known_distinct_count(ia);
                for b in others {
                    let Some(ib) = sets.index(b) else {
                        each(b, None);
                        continue;
                    };
                    // Sizes first, when both distinct counts are known; then
                    // the bins, which bound how much the sets differ.
                    let known = sets.known_distinct_count(ib);
                    if let (Some(a_len), Some(b_len)) = (a_known, known)
                        && fewest_shared_to_match(a_len, b_len, config).is_none()
                    {
                        each(b, None);
                        continue;
                    }
                    if let (Some((words_a, ones_a)), Some((words_b, ones_b))) = (bins_a, sets.bins(ib)) {
                        let differ = bins_differing(words_a, words_b);
                        let a_span = a_known.map_or((ones_a, sets.list_len(ia)), |n| (n, n));
                        let b_span = known.map_or((ones_b, sets.list_len(ib)), |n| (n, n));
                        if !may_match(a_span, b_span, differ, config) {
                            each(b, None);
                            continue;
                        }
                    }
                    let have_a = *have_a.get_or_insert_with(|| {
                        sets.with_list(ia, buf, |list| {
                            table.fill(list);
                            sets.note_distinct_count(ia, table.len());
                        })
                        .is_some()
                    });
                    if !have_a {
                        // A read error is kept by the store and ends the run.
                        each(b, None);
                        continue;
                    }
                    let a_len = table.len();
                    a_known = Some(a_len);
                    let judged = match known.map(|b_len| (b_len, fewest_shared_to_match(a_len, b_len, config))) {
                        Some((_, None)) => None,
                        Some((b_len, Some(needed))) => sets
                            .with_list(ib, buf, |list| {
                                let shared = table.shared_at_least(list, needed)?;
                                Some(PairSimilarity::from_sizes(a_len as f64, b_len as f64, shared as f64))
                            })
                            .flatten(),
                        // `b`'s distinct count is found in the same pass
                        // that counts what it shares: only the hashes `a`
                        // lacks go into a table of their own.
                        None => sets
                            .with_list(ib, buf, |list| {
                                let (shared, missed) = table.shared_and_missed(list, scratch, |shared, missed| {
                                    // No more can be shared than `a` holds.
                                    let shared = shared.min(a_len);
                                    let b_len = (shared + missed) as f64;
                                    PairSimilarity::from_sizes(a_len as f64, b_len, shared as f64).matches(config)
                                })?;
                                sets.note_distinct_count(ib, shared + missed);
                                let b_len = (shared + missed) as f64;
                                Some(PairSimilarity::from_sizes(a_len as f64, b_len, shared as f64))
                            })
                            .flatten(),
                    };
                    each(b, judged);
                }
            }
            _ => others.for_each(|b| each(b, Some(self.similarity(a, b)))),
        }
    }

    /// Calls `each(b, similarity of a and b)` for every `b` of `others`.
    /// The same values as [`SimilaritySource::similarity`], but a spilled
    /// set of `a` is read once, not once a pair, and reads reuse one buffer.
    pub fn similarities_to(
        &self,
        a: u32,
        others: impl Iterator<Item = u32>,
        mut each: impl FnMut(u32, PairSimilarity),
    ) {
        const NOTHING: PairSimilarity = PairSimilarity { jaccard: 0.0, containment: 0.0 };
        match self {
            // A read error is kept by the store and ends the run.
            SimilaritySource::Spilled(sets) => {
                let mut buf = Vec::new();
                let (mut table, mut scratch) = (HashList::default(), HashList::default());
                let have_a =
                    sets.index(a).and_then(|ia| sets.with_list(ia, &mut buf, |list| table.fill(list))).is_some();
                for b in others {
                    let similarity = have_a.then(|| sets.index(b)).flatten().and_then(|ib| {
                        sets.with_list(ib, &mut buf, |list| {
                            let b_len = sets.distinct_count(ib, list, &mut scratch);
                            let shared = table.shared_with(list);
                            PairSimilarity::from_sizes(table.len() as f64, b_len as f64, shared as f64)
                        })
                    });
                    each(b, similarity.unwrap_or(NOTHING));
                }
            }
            _ => others.for_each(|b| each(b, self.similarity(a, b))),
        }
    }
}

/// The fewest shared hashes with which sets of `a` and `b` distinct hashes
/// match under `config`, or `None` when no overlap would do: the similarity
/// only grows with the overlap, so a binary search finds it.
fn fewest_shared_to_match(a: usize, b: usize, config: &Thresholds) -> Option<usize> {
    let matches = |i: usize| PairSimilarity::from_sizes(a as f64, b as f64, i as f64).matches(config);
    let (mut lo, mut hi) = (0, a.min(b));
    if !matches(hi) {
        return None;
    }
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if matches(mid) { hi = mid } else { lo = mid + 1 }
    }
    Some(lo)
}

fn estimate(sigs: &dyn SignatureStore, a: u32, b: u32) -> PairSimilarity {
    let j = crate::minhash::estimate_jaccard(sigs.signature(a), sigs.signature(b));
    let (na, nb) = (f64::from(sigs.shingle_count(a)), f64::from(sigs.shingle_count(b)));
    let inter = j * (na + nb) / (1.0 + j);
    let mut s = PairSimilarity::from_sizes(na, nb, inter);
    s.jaccard = j;
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// doppel's default threshold, without containment.
    const DEFAULT: Thresholds = Thresholds { jaccard: 0.8, containment: None };

    #[test]
    fn jaccard_and_containment() {
        let full: Vec<u64> = (0..100).collect();
        let half: Vec<u64> = (0..50).collect();
        let s = PairSimilarity::exact(&full, &half);
        assert_eq!(s.jaccard, 0.5);
        assert_eq!(s.containment, 1.0);
        let cfg = Thresholds { containment: Some(0.8), ..DEFAULT };
        assert!(s.matches(&cfg));
        assert!(!s.matches(&DEFAULT));
    }

    #[test]
    fn spilled_sets_read_back_what_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let mut sets = SpilledSets::create(dir.path()).unwrap();
        sets.push(2, &[1, u32::MAX]).unwrap();
        sets.push(7, &[]).unwrap();
        sets.push(9, &[5, 6, 7]).unwrap();
        sets.finish().unwrap();
        assert_eq!(sets.get(2), Some(vec![1, u32::MAX]));
        assert_eq!(sets.get(7), Some(vec![]));
        assert_eq!(sets.get(9), Some(vec![5, 6, 7]));
        assert_eq!(sets.get(3), None);
        assert!(sets.take_error().is_none());
        // Nothing is left in the directory: the file has no name.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_set_log_gives_back_the_hashes_of_the_documents_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let all: Vec<Vec<u32>> = vec![vec![3, 1, 3], vec![], vec![u32::MAX], vec![9, 4], vec![0, 7, 8, 10]];
        let len = |d: u32| all[d as usize].len() as u32;
        // On disk from the start; in memory, then moved to a file when the
        // third list passes the budget of three hashes; in memory to the end.
        for (budget_bytes, on_disk) in [(0, true), (12, true), (1 << 20, false)] {
            let mut log = SetLog::create(dir.path(), budget_bytes).unwrap();
            for set in &all {
                log.append(set).unwrap();
            }
            assert_eq!(log.documents(), 5);
            assert_eq!(log.file_bytes(), if on_disk { 10 * 4 } else { 0 });
            let sets = log.into_sets(&[1, 3, 4], len).unwrap();
            assert_eq!(sets.memory_bytes(), if on_disk { 0 } else { 10 * 4 }, "budget {budget_bytes}");
            assert_eq!(sets.len(), 3);
            assert_eq!(sets.get(1), Some(vec![]));
            assert_eq!(sets.get(3), Some(vec![9, 4]));
            assert_eq!(sets.get(4), Some(vec![0, 7, 8, 10]));
            assert_eq!(sets.get(0), None);
            assert_eq!(sets.get(2), None);
            let mut buf = vec![99; 50];
            assert!(sets.get_into(4, &mut buf));
            assert_eq!(buf, vec![0, 7, 8, 10]);
            // Lengths that do not add up to what was logged are an error,
            // not a silent misreading.
            let mut log = SetLog::create(dir.path(), budget_bytes).unwrap();
            log.append(&[1, 2]).unwrap();
            assert!(log.into_sets(&[0], |_| 1).is_err());
            let mut log = SetLog::create(dir.path(), budget_bytes).unwrap();
            log.append(&[1]).unwrap();
            assert!(log.into_sets(&[0, 1], |_| 1).is_err());
        }
    }

    #[test]
    fn a_set_log_finds_each_document_in_the_runs_it_was_logged_in() {
        let dir = tempfile::tempdir().unwrap();
        let all: Vec<Vec<u32>> =
            vec![vec![], vec![5, 6], vec![], vec![7], vec![8, 9, 10], vec![], vec![], vec![11], vec![12, 12]];
        let len = |d: u32| all[d as usize].len() as u32;
        // Runs of 2, 0, 1, 3 and 3 documents, empty lists at their edges;
        // the budget of 6 hashes is passed by the last run.
        let runs = [0..2, 2..2, 2..3, 3..6, 6..9];
        for (budget_bytes, on_disk) in [(0, true), (24, true), (1 << 20, false)] {
            let mut log = SetLog::create(dir.path(), budget_bytes).unwrap();
            for run in runs.clone() {
                log.append_documents(all[run.clone()].concat(), run.len()).unwrap();
            }
            assert_eq!(log.documents(), all.len());
            let every: Vec<u32> = (0..all.len() as u32).collect();
            let sets = log.into_sets(&every, len).unwrap();
            assert_eq!(sets.memory_bytes(), if on_disk { 0 } else { 9 * 4 });
            for (doc, set) in all.iter().enumerate() {
                assert_eq!(sets.get(doc as u32).as_ref(), Some(set), "doc {doc}, budget {budget_bytes}");
            }
        }
    }

    #[test]
    fn hashes_sharing_their_low_bits_switch_the_table_to_mixed_slots() {
        let mut table = HashList::default();
        table.fill(&(0..4000u32).map(|i| i.wrapping_mul(0x9E37_79B9)).collect::<Vec<_>>());
        assert_eq!((table.multiplier, table.len()), (0, 4000));
        // Low 20 bits all zero: without mixing, every hash probes one run.
        let crafted: Vec<u32> = (1..4000u32).map(|i| i << 20).collect();
        table.fill(&crafted);
        assert_ne!(table.multiplier, 0);
        assert_eq!(table.len(), 3999);
        assert_eq!(table.shared_with(&crafted[..100]), 100);
    }

    /// Lists of fingerprints near-copies of one another: `base` values,
    /// each kept with odds `keep` and each replaced, spread over the 32 bits.
    fn near_copies(base: &[u32], picks: &[u8], keep: u8) -> Vec<u32> {
        base.iter()
            .zip(picks.iter().cycle())
            .map(|(&v, &p)| if p < keep { v } else { v ^ 0xABCD_0000 ^ u32::from(p) })
            .map(|v| v.wrapping_mul(0x9E37_79B9))
            .collect()
    }

    #[test]
    fn bins_rule_out_pairs_far_below_the_threshold_and_keep_copies() {
        let base: Vec<u32> = (0..600).collect();
        let picks: Vec<u8> = (0..600u32).map(|i| (i.wrapping_mul(2654435761) >> 24) as u8).collect();
        let a = near_copies(&base, &[0], 1);
        let config = DEFAULT;
        let mut bins = (vec![0u64; 128], vec![0u64; 128]);
        let ones_a = set_bins(&mut bins.0, &a) as usize;
        // Three shingles in ten replaced: Jaccard about 0.54.
        let far = near_copies(&base, &picks, 179);
        let ones_far = set_bins(&mut bins.1, &far) as usize;
        let differ = bins_differing(&bins.0, &bins.1);
        assert!(!may_match((ones_a, 600), (ones_far, 600), differ, &config), "{differ} bins differ");
        // One in twenty replaced: Jaccard about 0.9, a match.
        let near = near_copies(&base, &picks, 243);
        let ones_near = set_bins(&mut bins.1, &near) as usize;
        let differ = bins_differing(&bins.0, &bins.1);
        assert!(may_match((ones_a, 600), (ones_near, 600), differ, &config));
        // Folding the larger map keeps the bound: still ruled out at half the bins.
        set_bins(&mut bins.1, &far);
        let mut half = vec![0u64; 64];
        set_bins(&mut half, &a);
        let differ = bins_differing(&half, &bins.1);
        assert!(differ <= bins_differing(&bins.0, &bins.1));
        assert!(!may_match((ones_a, 600), (ones_far, 600), differ, &config), "{differ} bins differ, folded");
    }

    #[test]
    fn judging_with_bins_decides_every_pair_as_judging_without() {
        let dir = tempfile::tempdir().unwrap();
        let base: Vec<u32> = (0..400).collect();
        // A story and eleven copies, each replacing its own share of the
        // shingles (pairs from Jaccard 0.3 to 1.0), with a few shingles
        // repeated, so that a list is longer than its set.
        let lists: Vec<Vec<u32>> = (0..12u32)
            .map(|d| {
                let picks: Vec<u8> =
                    (0..400u32).map(|i| (i.wrapping_add(d * 97).wrapping_mul(2654435761) >> 24) as u8).collect();
                let mut list = near_copies(&base, &picks, 255 - 12 * d as u8);
                list.extend_from_within(..3 * d as usize);
                list
            })
            .collect();
        let store = || {
            let mut sets = SpilledSets::create(dir.path()).unwrap();
            for (d, list) in lists.iter().enumerate() {
                sets.push(d as u32, list).unwrap();
            }
            sets.finish().unwrap();
            sets
        };
        let config = DEFAULT;
        let judge_all = |sets: &SpilledSets| {
            let mut all = Vec::new();
            // One worker's scratch for every pair, as in the pipeline.
            let mut scratch = JudgeScratch::default();
            for a in 0..12u32 {
                SimilaritySource::Spilled(sets).judge_to(a, a + 1..12, &config, &mut scratch, |b, s| {
                    all.push((a, b, s.is_some_and(|s| s.matches(&config))));
                });
            }
            all
        };
        let without = judge_all(&store());
        // A second store, so that no distinct count is known yet and the
        // maps are judged with the span from their bins to the list length.
        let mut sets = store();
        let words_per_list = sets.plan_bins(1 << 20).unwrap();
        let mut words = vec![0u64; words_per_list.iter().sum()];
        let mut ones = Vec::new();
        let mut at = 0;
        for (i, &n) in words_per_list.iter().enumerate() {
            ones.push(sets.fill_bins(i, &mut words[at..at + n], &mut Vec::new()).unwrap());
            at += n;
        }
        sets.attach_bins(words, &words_per_list, ones);
        let ruled_out = (0..12u32)
            .flat_map(|a| (a + 1..12).map(move |b| (a, b)))
            .filter(|&(a, b)| {
                let (a, b) = (a as usize, b as usize);
                let ((words_a, ones_a), (words_b, ones_b)) = (sets.bins(a).unwrap(), sets.bins(b).unwrap());
                let spans = ((ones_a, sets.list_len(a)), (ones_b, sets.list_len(b)));
                !may_match(spans.0, spans.1, bins_differing(words_a, words_b), &config)
            })
            .count();
        assert_eq!(judge_all(&sets), without);
        let matched = without.iter().filter(|p| p.2).count();
        assert!(matched > 0 && matched < without.len(), "{matched} of {} match", without.len());
        // Most pairs that fall short are ruled out by their maps alone.
        assert!(2 * ruled_out > without.len() - matched, "{ruled_out} of {} ruled out", without.len() - matched);
    }

    #[test]
    fn maps_of_bins_keep_within_their_budget() {
        let dir = tempfile::tempdir().unwrap();
        let mut sets = SpilledSets::create(dir.path()).unwrap();
        for (d, n) in [(0u32, 600usize), (1, 1), (2, 5000), (3, 0)] {
            sets.push(d, &(0..n as u32).collect::<Vec<_>>()).unwrap();
        }
        sets.finish().unwrap();
        let hashes = 5601u64;
        for budget_bytes in [1 << 20, 16 * hashes, 4 * hashes, hashes / 4, 700, 33] {
            let words: usize = sets.plan_bins(budget_bytes).map_or(0, |sizes| sizes.iter().sum());
            assert!(words as u64 * 8 <= budget_bytes, "{words} words for {budget_bytes} bytes");
        }
        // Eight bins a hash at most, each map at least a word.
        assert_eq!(sets.plan_bins(1 << 20).unwrap(), vec![128, 1, 1024, 1]);
        // Under one bin a hash, none.
        assert_eq!(sets.plan_bins(hashes / 4), None);
        // Many one-hash lists take a word each, whatever the bins a hash.
        let mut short = SpilledSets::create(dir.path()).unwrap();
        for d in 0..100u32 {
            short.push(d, &[d]).unwrap();
        }
        short.finish().unwrap();
        assert_eq!(short.plan_bins(800).map(|s| s.len()), Some(100));
        assert_eq!(short.plan_bins(799), None);
        assert_eq!(short.plan_bins(100), None);
    }

    proptest::proptest! {
        // The bins never rule out a pair that matches, whatever the sizes
        // of the two maps, the repeats, the thresholds, and the spans of
        // distinct counts the judge knows.
        #[test]
        fn bins_never_rule_out_a_matching_pair(
            base in proptest::collection::vec(0u32..5000, 1..300),
            picks in proptest::collection::vec(0u8..=255, 1..50),
            keep in 150u8..=255,
            extra in proptest::collection::vec(0u32..5000, 0..120),
            words in (0u32..5, 0u32..5),
            threshold in 0.3f64..1.0,
            containment in proptest::option::of(0.3f64..1.0),
            known in (proptest::prelude::any::<bool>(), proptest::prelude::any::<bool>()),
        ) {
            let a = near_copies(&base, &[0], 1);
            let mut b = near_copies(&base, &picks, keep);
            // A longer or shorter copy, with repeats.
            b.extend(near_copies(&extra, &[0], 1));
            b.truncate(b.len() - b.len() / 3 * usize::from(keep % 2 == 0));
            let config = Thresholds { jaccard: threshold, containment };
            let set = |v: &[u32]| {
                let mut s = v.to_vec();
                s.sort_unstable();
                s.dedup();
                s
            };
            let (sa, sb) = (set(&a), set(&b));
            let mut bins_a = vec![0u64; 1 << words.0];
            let mut bins_b = vec![0u64; 1 << words.1];
            let ones_a = set_bins(&mut bins_a, &a) as usize;
            let ones_b = set_bins(&mut bins_b, &b) as usize;
            proptest::prop_assert!(ones_a <= sa.len() && ones_b <= sb.len());
            let span = |known: bool, ones: usize, len: usize, exact: usize| if known { (exact, exact) } else { (ones, len) };
            let differ = bins_differing(&bins_a, &bins_b);
            if PairSimilarity::exact(&sa, &sb).matches(&config) {
                proptest::prop_assert!(may_match(
                    span(known.0, ones_a, a.len(), sa.len()),
                    span(known.1, ones_b, b.len(), sb.len()),
                    differ,
                    &config
                ), "ruled out: {} bins differ", differ);
            }
        }

        // Judging gives up on a pair only when it cannot match, and what it
        // finds otherwise is the full count.
        #[test]
        fn a_count_given_up_early_could_not_have_reached_the_need(
            a in proptest::collection::vec(0u32..300, 0..300),
            b in proptest::collection::vec(0u32..300, 0..300),
            needed in 0usize..320,
        ) {
            let mut table = HashList::default();
            table.fill(&a);
            let full = table.shared_with(&b);
            match table.shared_at_least(&b, needed) {
                Some(shared) => proptest::prop_assert_eq!(shared, full),
                None => proptest::prop_assert!(full < needed, "gave up at {full} shared, {needed} needed"),
            }
        }

        // Counting what is shared and what is missed in one pass gives the
        // counts of the sets, and gives up only on a pair that cannot match.
        #[test]
        fn shared_and_missed_counts_the_sets_and_gives_up_only_when_short(
            a in proptest::collection::vec(0u32..400, 0..300),
            b in proptest::collection::vec(0u32..400, 0..300),
            threshold in 0.05f64..1.0,
            containment in proptest::option::of(0.05f64..1.0),
        ) {
            let config = Thresholds { jaccard: threshold, containment };
            let (mut table, mut missed, mut scratch) = (HashList::default(), HashList::default(), HashList::default());
            table.fill(&a);
            scratch.fill(&b);
            let (shared, b_len) = (table.shared_with(&b), scratch.len());
            let sizes = |shared: usize, missed: usize| {
                PairSimilarity::from_sizes(table.len() as f64, (shared + missed) as f64, shared as f64)
            };
            let full = sizes(shared, b_len - shared);
            let a_len = table.len();
            let may_match = |s: usize, m: usize| {
                PairSimilarity::from_sizes(a_len as f64, (s + m) as f64, s as f64).matches(&config)
            };
            match table.shared_and_missed(&b, &mut missed, may_match) {
                Some(counts) => proptest::prop_assert_eq!(counts, (shared, b_len - shared)),
                None => proptest::prop_assert!(!full.matches(&config), "gave up on {:?}", full),
            }
            // Never giving up, it counts to the end.
            proptest::prop_assert_eq!(table.shared_and_missed(&b, &mut missed, |_, _| true), Some((shared, b_len - shared)));
        }

        #[test]
        fn the_fewest_shared_to_match_is_where_matching_starts(
            a in 1usize..400,
            b in 1usize..400,
            threshold in 0.05f64..1.0,
            containment in proptest::option::of(0.05f64..1.0),
        ) {
            let config = Thresholds { jaccard: threshold, containment };
            let fewest = fewest_shared_to_match(a, b, &config);
            for shared in 0..=a.min(b) {
                let matches = PairSimilarity::from_sizes(a as f64, b as f64, shared as f64).matches(&config);
                proptest::prop_assert_eq!(matches, fewest.is_some_and(|f| shared >= f), "{} shared", shared);
            }
        }

        // The table's counts against sorting and merging, with repeats, the
        // hash 0 (the table's empty mark), and lists sharing most values.
        #[test]
        fn hash_list_similarity_equals_the_exact_similarity_of_the_sets(
            a in proptest::collection::vec(0u32..600, 0..400),
            b in proptest::collection::vec(0u32..600, 0..400),
            scale in proptest::prelude::any::<u32>(),
        ) {
            // Odd scales spread the values; a scale of 2^20 makes them share
            // their low bits, the input the probe budget is there for.
            let scale = if scale % 3 == 0 { 1 << 20 } else { scale | 1 };
            let spread = |v: &[u32]| v.iter().map(|&x| x.wrapping_mul(scale)).collect::<Vec<_>>();
            let (a, b) = (spread(&a), spread(&b));
            let set = |v: &[u32]| {
                let mut s = v.to_vec();
                s.sort_unstable();
                s.dedup();
                s
            };
            let (mut table, mut scratch) = (HashList::default(), HashList::default());
            table.fill(&a);
            proptest::prop_assert_eq!(table.len(), set(&a).len());
            let exact = PairSimilarity::exact(&set(&a), &set(&b));
            proptest::prop_assert_eq!(table.similarity(&b, &mut scratch), exact);
            // The probe-only count, twice, so that a second round does not
            // see the first one's marks.
            for _ in 0..2 {
                let shared = table.shared_with(&b);
                proptest::prop_assert_eq!(PairSimilarity::from_sizes(table.len() as f64, set(&b).len() as f64, shared as f64), exact);
            }
        }
    }

    #[test]
    fn sets_are_found_by_document() {
        let mut sets = ShingleSets::new();
        sets.push(3, &[1, 2]);
        sets.push(9, &[7]);
        assert_eq!(sets.get(9), Some(&[7u64][..]));
        assert_eq!(sets.get(4), None);
    }
}
