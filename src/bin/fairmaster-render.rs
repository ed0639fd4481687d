//! `fairmaster-render`: offline mastering with the plugin's own engine (see `--help` and the
//! README). All logic lives in `fairmaster::offline` (the command line in `offline::cli`); this
//! only prints and maps results to exit codes: 0 success, 1 a render/input/output error, 2 a
//! usage error, 3 a loudness target missed.

use std::process::ExitCode;

use fairmaster::offline::cli::{self, Invocation, Job};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match cli::parse(&args) {
        Ok(Invocation::Show(text)) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        Ok(Invocation::Job(options)) => options,
        Err(usage) => {
            eprintln!("fairmaster-render: {usage}");
            return ExitCode::from(2);
        }
    };
    let failed = |e: fairmaster::offline::OfflineError| {
        eprintln!("fairmaster-render: error: {e}");
        ExitCode::FAILURE
    };
    match options.job() {
        Job::Vinyl => match cli::run_vinyl(&options) {
            Ok(sheet) => {
                if options.json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&sheet).unwrap_or_default()
                    );
                } else {
                    print!("{}", sheet.to_text());
                }
                ExitCode::SUCCESS
            }
            Err(e) => failed(e),
        },
        Job::Listen => match cli::run_listen(&options) {
            Ok(report) => {
                if options.json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&report).unwrap_or_default()
                    );
                } else {
                    print!("{}", report.to_table());
                }
                ExitCode::SUCCESS
            }
            Err(e) => failed(e),
        },
        Job::Analyze => match cli::run_analyze(&options) {
            Ok(report) => {
                if options.json {
                    println!("{}", report.to_json());
                } else {
                    print!("{}", report.to_table());
                }
                ExitCode::SUCCESS
            }
            Err(e) => failed(e),
        },
        Job::Master => match cli::run(&options) {
            Ok(report) => {
                if options.json {
                    println!("{}", report.to_json());
                } else {
                    print!("{}", report.to_table());
                }
                let missed = report
                    .files
                    .iter()
                    .any(|f| f.target.as_ref().is_some_and(|t| !t.met));
                if missed {
                    eprintln!(
                        "fairmaster-render: a loudness target was missed by more than 0.5 LU \
                         (see the report); the closest master was written"
                    );
                    return ExitCode::from(3);
                }
                ExitCode::SUCCESS
            }
            Err(e) => failed(e),
        },
    }
}
