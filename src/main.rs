//! The `doppel` command: a thin clap layer over the library.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use doppel::{ClusterMode, DedupConfig, ExactSets, FieldNames, Input, JobOptions, KeepRule, Shingling, Verify};

#[derive(Parser)]
#[command(name = "doppel", version, about = "Find near-duplicate and boilerplate text in large corpora")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Remove near-duplicate documents: writes deduped.jsonl, clusters.jsonl,
    /// rejected.jsonl, report.html and stats.json into --out.
    Dedup(DedupArgs),
    /// Strip scraper junk (headers, captions, credits, prompts, boilerplate,
    /// repeated paragraphs, stray tokens): writes cleaned.jsonl,
    /// removed.jsonl, rejected.jsonl and stats.json into --out.
    Clean(CleanArgs),
    /// Clean, then deduplicate the cleaned text: writes deduped.jsonl,
    /// clusters.jsonl, removed.jsonl, rejected.jsonl, report.html and
    /// stats.json into --out.
    Run(RunArgs),
    /// Train the cleaner's line classifier on labelled pages: JSONL, one
    /// page a line, `{"lines": [{"text": ..., "label": "content" |
    /// "boilerplate"}, ...]}`. Writes a model for `clean --model`.
    TrainCleaner(TrainCleanerArgs),
    /// Generate a news dump with planted near-duplicates and scraper junk,
    /// for tests and benchmarks (deterministic for a seed).
    Synth(SynthArgs),
    /// Compute the exact ground truth (all pairs with Jaccard >= threshold)
    /// and score doppel's run, or a given clusters.jsonl, against it.
    /// Writes truth_pairs.jsonl and eval.json into --out.
    Eval(EvalArgs),
    /// Read the corpus and hash every shingle, nothing else: the floor that
    /// doppel's throughput is measured against (prints JSON).
    #[command(hide = true)]
    Floor(DedupArgs),
}

#[derive(Args)]
struct SynthArgs {
    /// Output JSONL file (zstd or gzip when it ends in .zst or .gz).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Stop at about this much JSONL (e.g. 100MB, 1GiB).
    #[arg(long, value_name = "SIZE", conflicts_with = "docs", value_parser = parse_size)]
    size: Option<u64>,
    /// Stop after this many documents.
    #[arg(long, value_name = "N")]
    docs: Option<u64>,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// JSONL of real articles whose sentences make up the generated text
    /// (else made-up words).
    #[arg(long, value_name = "FILE")]
    base: Vec<PathBuf>,
    /// Share of articles that get syndicated copies.
    #[arg(long, default_value_t = 0.3)]
    copy_rate: f64,
    /// No per-site junk around articles.
    #[arg(long)]
    no_junk: bool,
    /// Short documents (one or two paragraphs).
    #[arg(long)]
    short: bool,
    /// Also write {"id","copy_of","kind","clean"} per document here.
    #[arg(long, value_name = "FILE")]
    truth: Option<PathBuf>,
    /// No progress bar and no summary line.
    #[arg(short, long)]
    quiet: bool,
}

/// Parses sizes such as `512`, `100MB`, `1.5GiB`, `64k`.
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num.parse().map_err(|_| format!("not a size: {s}"))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mib" => 1024.0 * 1024.0,
        "g" | "gb" => 1e9,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" => 1e12,
        other => return Err(format!("unknown size unit `{other}` in {s}")),
    };
    Ok((value * mult) as u64)
}

/// Where the corpus comes from and which fields are read: the first options
/// of every command that reads one.
#[derive(Args)]
struct CommonArgs {
    /// JSONL files (plain, gzip or zstd), directories (*.txt and *.jsonl*
    /// inside, sorted), or - for stdin.
    #[arg(value_name = "INPUT")]
    inputs: Vec<String>,
    /// JSON field holding the text.
    #[arg(long, default_value = "text", value_name = "FIELD", help_heading = "Input")]
    text_field: String,
    /// JSON field holding the id (string or number); FILE:LINE when absent.
    #[arg(long, default_value = "id", value_name = "FIELD", help_heading = "Input")]
    id_field: String,
    /// Reject bad records (listed in rejected.jsonl) and go on, instead of stopping.
    #[arg(long, help_heading = "Input")]
    skip_bad: bool,
    /// Reject a record (a JSON line, or a whole .txt file) longer than
    /// this, e.g. 64MiB (the default): read past, never held in memory.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, help_heading = "Input")]
    max_record_bytes: Option<u64>,
}

