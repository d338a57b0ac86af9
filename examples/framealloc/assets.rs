//! Loading assets in tokio tasks with `TaskAlloc`: upstream framealloc's "TaskAlloc → Basic Usage"
//! (`process_asset`) and "Common Patterns → Asset Loading Pipeline" (`AssetLoader`,
//! `load_asset_async`).
//!
//! Each load runs in its own spawned task with its own `TaskAlloc`; the file bytes and the
//! parser's scratch buffers are pool allocations held across `.await` points, and the parsed
//! asset leaves the task as plain `std` data. The program checks every parsed asset, that the
//! missing and the corrupt file are reported as errors, that every task ended with nothing live
//! in its scope, and that the pool tier got every block back.
//!
//! Adaptations (upstream framealloc snippets are incomplete here):
//! * The "disk" is a table in memory (`read_file`), so the example needs no files; each read
//!   yields once, like real I/O.
//! * `process_asset` returns the processed bytes out of the task (upstream framealloc's task body returned
//!   `()` while the function promised a `Vec<u8>`) and takes the path by value into the task.
//! * Upstream framealloc's `Asset` is both an enum (`Asset::Texture(..)`) and a struct with a `path`; here
//!   it is a struct with a `path` and a `kind` enum.
//! * Failures are counted and returned by `load_assets` (upstream framealloc printed them) so the program
//!   can assert them.
//! * `TaskAlloc::alloc_box` takes `&self`, so the tasks use `let task`, not `let mut task`.

use std::collections::HashMap;
use std::fmt;

use framealloc::SmartAlloc;
use framealloc::task::TaskAlloc;

/// Why a load failed.
#[derive(Debug, PartialEq)]
enum Error {
    NotFound(String),
    Corrupt(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound(path) => write!(f, "{path}: not found"),
            Self::Corrupt(path) => write!(f, "{path}: corrupt"),
        }
    }
}

/// The bytes of a file of the in-memory "disk": a 4-byte tag, then the payload.
fn file_contents(path: &str) -> Option<Vec<u8>> {
    let mut bytes = Vec::new();
    match path {
        "textures/grass.tex" => {
            bytes.extend_from_slice(b"TEX\0");
            bytes.extend_from_slice(&[4, 2]); // width, height
            bytes.extend((0..4 * 2 * 4).map(|i| i as u8)); // RGBA pixels
        }
        "meshes/cube.msh" => {
            bytes.extend_from_slice(b"MSH\0");
            for v in 0..8u8 {
                // one vertex: three coordinates, 0 or 1
                bytes.extend_from_slice(&[v & 1, (v >> 1) & 1, (v >> 2) & 1]);
            }
        }
        "audio/beep.aud" => {
            bytes.extend_from_slice(b"AUD\0");
            for s in [0i16, 1000, -1000, 2000, -2000, 0] {
                bytes.extend_from_slice(&s.to_le_bytes());
            }
        }
        "audio/broken.aud" => bytes.extend_from_slice(b"AUD\0\x01"), // odd sample bytes
        "notes/readme.txt" => bytes.extend_from_slice(b"hello, disk"),
        _ => return None,
    }
    Some(bytes)
}

/// Upstream framealloc's `read_file` / `load_from_disk`: one "disk read".
async fn read_file(path: &str) -> Result<Vec<u8>, Error> {
    tokio::task::yield_now().await;
    file_contents(path).ok_or_else(|| Error::NotFound(path.to_owned()))
}

/// Upstream framealloc's `process_data`: a checksum of the bytes, computed in a task-scoped buffer.
async fn process_data(task: &TaskAlloc, data: &[u8]) -> Vec<u8> {
    let mut out = task.alloc_vec_with_capacity::<u8>(data.len());
    let mut sum = 0u8;
    for chunk in data.chunks(8) {
        for &b in chunk {
            sum = sum.wrapping_add(b);
            out.push(sum);
        }
        tokio::task::yield_now().await; // a long job gives the worker back now and then
    }
    out.into_vec() // the result leaves the task as a std Vec; the pool block goes back
}

/// Upstream framealloc's "Basic Usage": load and process one file in a spawned task.
async fn process_asset(alloc: &SmartAlloc, path: &str) -> Vec<u8> {
    let alloc_clone = alloc.clone();
    let path = path.to_owned();
    tokio::spawn(async move {
        // Create task-scoped allocator
        let task = TaskAlloc::new(&alloc_clone);
        // Load asset (pool allocation)
        let data = task.alloc_box(read_file(&path).await.expect("file exists"));
        // Process data
        let processed = process_data(&task, &data).await;
        drop(data);
        assert_eq!(task.live_allocations(), 0);
        processed
        // The task's allocations are all gone when it ends.
    })
    .await
    .expect("asset task")
}

