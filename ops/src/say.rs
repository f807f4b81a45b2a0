//! Progress output, in the scripts' style: a step, its details, warnings. All on stderr, so a
//! command's own output stays clean.

pub fn step(text: &str) {
    eprintln!("\x1b[1;34m==>\x1b[0m {text}");
}

pub fn info(text: &str) {
    eprintln!("    {text}");
}

pub fn warn(text: &str) {
    eprintln!("\x1b[1;33mwarning:\x1b[0m {text}");
}
