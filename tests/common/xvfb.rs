//! A private Xvfb server for the tests that open the real editor (`tests/host_gui.rs`,
//! `tests/editor_teardown.rs`), and the check for what the editor needs on it.

use std::ops::Range;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Why the editor cannot be opened on Xvfb here, if it cannot: no Xvfb, or no Mesa software
/// OpenGL (the editor draws with OpenGL). `scripts/test.sh` installs both (Debian packages
/// `xvfb`, `libgl1-mesa-dri`).
pub fn missing_prerequisite() -> Option<&'static str> {
    if Command::new("Xvfb").arg("-help").output().is_err() {
        return Some("no Xvfb here (Debian package xvfb); scripts/test.sh installs it");
    }
    let swrast = std::fs::read_dir("/usr/lib")
        .into_iter()
        .flatten()
        .flatten()
        .any(|d| d.path().join("dri/swrast_dri.so").exists());
    if !swrast {
        return Some(
            "no Mesa software OpenGL (Debian package libgl1-mesa-dri) for the editor on Xvfb",
        );
    }
    None
}

/// How the server ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Started with `-terminate`: it exits by itself once its last client disconnects, and is
    /// never killed from here (Xlib ends the whole process when its server goes away while a
    /// window is still closing).
    WithLastClient,
    /// Killed when dropped (by a process that never connects to it itself).
    KillOnDrop,
}

/// An Xvfb server on a free display.
pub struct Xvfb {
    child: Child,
    pub display: String,
    ending: Ending,
}

impl Xvfb {
    /// Starts Xvfb (1600x1000x24, no TCP) on the first free display of `displays` (separate
    /// ranges keep test binaries running in parallel apart).
    pub fn start(displays: Range<u32>, ending: Ending) -> Option<Xvfb> {
        for n in displays {
            if std::path::Path::new(&format!("/tmp/.X{n}-lock")).exists()
                || std::path::Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
            {
                continue;
            }
            let display = format!(":{n}");
            let mut args = vec![
                display.as_str(),
                "-screen",
                "0",
                "1600x1000x24",
                "-nolisten",
                "tcp",
            ];
            if ending == Ending::WithLastClient {
                args.push("-terminate");
            }
            let child = Command::new("Xvfb")
                .args(&args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .ok()?;
            let mut server = Xvfb {
                child,
                display,
                ending,
            };
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(10) {
                if std::path::Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
                    return Some(server);
                }
                if let Ok(Some(_)) = server.child.try_wait() {
                    break; // this display was taken after all
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        None
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        if self.ending == Ending::KillOnDrop {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A DAW's window for the editor to be embedded in: 1280x800 on `screen`, mapped.
pub fn create_host_window(
    conn: &impl x11rb::connection::Connection,
    screen: &x11rb::protocol::xproto::Screen,
) -> u32 {
    use x11rb::protocol::xproto::{ConnectionExt, CreateWindowAux, WindowClass};
    let window = conn.generate_id().unwrap();
    conn.create_window(
        screen.root_depth,
        window,
        screen.root,
        0,
        0,
        1280,
        800,
        0,
        WindowClass::INPUT_OUTPUT,
        screen.root_visual,
        &CreateWindowAux::new(),
    )
    .unwrap();
    conn.map_window(window).unwrap();
    conn.flush().unwrap();
    window
}