/// A decoded texture.
#[derive(Debug, PartialEq)]
struct Texture {
    width: u8,
    height: u8,
    pixels: Vec<[u8; 4]>,
}

/// A decoded mesh.
#[derive(Debug, PartialEq)]
struct Mesh {
    vertices: Vec<[f32; 3]>,
}

/// Decoded audio.
#[derive(Debug, PartialEq)]
struct Audio {
    samples: Vec<i16>,
}

#[derive(Debug, PartialEq)]
enum AssetKind {
    Texture(Texture),
    Mesh(Mesh),
    Audio(Audio),
}

/// A loaded asset.
#[derive(Debug, PartialEq)]
struct Asset {
    path: String,
    kind: AssetKind,
}

#[derive(Debug, Clone, Copy)]
enum AssetType {
    Texture,
    Mesh,
    Audio,
}

/// One entry of the loading queue.
#[derive(Debug)]
struct LoadRequest {
    path: String,
    asset_type: AssetType,
}

/// Checks the 4-byte tag and returns the payload.
fn payload<'d>(data: &'d [u8], tag: &[u8; 4], path: &str) -> Result<&'d [u8], Error> {
    match data.split_first_chunk::<4>() {
        Some((found, rest)) if found == tag => Ok(rest),
        _ => Err(Error::Corrupt(path.to_owned())),
    }
}

async fn parse_texture(task: &TaskAlloc, data: &[u8], path: &str) -> Result<Texture, Error> {
    let body = payload(data, b"TEX\0", path)?;
    let [width, height, pixels @ ..] = body else {
        return Err(Error::Corrupt(path.to_owned()));
    };
    if pixels.len() != usize::from(*width) * usize::from(*height) * 4 {
        return Err(Error::Corrupt(path.to_owned()));
    }
    // Decode into task-scoped scratch first, as a real decoder would.
    let mut scratch = task.alloc_vec_with_capacity::<[u8; 4]>(pixels.len() / 4);
    for px in pixels.chunks_exact(4) {
        scratch.push([px[0], px[1], px[2], px[3]]);
    }
    tokio::task::yield_now().await;
    Ok(Texture {
        width: *width,
        height: *height,
        pixels: scratch.into_vec(),
    })
}

async fn parse_mesh(task: &TaskAlloc, data: &[u8], path: &str) -> Result<Mesh, Error> {
    let body = payload(data, b"MSH\0", path)?;
    if body.len() % 3 != 0 {
        return Err(Error::Corrupt(path.to_owned()));
    }
    let mut vertices = task.alloc_vec::<[f32; 3]>();
    for v in body.chunks_exact(3) {
        vertices.push([f32::from(v[0]), f32::from(v[1]), f32::from(v[2])]);
        tokio::task::yield_now().await;
    }
    Ok(Mesh {
        vertices: vertices.into_vec(),
    })
}

async fn parse_audio(task: &TaskAlloc, data: &[u8], path: &str) -> Result<Audio, Error> {
    let body = payload(data, b"AUD\0", path)?;
    if body.len() % 2 != 0 {
        return Err(Error::Corrupt(path.to_owned()));
    }
    let mut samples = task.alloc_vec::<i16>();
    samples.extend(
        body.chunks_exact(2)
            .map(|s| i16::from_le_bytes([s[0], s[1]])),
    );
    tokio::task::yield_now().await;
    Ok(Audio {
        samples: samples.into_vec(),
    })
}

/// Upstream framealloc's `load_asset_async`: the file bytes are a pool allocation of the task.
async fn load_asset_async(task: &TaskAlloc, request: LoadRequest) -> Result<Asset, Error> {
    // Load file data
    let file_data = task.alloc_box(read_file(&request.path).await?);
    // Parse based on type
    let kind = match request.asset_type {
        AssetType::Texture => {
            AssetKind::Texture(parse_texture(task, &file_data, &request.path).await?)
        }
        AssetType::Mesh => AssetKind::Mesh(parse_mesh(task, &file_data, &request.path).await?),
        AssetType::Audio => AssetKind::Audio(parse_audio(task, &file_data, &request.path).await?),
    };
    Ok(Asset {
        path: request.path,
        kind,
    })
}