/// Where the results go, what is printed, and how many threads work: the
/// last options of every command that reads a corpus.
#[derive(Args)]
struct OutputArgs {
    /// Directory for the outputs (created if missing).
    #[arg(long, short, value_name = "DIR", default_value = "out", help_heading = "Output")]
    out: PathBuf,
    /// No progress bars. Warnings and errors are always printed.
    #[arg(long, short, help_heading = "Output")]
    quiet: bool,
    /// No closing summary on stderr (stats.json holds the figures).
    #[arg(long, help_heading = "Output")]
    no_summary: bool,
    /// Worker threads (default: all cores). Output does not depend on it.
    #[arg(long, short = 'j', value_name = "N", help_heading = "Performance")]
    threads: Option<usize>,
}

#[derive(Clone, Copy, ValueEnum)]
enum KeepArg {
    First,
    Longest,
    Earliest,
    Latest,
}

#[derive(Clone, Copy, ValueEnum)]
enum VerifyArg {
    Exact,
    Estimate,
}

#[derive(Clone, Copy, ValueEnum)]
enum ExactSetsArg {
    Keep,
    Reread,
}

#[derive(Clone, Copy, ValueEnum)]
enum ClusterArg {
    Star,
    Union,
}

#[derive(Args)]
struct DedupArgs {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    params: DedupParams,
    /// Write clusters.jsonl, rejected.jsonl and stats.json only, not
    /// deduped.jsonl (a kept document is one not listed as a duplicate or
    /// rejected).
    #[arg(long, help_heading = "Output")]
    duplicates_only: bool,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Args)]
struct CleanArgs {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    clean: CleanParams,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Args)]
struct TrainCleanerArgs {
    /// Labelled pages (JSONL).
    #[arg(required = true, value_name = "FILE")]
    inputs: Vec<PathBuf>,
    /// Where to write the model (JSON).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Hidden units of each of the model's two networks.
    #[arg(long, default_value_t = 48, value_name = "N")]
    hidden: usize,
    /// Passes over the training lines.
    #[arg(long, default_value_t = 16, value_name = "N")]
    epochs: usize,
    /// Seed of the initial weights and the shuffles.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The model's default junk threshold (else the one with the best
    /// character F1 on the training pages).
    #[arg(long, value_name = "P")]
    threshold: Option<f32>,
    /// Train on the pages as given only, not also on parts of them.
    #[arg(long)]
    no_augment: bool,
    /// Print nothing but errors.
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    clean: CleanParams,
    #[command(flatten)]
    params: DedupParams,
    /// Write the lists only, not deduped.jsonl (as for dedup).
    #[arg(long, help_heading = "Output")]
    duplicates_only: bool,
    #[command(flatten)]
    output: OutputArgs,
}

/// Options of the cleaner, shared by clean and run.
#[derive(Args)]
struct CleanParams {
    /// JSON rules file overriding or extending the built-in rules (see --show-rules).
    #[arg(long, value_name = "FILE", help_heading = "Cleaning")]
    rules: Option<PathBuf>,
    /// Field naming the site (domain) of a record, for per-site boilerplate.
    #[arg(long, value_name = "FIELD", help_heading = "Cleaning")]
    site_field: Option<String>,
    /// Clean with this saved boilerplate table instead of learning one from the input.
    #[arg(long, value_name = "FILE", help_heading = "Cleaning")]
    table: Option<PathBuf>,
    /// Save the boilerplate table in force (learned or loaded) to this file.
    #[arg(long, value_name = "FILE", help_heading = "Cleaning")]
    save_table: Option<PathBuf>,
    /// Cut a line when the classifier's junk probability is at least P:
    /// higher keeps more content and more junk, 1 turns the classifier off
    /// (default: the model's own, chosen on its training pages).
    #[arg(long, value_name = "P", help_heading = "Cleaning")]
    junk_threshold: Option<f32>,
    /// Classify lines with this model (from `doppel train-cleaner`)
    /// instead of the built-in one.
    #[arg(long, value_name = "FILE", help_heading = "Cleaning")]
    model: Option<PathBuf>,
    /// Print the rules in force (the --rules format) and exit.
    #[arg(long, help_heading = "Cleaning")]
    show_rules: bool,
    /// Show how the cleaner cuts the document with this id (each line,
    /// kept or cut, with the rule and why) and exit; the table is learned
    /// from all the inputs first, as a run learns it.
    #[arg(long, value_name = "ID", help_heading = "Cleaning")]
    explain: Option<String>,
}

