//! Generates the gRPC server, client and message types from `proto/`, and the file descriptor
//! set that server reflection serves to grpcurl. protoc comes from the `protoc-bin-vendored`
//! crate, so building needs nothing installed beyond Rust.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = [
        "proto/factcheck/v1/articles.proto",
        "proto/factcheck/v1/claims.proto",
        "proto/factcheck/v1/api_keys.proto",
        "proto/factcheck/v1/events.proto",
    ];
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);

    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    // `prost::Name` on every message: the codec names the message it could not decode
    config.enable_type_names();

    let well_known = protoc_bin_vendored::include_path()?;
    tonic_prost_build::configure()
        // our codec: prost, with decode failures as INVALID_ARGUMENT and NUL-free strings
        .codec_path("crate::api::codec::CheckedCodec")
        .file_descriptor_set_path(out_dir.join("factcheck_descriptor.bin"))
        .compile_with_config(
            config,
            &protos.map(PathBuf::from),
            &[PathBuf::from("proto"), well_known],
        )?;

    println!("cargo:rerun-if-changed=proto");
    Ok(())
}