/// Upstream framealloc's `AssetLoader`.
struct AssetLoader {
    alloc: SmartAlloc,
    loading_queue: Vec<LoadRequest>,
    loaded_assets: HashMap<String, Asset>,
}

impl AssetLoader {
    /// Loads the whole queue in parallel, one task per request; returns the failures.
    async fn load_assets(&mut self) -> Vec<Error> {
        let alloc_clone = self.alloc.clone();
        // Process loading queue in parallel
        let futures: Vec<_> = self
            .loading_queue
            .drain(..)
            .map(|request| {
                let alloc_clone = alloc_clone.clone();
                tokio::spawn(async move {
                    let task = TaskAlloc::new(&alloc_clone);
                    let result = load_asset_async(&task, request).await;
                    // Success or `?`, the task's scope is empty by now.
                    assert_eq!(task.live_allocations(), 0);
                    (result, task.total_allocations())
                })
            })
            .collect();
        // Wait for all loads
        let mut failures = Vec::new();
        for future in futures {
            let (result, allocations) = future.await.expect("load task");
            match result {
                Ok(asset) => {
                    assert!(
                        allocations >= 2,
                        "file bytes and scratch came from the pool"
                    );
                    self.loaded_assets.insert(asset.path.clone(), asset);
                }
                Err(e) => {
                    println!("failed to load asset: {e}");
                    failures.push(e);
                }
            }
        }
        failures
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("runtime");
    let alloc = SmartAlloc::new(Default::default());

    // Basic Usage.
    let processed = runtime.block_on(process_asset(&alloc, "notes/readme.txt"));
    let expected: Vec<u8> = b"hello, disk"
        .iter()
        .scan(0u8, |sum, &b| {
            *sum = sum.wrapping_add(b);
            Some(*sum)
        })
        .collect();
    assert_eq!(processed, expected);
    assert_eq!(alloc.stats().pool.live_count(), 0);
    println!("process_asset: {} bytes processed", processed.len());

    // Asset Loading Pipeline.
    let request = |path: &str, asset_type| LoadRequest {
        path: path.to_owned(),
        asset_type,
    };
    let mut loader = AssetLoader {
        alloc: alloc.clone(),
        loading_queue: vec![
            request("textures/grass.tex", AssetType::Texture),
            request("meshes/cube.msh", AssetType::Mesh),
            request("audio/beep.aud", AssetType::Audio),
            request("audio/broken.aud", AssetType::Audio),
            request("textures/missing.tex", AssetType::Texture),
            request("notes/readme.txt", AssetType::Mesh), // wrong tag
        ],
        loaded_assets: HashMap::new(),
    };
    let mut failures = runtime.block_on(loader.load_assets());
    failures.sort_by_key(ToString::to_string);
    assert_eq!(
        failures,
        [
            Error::Corrupt("audio/broken.aud".into()),
            Error::Corrupt("notes/readme.txt".into()),
            Error::NotFound("textures/missing.tex".into()),
        ]
    );
    assert!(loader.loading_queue.is_empty());
    assert_eq!(loader.loaded_assets.len(), 3);

    let AssetKind::Texture(tex) = &loader.loaded_assets["textures/grass.tex"].kind else {
        panic!("grass is a texture");
    };
    assert_eq!((tex.width, tex.height, tex.pixels.len()), (4, 2, 8));
    assert_eq!(tex.pixels[1], [4, 5, 6, 7]);
    let AssetKind::Mesh(mesh) = &loader.loaded_assets["meshes/cube.msh"].kind else {
        panic!("cube is a mesh");
    };
    assert_eq!(mesh.vertices.len(), 8);
    assert_eq!(mesh.vertices[7], [1.0, 1.0, 1.0]);
    let AssetKind::Audio(audio) = &loader.loaded_assets["audio/beep.aud"].kind else {
        panic!("beep is audio");
    };
    assert_eq!(audio.samples, [0, 1000, -1000, 2000, -2000, 0]);

    let st = alloc.stats();
    assert_eq!(st.pool.live_count(), 0, "every task gave its blocks back");
    assert_eq!(st.heap.live_count(), 0);
    println!(
        "loaded {} assets, {} failures; pool: {} allocations, all freed",
        loader.loaded_assets.len(),
        failures.len(),
        st.pool.allocations
    );
}