impl CleanParams {
    fn options(&self, common: &CommonArgs, output: &OutputArgs) -> anyhow::Result<doppel::pipeline::CleanOptions> {
        let mut rules = match &self.rules {
            Some(path) => doppel::clean::Rules::from_file(path)?,
            None => doppel::clean::Rules::default(),
        };
        if let Some(p) = self.junk_threshold {
            anyhow::ensure!((0.0..=1.0).contains(&p), "--junk-threshold must be between 0 and 1, got {p}");
            rules.classifier.threshold = Some(p);
        }
        let job = common.job(output, DedupConfig::default());
        Ok(doppel::pipeline::CleanOptions {
            rules,
            table: self.table.clone(),
            save_table: self.save_table.clone(),
            model: self.model.clone(),
            fields: FieldNames { site: self.site_field.clone(), ..job.fields },
            skip_bad: common.skip_bad,
            max_record_bytes: common.max_record_bytes,
            progress: job.progress,
        })
    }

    /// Answers --show-rules or --explain ID, if asked: `true` when done.
    fn answer(
        &self,
        common: &CommonArgs,
        output: &OutputArgs,
        opts: &doppel::pipeline::CleanOptions,
    ) -> anyhow::Result<bool> {
        if self.show_rules {
            self.show_rules(opts)?;
            return Ok(true);
        }
        let Some(id) = &self.explain else { return Ok(false) };
        output.init_threads()?;
        let e = doppel::pipeline::explain_document(&common.inputs(), id, opts)?;
        print!("{}", ExplainedDocument(&e));
        Ok(true)
    }

    /// Prints the rules (and a loaded table) for --show-rules.
    fn show_rules(&self, opts: &doppel::pipeline::CleanOptions) -> anyhow::Result<()> {
        println!("{}", opts.rules.to_json());
        if let Some(path) = &self.table {
            let table = doppel::clean::BoilerplateTable::load(path)?;
            eprintln!(
                "doppel: table {} holds {} boilerplate lines and {} stray tokens",
                path.display(),
                table.entries().len(),
                table.stray_entries().len()
            );
        }
        Ok(())
    }
}

#[derive(Args)]
struct EvalArgs {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    params: DedupParams,
    /// Score this clusters.jsonl instead of running doppel dedup.
    #[arg(long, value_name = "FILE")]
    clusters: Option<PathBuf>,
    /// Reuse the truth pairs of an earlier eval (truth_pairs.jsonl).
    #[arg(long, value_name = "FILE")]
    pairs: Option<PathBuf>,
    /// Human cluster labels, one {"id", "cluster"} per line.
    #[arg(long, value_name = "FILE")]
    labels: Option<PathBuf>,
    /// Score `doppel run`: the truth is computed on the cleaned text (with
    /// the cleaning options below), and the run scored is `run`.
    #[arg(long)]
    clean: bool,
    #[command(flatten)]
    clean_params: CleanParams,
    #[command(flatten)]
    output: OutputArgs,
}

