//! `report.html`: a run's result at a glance, in one self-contained file
//! (inline CSS and SVG, no script, nothing fetched): the counts, histograms
//! of the duplicates' similarity and of cluster sizes, the largest clusters
//! with each copy beside the kept document and the words that differ
//! marked, and for `run` the cuts per rule.

use std::fmt::Write as _;

/// What the report shows; the pipeline fills it in.
#[derive(Debug, Default, Clone)]
pub struct ReportData {
    /// `dedup`, `run`.
    pub command: String,
    /// Label and value of each count, in order.
    pub counts: Vec<(String, String)>,
    /// Each duplicate's Jaccard similarity to its kept document.
    pub similarities: Vec<f64>,
    /// The threshold, drawn on the similarity histogram.
    pub threshold: f64,
    /// Each cluster's size (kept document included).
    pub cluster_sizes: Vec<usize>,
    /// The largest clusters, largest first.
    pub largest: Vec<ShownCluster>,
    /// For `run`: cuts and characters removed per rule, most characters first.
    pub cuts_per_rule: Vec<(String, u64, u64)>,
    /// For `run` with sites: `(site, documents, characters, characters
    /// removed)` of the sites cut from most, most first.
    pub cuts_per_site: Vec<(String, u64, u64, u64)>,
}

/// A cluster as the report shows it.
#[derive(Debug, Default, Clone)]
pub struct ShownCluster {
    /// Documents in the cluster (more than are shown, in a large one).
    pub size: usize,
    /// Why the kept document was kept.
    pub kept_because: String,
    /// The kept document first, then the duplicates: id (raw JSON), Jaccard
    /// to the kept one (1 for itself), and the start of its text.
    pub members: Vec<(String, f64, String)>,
}

/// Sites listed in the report's cuts per site, at most.
const SHOWN_SITES: usize = 20;

/// Words of a text shown side by side and compared, at most.
const SHOWN_WORDS: usize = 300;

