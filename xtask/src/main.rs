//! `cargo xtask bundle fairmaster --release` builds the CLAP and VST3 bundles into `target/bundled/`.
fn main() -> nice_plug_xtask::Result<()> {
    nice_plug_xtask::main()
}
