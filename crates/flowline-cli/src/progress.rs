//! Progress of a long command: a bar on a terminal, and a plain line every few seconds when
//! standard error is a file or a pipe (a CI log, `nohup`, a container), so a long run is never
//! silent there.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// Seconds between progress lines when standard error is not a terminal, unless
/// `FLOWLINE_PROGRESS_EVERY` gives another (0: every update).
const EVERY_SECONDS: u64 = 5;

/// A long command's progress over `total` steps of `unit` (days).
pub struct Progress {
    bar: Option<ProgressBar>,
    label: String,
    unit: &'static str,
    total: u64,
    every: Duration,
    last_line: Option<Instant>,
    started: Instant,
    position: u64,
    message: String,
}

impl Progress {
    /// Starts showing progress labelled `label`.
    pub fn new(label: &str, total: u64, unit: &'static str) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(&format!(
                    "{{prefix}} [{{bar:30}}] {{pos}}/{{len}} {unit}  {{msg}}"
                ))
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_prefix(label.to_string());
            bar
        });
        let every = std::env::var("FLOWLINE_PROGRESS_EVERY")
            .ok()
            .and_then(|text| text.parse::<u64>().ok())
            .unwrap_or(EVERY_SECONDS);
        Self {
            bar,
            label: label.to_string(),
            unit,
            total,
            every: Duration::from_secs(every),
            last_line: None,
            started: Instant::now(),
            position: 0,
            message: String::new(),
        }
    }

    /// Reports `position` steps done, with a message (`2025-03-01  12,000 orders`).
    pub fn update(&mut self, position: u64, message: String) {
        self.position = position;
        if let Some(bar) = &self.bar {
            bar.set_position(position);
            bar.set_message(message);
            return;
        }
        self.message = message;
        let due = self
            .last_line
            .is_none_or(|last| last.elapsed() >= self.every);
        if due {
            self.line();
        }
    }

    fn line(&mut self) {
        self.last_line = Some(Instant::now());
        let seconds = self.started.elapsed().as_secs();
        // A reader that went away (a closed pipe) must not stop the work.
        let _ = writeln!(
            std::io::stderr(),
            "{}: {}/{} {}, {} ({seconds} s)",
            self.label,
            self.position,
            self.total,
            self.unit,
            self.message
        );
    }

    /// Ends the progress: clears the bar, or prints the final line.
    pub fn finish(mut self) {
        match self.bar.take() {
            Some(bar) => bar.finish_and_clear(),
            None => self.line(),
        }
    }
}