/// Parameters of deduplication, shared by dedup and eval.
#[derive(Args)]
struct DedupParams {
    /// Jaccard similarity at or above which two documents are near-duplicates.
    #[arg(long, short, default_value_t = 0.8, help_heading = "Deduplication")]
    threshold: f64,
    /// Which document of a cluster to keep; ties go to the first in input
    /// order. `earliest` and `latest` read --date-field (ISO 8601, RFC 2822
    /// or Unix seconds or milliseconds); a record without a date is never
    /// preferred.
    #[arg(long, value_enum, default_value = "first", help_heading = "Deduplication")]
    keep: KeepArg,
    /// JSON field holding a document's publication date, for --keep
    /// earliest|latest.
    #[arg(long, value_name = "FIELD", help_heading = "Deduplication")]
    date_field: Option<String>,
    /// Keep records whose FIELD holds an earlier value of the list first
    /// (e.g. site=apnews.com,reuters.com: the wire's own copy), then apply
    /// --keep among equals; records with another value or none come last.
    #[arg(long, value_name = "FIELD=V1,V2,...", value_parser = parse_keep_priority, help_heading = "Deduplication")]
    keep_priority: Option<doppel::pipeline::KeepPriority>,
    /// Also treat as duplicates pairs whose smaller document has at least this
    /// share of its shingles in the larger one (truncated copies). LSH is then
    /// tuned to catch copies down to half the longer document.
    #[arg(long, value_name = "C", help_heading = "Deduplication")]
    containment: Option<f64>,
    /// Word n-gram size of shingles.
    #[arg(long, default_value_t = 5, value_name = "N", help_heading = "Deduplication")]
    ngram: usize,
    /// Use character n-grams of this size instead of word n-grams.
    #[arg(long, value_name = "N", conflicts_with = "ngram", help_heading = "Deduplication")]
    char_ngram: Option<usize>,
    /// How clusters are formed: `star` removes a document only if it matches
    /// the kept document itself; `union` removes everything linked to it by a
    /// chain of matches.
    #[arg(long, value_enum, default_value = "star", help_heading = "Deduplication")]
    cluster: ClusterArg,
    /// Values per MinHash signature.
    #[arg(long, default_value_t = 128, value_name = "N", help_heading = "Deduplication")]
    num_perm: usize,
    /// LSH bands (with --rows); by default chosen from --threshold to
    /// minimise missed pairs (weight 0.99) plus false candidates (weight 0.01).
    #[arg(long, requires = "rows", value_name = "B", help_heading = "Deduplication")]
    bands: Option<usize>,
    /// Rows per LSH band (with --bands); bands x rows <= num-perm.
    #[arg(long, requires = "bands", value_name = "R", help_heading = "Deduplication")]
    rows: Option<usize>,
    /// Seed of the shingle hash.
    #[arg(long, default_value_t = 42, help_heading = "Deduplication")]
    seed: u64,
    /// How candidate pairs are confirmed: on the exact Jaccard of their
    /// shingle sets (a second pass over candidate documents), or on the
    /// MinHash estimate alone.
    #[arg(long, value_enum, default_value = "exact", help_heading = "Deduplication")]
    verify: VerifyArg,
    /// Remove documents with no words (placeholders, pages the cleaner
    /// emptied), listed in rejected.jsonl with the reason "empty".
    #[arg(long, help_heading = "Output")]
    drop_empty: bool,
    /// Write every record to annotated.jsonl with "doppel_cluster" (its
    /// line in clusters.jsonl, or null) and "doppel_kept", instead of the
    /// kept ones to deduped.jsonl.
    #[arg(long, help_heading = "Output")]
    annotate: bool,
    /// Fields of each clustered record to show beside its id in
    /// clusters.jsonl, e.g. site,title,date.
    #[arg(long, value_name = "FIELDS", value_delimiter = ',', help_heading = "Output")]
    show_field: Vec<String>,
    /// Hold at most SIZE of LSH band keys in memory (e.g. 512MB, 2GiB);
    /// beyond it, sorted runs go to a temporary file in --out and are merged
    /// band by band. The output is the same with or without it.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, help_heading = "Performance")]
    memory_limit: Option<u64>,
    /// Where exact verification gets the shingle sets of candidates: `keep`
    /// logs every document's set while signing, to a temporary file in --out
    /// (about 0.6x the input; a full disk falls back to `reread`); `reread`
    /// reads the candidate documents a second time, using disk for their
    /// sets only. The output is the same either way.
    #[arg(long, value_enum, default_value = "keep", help_heading = "Performance")]
    exact_sets: ExactSetsArg,
}

