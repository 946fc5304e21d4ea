//! Standard output as a Unix tool writes it: when the reader goes away (`flowline key list |
//! head -1`), the command stops quietly with status 141, as if killed by SIGPIPE, instead of
//! panicking on the failed write.

use std::fmt;
use std::io::Write as _;

/// Exit status of a command whose reader went away: 128 + SIGPIPE (13), what a shell reports
/// for a process the signal ended.
const READER_GONE: i32 = 141;

/// Writes `text` (and a newline when `newline`) to standard output.
pub fn write(text: fmt::Arguments<'_>, newline: bool) {
    let mut out = std::io::stdout().lock();
    let written = out.write_fmt(text).and_then(|()| {
        if newline {
            out.write_all(b"\n")
        } else {
            Ok(())
        }
    });
    if let Err(error) = written {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(READER_GONE);
        }
        eprintln!("error: cannot write to standard output: {error}");
        std::process::exit(2);
    }
}

/// `print!` that stops quietly when standard output's reader has gone.
macro_rules! out {
    ($($arg:tt)*) => { $crate::output::write(format_args!($($arg)*), false) };
}

/// `println!` that stops quietly when standard output's reader has gone.
macro_rules! outln {
    () => { $crate::output::write(format_args!(""), true) };
    ($($arg:tt)*) => { $crate::output::write(format_args!($($arg)*), true) };
}
