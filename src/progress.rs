//! Progress bars on stderr, hidden when asked to be quiet.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Makes progress bars, or hidden ones when progress is off.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Progress {
    pub enabled: bool,
}

impl Progress {
    /// A bar over `total` input bytes.
    pub fn bytes(&self, total: u64, stage: &'static str) -> ProgressBar {
        self.bar(total, stage, "{prefix:>12} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {msg} eta {eta}")
    }

    /// A bar over `total` documents.
    pub fn documents(&self, total: u64, stage: &'static str) -> ProgressBar {
        self.bar(total, stage, "{prefix:>12} [{bar:30}] {pos}/{len} documents {per_sec} eta {eta}")
    }

    fn bar(&self, total: u64, stage: &'static str, template: &str) -> ProgressBar {
        if !self.enabled {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(stage);
        bar
    }

    /// A spinner for a stage of unknown length.
    pub fn stage(&self, stage: &'static str) -> ProgressBar {
        if !self.enabled {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{prefix:>12} {spinner} {msg} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_prefix(stage);
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    }
}