/// The report as HTML.
pub fn render(data: &ReportData) -> String {
    let mut h = String::with_capacity(64 << 10);
    h.push_str("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    let _ = write!(h, "<title>doppel {} report</title>", escape(&data.command));
    h.push_str(
        "<style>body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}\
         h1{font-size:20px}h2{font-size:16px;margin-top:28px}table{border-collapse:collapse}\
         td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}\
         td.n{text-align:right}.cluster{display:flex;gap:12px;overflow-x:auto;margin-bottom:18px}\
         .doc{flex:0 0 360px;border:1px solid #ccc;padding:8px;font-size:12px}\
         .doc h3{font-size:13px;margin:0 0 6px}del{background:#fdd;text-decoration:none}\
         ins{background:#dfd;text-decoration:none}.muted{color:#777}</style></head><body>\n",
    );
    let _ = writeln!(h, "<h1>doppel {}</h1>", escape(&data.command));
    h.push_str("<h2>Counts</h2>\n<table id=\"counts\">");
    for (label, value) in &data.counts {
        let _ = write!(h, "<tr><th>{}</th><td class=\"n\">{}</td></tr>", escape(label), escape(value));
    }
    h.push_str("</table>\n");

    h.push_str("<h2>Similarity of each duplicate to its kept document</h2>\n");
    let bins = 20;
    let mut counts = vec![0usize; bins];
    for &s in &data.similarities {
        counts[((s.clamp(0.0, 1.0) * bins as f64) as usize).min(bins - 1)] += 1;
    }
    let labels: Vec<String> = (0..bins).map(|i| format!("{:.2}", i as f64 / bins as f64)).collect();
    histogram(&mut h, "similarity", &counts, &labels, Some(data.threshold * bins as f64));

    h.push_str("<h2>Cluster sizes</h2>\n");
    let largest = data.cluster_sizes.iter().copied().max().unwrap_or(2).clamp(2, 21);
    let mut sizes = vec![0usize; largest - 1];
    for &n in &data.cluster_sizes {
        sizes[n.clamp(2, largest) - 2] += 1;
    }
    let labels: Vec<String> = (2..=largest).map(|n| if n == 21 { "21+".into() } else { n.to_string() }).collect();
    histogram(&mut h, "cluster-sizes", &sizes, &labels, None);

    if !data.cuts_per_rule.is_empty() {
        h.push_str("<h2>Cuts per rule</h2>\n<table id=\"cuts\"><tr><th>rule</th><th>cuts</th><th>characters</th></tr>");
        for (rule, cuts, chars) in &data.cuts_per_rule {
            let _ =
                write!(h, "<tr><td>{}</td><td class=\"n\">{cuts}</td><td class=\"n\">{chars}</td></tr>", escape(rule));
        }
        h.push_str("</table>\n");
    }
    if !data.cuts_per_site.is_empty() {
        h.push_str(
            "<h2>Cuts per site</h2>\n<p class=\"muted\">The sites the cleaner cut most from.</p>\
             <table id=\"sites\"><tr><th>site</th><th>documents</th><th>characters removed</th><th>share</th></tr>",
        );
        for (site, documents, chars, removed) in data.cuts_per_site.iter().take(SHOWN_SITES) {
            let share = 100.0 * *removed as f64 / (*chars).max(1) as f64;
            let _ = write!(
                h,
                "<tr><td>{}</td><td class=\"n\">{documents}</td><td class=\"n\">{removed}</td>\
                 <td class=\"n\">{share:.1}%</td></tr>",
                escape(site)
            );
        }
        h.push_str("</table>\n");
    }

    h.push_str("<h2>Largest clusters</h2>\n");
    if data.largest.is_empty() {
        h.push_str("<p class=\"muted\">No clusters.</p>\n");
    }
    for c in &data.largest {
        let _ = write!(
            h,
            "<p>{} documents ({} shown); kept because: {}. Words not in the kept document are marked \
             green, the kept document's words missing from a copy red.</p><div class=\"cluster\">",
            c.size,
            c.members.len(),
            escape(&c.kept_because)
        );
        let kept_words: Vec<&str> = c.members.first().map_or(Vec::new(), |m| first_words(&m.2));
        for (i, (id, jaccard, text)) in c.members.iter().enumerate() {
            let title = if i == 0 { "kept".to_string() } else { format!("Jaccard {jaccard:.3}") };
            let _ = write!(h, "<div class=\"doc\"><h3>{} <span class=\"muted\">{}</span></h3>", escape(id), title);
            let words = first_words(text);
            if i == 0 {
                h.push_str(&escape(&words.join(" ")));
            } else {
                diff_html(&mut h, &kept_words, &words);
            }
            h.push_str("</div>");
        }
        h.push_str("</div>\n");
    }
    h.push_str("</body></html>\n");
    h
}

fn first_words(text: &str) -> Vec<&str> {
    text.split_whitespace().take(SHOWN_WORDS).collect()
}

/// A bar chart in inline SVG; `mark` draws a line at that bin position.
fn histogram(h: &mut String, id: &str, counts: &[usize], labels: &[String], mark: Option<f64>) {
    let (w, ht, pad) = (720.0, 200.0, 30.0);
    let top = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let bar = (w - 2.0 * pad) / counts.len().max(1) as f64;
    let _ = write!(
        h,
        "<svg id=\"{id}\" width=\"{w}\" height=\"{}\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">",
        ht + 40.0
    );
    for (i, &n) in counts.iter().enumerate() {
        let bh = (ht - pad) * n as f64 / top;
        let x = pad + i as f64 * bar;
        let _ = write!(
            h,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"#4a78b5\"><title>{}: {n}</title></rect>",
            ht - bh,
            bar - 2.0,
            escape(&labels[i])
        );
        if n > 0 {
            let _ = write!(
                h,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\">{n}</text>",
                x + bar / 2.0,
                ht - bh - 3.0
            );
        }
        let step = counts.len().div_ceil(10).max(1);
        if i % step == 0 {
            let _ =
                write!(h, "<text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"10\">{}</text>", ht + 14.0, escape(&labels[i]));
        }
    }
    if let Some(m) = mark {
        let x = pad + m * bar;
        let _ = write!(
            h,
            "<line x1=\"{x:.1}\" y1=\"0\" x2=\"{x:.1}\" y2=\"{ht}\" stroke=\"#c33\" stroke-dasharray=\"4\"/>"
        );
    }
    let _ = writeln!(h, "<line x1=\"{pad}\" y1=\"{ht}\" x2=\"{}\" y2=\"{ht}\" stroke=\"#333\"/></svg>", w - pad);
}

/// The copy's words, those not in the kept document's longest common
/// subsequence of words marked inserted, the kept document's missing ones
/// marked deleted where they were.
fn diff_html(h: &mut String, kept: &[&str], copy: &[&str]) {
    let (n, m) = (kept.len(), copy.len());
    // LCS table, (n + 1) x (m + 1), of at most 301 x 301 entries.
    let mut lcs = vec![0u16; (n + 1) * (m + 1)];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i * (m + 1) + j] = if kept[i] == copy[j] {
                lcs[(i + 1) * (m + 1) + j + 1] + 1
            } else {
                lcs[(i + 1) * (m + 1) + j].max(lcs[i * (m + 1) + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && kept[i] == copy[j] {
            h.push_str(&escape(copy[j]));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i * (m + 1) + j + 1] >= lcs[(i + 1) * (m + 1) + j]) {
            let _ = write!(h, "<ins>{}</ins>", escape(copy[j]));
            j += 1;
        } else {
            let _ = write!(h, "<del>{}</del>", escape(kept[i]));
            i += 1;
        }
        h.push(' ');
    }
}

/// Text for HTML: `&`, `<`, `>` and `"` escaped.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_holds_its_figures_and_marks_the_words_that_differ() {
        let data = ReportData {
            command: "dedup".into(),
            counts: vec![("documents".into(), "4".into()), ("duplicates".into(), "2".into())],
            similarities: vec![0.85, 0.97],
            threshold: 0.8,
            cluster_sizes: vec![3],
            largest: vec![ShownCluster {
                size: 2,
                kept_because: "first".into(),
                members: vec![
                    ("\"a\"".into(), 1.0, "the port strike <ended> today".into()),
                    ("\"b\"".into(), 0.85, "the port strike ended on Monday".into()),
                ],
            }],
            cuts_per_rule: vec![("caption".into(), 3, 120)],
            cuts_per_site: vec![("a.example".into(), 2, 400, 100)],
        };
        let html = render(&data);
        for part in [
            "<svg id=\"similarity\"",
            "<svg id=\"cluster-sizes\"",
            "<table id=\"cuts\"",
            "<td class=\"n\">4</td>",
            "25.0%",
        ] {
            assert!(html.contains(part), "{part}");
        }
        assert!(html.contains("<del>&lt;ended&gt;</del>") && html.contains("<ins>Monday</ins>"), "{html}");
        assert!(
            !html.contains("<script") && !html.contains("http://")
                || html.contains("xmlns=\"http://www.w3.org/2000/svg\"")
        );
        assert_eq!(html.matches("<div class=\"doc\">").count(), 2);
    }
}