fn parse_keep_priority(spec: &str) -> Result<doppel::pipeline::KeepPriority, String> {
    doppel::pipeline::KeepPriority::parse(spec).map_err(|e| e.to_string())
}

impl DedupParams {
    fn job(&self, common: &CommonArgs, output: &OutputArgs) -> JobOptions {
        let job = common.job(output, self.config());
        JobOptions {
            fields: FieldNames { date: self.date_field.clone(), ..job.fields.clone() },
            show_fields: self.show_field.clone(),
            keep_priority: self.keep_priority.clone(),
            annotate: self.annotate,
            drop_empty: self.drop_empty,
            memory_limit_bytes: self.memory_limit,
            exact_sets: match self.exact_sets {
                ExactSetsArg::Keep => ExactSets::Keep,
                ExactSetsArg::Reread => ExactSets::Reread,
            },
            ..job
        }
    }

    fn config(&self) -> DedupConfig {
        DedupConfig {
            jaccard_threshold: self.threshold,
            shingling: match self.char_ngram {
                Some(n) => Shingling::Chars(n),
                None => Shingling::Words(self.ngram),
            },
            num_perm: self.num_perm,
            bands_rows: self.bands.zip(self.rows),
            seed: self.seed,
            keep: match self.keep {
                KeepArg::First => KeepRule::First,
                KeepArg::Longest => KeepRule::Longest,
                KeepArg::Earliest => KeepRule::Earliest,
                KeepArg::Latest => KeepRule::Latest,
            },
            verify: match self.verify {
                VerifyArg::Exact => Verify::Exact,
                VerifyArg::Estimate => Verify::Estimate,
            },
            cluster: match self.cluster {
                ClusterArg::Star => ClusterMode::Star,
                ClusterArg::Union => ClusterMode::Union,
            },
            containment: self.containment,
            ..DedupConfig::default()
        }
    }
}

impl CommonArgs {
    fn inputs(&self) -> Vec<Input> {
        self.inputs.iter().map(|s| Input::from_arg(s)).collect()
    }

    fn job(&self, output: &OutputArgs, dedup: DedupConfig) -> JobOptions {
        JobOptions {
            dedup,
            memory_limit_bytes: None,
            duplicates_only: false,
            exact_sets: ExactSets::default(),
            show_fields: Vec::new(),
            keep_priority: None,
            annotate: false,
            drop_empty: false,
            fields: FieldNames { text: self.text_field.clone(), id: self.id_field.clone(), ..FieldNames::default() },
            skip_bad: self.skip_bad,
            max_record_bytes: self.max_record_bytes,
            progress: output.progress(),
        }
    }
}

impl OutputArgs {
    /// Progress bars: on a terminal, unless --quiet.
    fn progress(&self) -> bool {
        !self.quiet && std::io::stderr().is_terminal()
    }

    fn init_threads(&self) -> anyhow::Result<()> {
        if let Some(n) = self.threads {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n.max(1))
                .build_global()
                .context("cannot start the thread pool")?;
        }
        Ok(())
    }

    /// Prints a run's warnings (never hidden; also in its stats.json),
    /// then its summary and where its results are, unless --no-summary.
    fn finish(&self, warnings: &[&[String]], summary: &dyn std::fmt::Display, files: &str) {
        for w in warnings.iter().copied().flatten() {
            eprintln!("doppel: warning: {w}");
        }
        if !self.no_summary {
            eprintln!("doppel: {summary} Results in {}: {files}.", self.out.display());
        }
    }
}

/// A document's lines as the cleaner judged them, for `--explain ID`.
struct ExplainedDocument<'a>(&'a doppel::pipeline::DocumentExplanation);

