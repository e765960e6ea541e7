//! Sets the linker flags a Node addon needs (napi symbols resolve against the host process).

fn main() {
    napi_build::setup();
}