impl std::fmt::Display for ExplainedDocument<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let e = self.0;
        let removed: usize = e.cuts.iter().map(|c| c.end - c.start).sum();
        let site = e.site.as_deref().map(|s| format!(", site {s}")).unwrap_or_default();
        writeln!(
            f,
            "{}{site}: {} cuts, {removed} of {} characters removed",
            e.location,
            e.cuts.len(),
            e.text.chars().count()
        )?;
        // Each line of the text once: `-` cut whole, `~` cut in part, ` ` kept;
        // after a cut line, the rule and why.
        let mut at = 0;
        for line in e.text.split('\n') {
            let (start, end) = (at, at + line.chars().count());
            at = end + 1;
            if line.trim().is_empty() {
                continue;
            }
            let cuts: Vec<_> = e.cuts.iter().filter(|c| c.start < end.max(start + 1) && c.end > start).collect();
            let whole = cuts.iter().any(|c| c.start <= start && c.end >= end);
            let mark = if whole {
                '-'
            } else if cuts.is_empty() {
                ' '
            } else {
                '~'
            };
            writeln!(f, "{mark} {line}")?;
            for c in cuts {
                let why = match &c.why {
                    Some(w) => format!(" {}", serde_json::to_string(w).unwrap_or_default()),
                    None => String::new(),
                };
                let part = if whole { String::new() } else { format!(" {:?}", c.text) };
                writeln!(f, "    ^ {}{part}{why}", c.rule)?;
            }
        }
        Ok(())
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Dedup(args) => dedup(args),
        Command::Clean(args) => clean(args),
        Command::Run(args) => run_pipeline(args),
        Command::TrainCleaner(args) => train_cleaner(args),
        Command::Synth(args) => synth(args),
        Command::Eval(args) => eval(args),
        Command::Floor(args) => floor(args),
    }
}

fn dedup(args: DedupArgs) -> anyhow::Result<()> {
    let DedupArgs { common, params, duplicates_only, output } = args;
    output.init_threads()?;
    let job = JobOptions { duplicates_only, ..params.job(&common, &output) };
    let s = doppel::dedup_files(&common.inputs(), &output.out, &job)?;
    let deduped = corpus_file(&job);
    output.finish(&[&s.warnings], &s, &format!("{deduped}clusters.jsonl, rejected.jsonl, report.html, stats.json"));
    Ok(())
}

/// The corpus file a dedup job writes, as the summary lists it.
fn corpus_file(job: &JobOptions) -> &'static str {
    match (job.duplicates_only, job.annotate) {
        (true, _) => "",
        (false, true) => "annotated.jsonl, ",
        (false, false) => "deduped.jsonl, ",
    }
}

fn clean(args: CleanArgs) -> anyhow::Result<()> {
    let CleanArgs { common, clean, output } = args;
    let opts = clean.options(&common, &output)?;
    if clean.answer(&common, &output, &opts)? {
        return Ok(());
    }
    output.init_threads()?;
    let s = doppel::pipeline::clean_files(&common.inputs(), &output.out, &opts)?;
    output.finish(&[&s.warnings], &s, "cleaned.jsonl, removed.jsonl, rejected.jsonl, stats.json");
    Ok(())
}

fn run_pipeline(args: RunArgs) -> anyhow::Result<()> {
    let RunArgs { common, clean, params, duplicates_only, output } = args;
    let opts = clean.options(&common, &output)?;
    if clean.answer(&common, &output, &opts)? {
        return Ok(());
    }
    output.init_threads()?;
    let job = JobOptions { duplicates_only, ..params.job(&common, &output) };
    let r = doppel::pipeline::run_files(&common.inputs(), &output.out, &opts, &job)?;
    let deduped = corpus_file(&job);
    let files = format!("{deduped}clusters.jsonl, removed.jsonl, rejected.jsonl, report.html, stats.json");
    output.finish(&[&r.clean.warnings, &r.dedup.warnings], &r, &files);
    Ok(())
}

fn eval(args: EvalArgs) -> anyhow::Result<()> {
    let EvalArgs { common, params, clusters, pairs, labels, clean, clean_params, output } = args;
    output.init_threads()?;
    let opts = doppel::pipeline::EvalOptions {
        job: params.job(&common, &output),
        clusters,
        pairs,
        labels,
        clean: match clean {
            true => Some(clean_params.options(&common, &output)?),
            false => None,
        },
    };
    let r = doppel::pipeline::eval_files(&common.inputs(), &output.out, &opts)?;
    // The scores are the command's output: stdout, whatever --no-summary says.
    println!("{r}; eval.json and truth_pairs.jsonl in {}", output.out.display());
    Ok(())
}

fn floor(args: DedupArgs) -> anyhow::Result<()> {
    args.output.init_threads()?;
    let job = args.params.job(&args.common, &args.output);
    let f = doppel::pipeline::floor(&args.common.inputs(), &job)?;
    println!("{}", serde_json::to_string_pretty(&f)?);
    Ok(())
}

fn train_cleaner(args: TrainCleanerArgs) -> anyhow::Result<()> {
    let opts = doppel::clean::model::TrainOptions {
        hidden: args.hidden,
        epochs: args.epochs,
        seed: args.seed,
        threshold: args.threshold,
        augment: !args.no_augment,
    };
    let model = doppel::pipeline::train_cleaner(&args.inputs, &opts)?;
    model.save(&args.out)?;
    if !args.quiet {
        eprintln!(
            "doppel: trained on {}; junk threshold {:.2}. Model in {}.",
            model.trained_on,
            model.threshold,
            args.out.display()
        );
    }
    Ok(())
}

fn synth(args: SynthArgs) -> anyhow::Result<()> {
    let inputs: Vec<Input> = args.base.iter().map(|p| Input::Path(p.clone())).collect();
    let pool = if inputs.is_empty() {
        doppel::synth::SentencePool::default()
    } else {
        doppel::synth::SentencePool::from_inputs(&inputs, &FieldNames::default())?
    };
    let limit = match (args.size, args.docs) {
        (Some(bytes), _) => doppel::synth::SynthLimit::Bytes(bytes),
        (None, Some(n)) => doppel::synth::SynthLimit::Documents(n),
        (None, None) => anyhow::bail!("give --size or --docs"),
    };
    let opts = doppel::synth::SynthOptions {
        seed: args.seed,
        copy_rate: args.copy_rate,
        junk: !args.no_junk,
        short: args.short,
        progress: !args.quiet && std::io::stderr().is_terminal(),
        ..Default::default()
    };
    let s = doppel::synth::write_corpus(&args.out, args.truth.as_deref(), limit, opts, pool)?;
    if !args.quiet {
        eprintln!(
            "doppel: wrote {} documents ({} copies, {:.1} MB of JSONL) to {}",
            s.documents,
            s.copies,
            s.bytes as f64 / 1e6,
            args.out.display()
        );
    }
    Ok(())
}

/// The error and its causes, each said once: the library's errors already
/// print their cause (`path: Permission denied`), and anyhow's alternate
/// form would print it again after them.
fn error_message(err: &anyhow::Error) -> String {
    let mut message = err.to_string();
    for cause in err.chain().skip(1) {
        let cause = cause.to_string();
        if !message.contains(&cause) {
            message.push_str(": ");
            message.push_str(&cause);
        }
    }
    message
}

/// 2 for bad input or usage (the user can fix the command or the data), 1
/// for a run that failed otherwise (a disk, a permission, a busy output
/// directory). Usage errors clap finds exit with 2 too.
fn exit_code(err: &anyhow::Error) -> u8 {
    match err.downcast_ref::<doppel::Error>() {
        Some(
            doppel::Error::Config(_)
            | doppel::Error::BadRecord { .. }
            | doppel::Error::Read { .. }
            | doppel::Error::Input { .. },
        ) => 2,
        Some(doppel::Error::DataCorruption { .. }) => 2,
        Some(_) => 1,
        // The binary's own checks of its options.
        None => 2,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // A closed pipe downstream is not an error (`doppel ... | head`).
            if err.chain().any(|e| {
                e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("doppel: {}", error_message(&err));
            ExitCode::from(exit_code(&err))
        }
    }
}
