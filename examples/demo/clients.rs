//! The clients: tasks on the same executor, each on its own io-mini connection, each reporting
//! its result to the main thread over its own hatch.
//!
//! * **Good clients** send `REQUESTS` frames of varying length, one at a time, paced by an
//!   embassy-time `Timer`, and check every echo byte for byte. The time to the first echo shows
//!   the backpressure: a client whose connection waits for a buffer waits for that long.
//! * **The garbage client** sends a length byte of 255 followed by junk, then waits until the
//!   server hangs up (end of stream or a reset: the server closes with junk unread).
//! * **The cut-off client** gets one request echoed, then sends half a frame and disconnects.
//!
//! A client never panics: an I/O error or a wrong echo becomes an `Err` in its report, and a
//! client task that ends without reporting shows up as a closed hatch.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use embassy_time::Timer;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use io_mini::Async;

use crate::server::MAX_PAYLOAD;

/// Frames each good client sends.
pub(crate) const REQUESTS: usize = 80;
/// Pause between two requests of a good client.
pub(crate) const PACE: embassy_time::Duration = embassy_time::Duration::from_millis(10);

/// What kind of client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Sends valid frames and checks the echoes.
    Good,
    /// Sends an invalid length byte.
    Garbage,
    /// Disconnects in the middle of a frame.
    CutOff,
}

/// A client's result, sent over its hatch.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ClientReport {
    /// Client number.
    pub(crate) id: usize,
    /// What it was.
    pub(crate) kind: Kind,
    /// Complete requests sent.
    pub(crate) sent: usize,
    /// Echoes received and checked.
    pub(crate) echoed: usize,
    /// Time from connecting to the first echo (`None` if there was none).
    pub(crate) first_echo: Option<Duration>,
}

/// What a client sends over its hatch.
pub(crate) type Outcome = Result<ClientReport, String>;

/// Runs client `id` of `kind` against `addr` and reports on `report`.
pub(crate) async fn run(
    id: usize,
    kind: Kind,
    addr: SocketAddr,
    report: hatch::Sender<'static, Outcome>,
) {
    let outcome = match kind {
        Kind::Good => good(id, addr).await,
        Kind::Garbage => garbage(id, addr).await,
        Kind::CutOff => cut_off(id, addr).await,
    };
    // One message per hatch: the one-shot send. `Err` only if the main thread is gone.
    let _ = report.send_last(outcome);
}

/// The `i`-th frame of client `id`: length 1..=MAX_PAYLOAD, recognisable bytes.
fn frame(id: usize, i: usize) -> Vec<u8> {
    let len = 1 + (id * 7 + i * 13) % MAX_PAYLOAD;
    let mut frame = Vec::with_capacity(1 + len);
    frame.push(u8::try_from(len).expect("MAX_PAYLOAD < 256"));
    frame.extend((0..len).map(|k| (id * 31 + i * 5 + k) as u8));
    frame
}

/// Sends frame `i` and checks its echo.
async fn round_trip(stream: &mut Async<TcpStream>, id: usize, i: usize) -> Result<(), String> {
    let request = frame(id, i);
    stream
        .write_all(&request)
        .await
        .map_err(|e| e.to_string())?;
    let mut echo = vec![0; request.len()];
    stream
        .read_exact(&mut echo)
        .await
        .map_err(|e| format!("client {id}, request {i}: {e}"))?;
    if echo != request {
        return Err(format!("client {id}, request {i}: wrong echo"));
    }
    Ok(())
}

async fn good(id: usize, addr: SocketAddr) -> Outcome {
    let start = Instant::now();
    let mut stream = Async::<TcpStream>::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    let mut first_echo = None;
    for i in 0..REQUESTS {
        round_trip(&mut stream, id, i).await?;
        first_echo.get_or_insert_with(|| start.elapsed());
        Timer::after(PACE).await;
    }
    Ok(ClientReport {
        id,
        kind: Kind::Good,
        sent: REQUESTS,
        echoed: REQUESTS,
        first_echo,
    })
    // Dropping the stream closes it between frames: a clean end for the server.
}

async fn garbage(id: usize, addr: SocketAddr) -> Outcome {
    let mut stream = Async::<TcpStream>::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    stream
        .write_all(&[255, 1, 2, 3, 4, 5, 6, 7])
        .await
        .map_err(|e| e.to_string())?;
    // The server must hang up without echoing anything.
    let mut rest = Vec::new();
    match stream.read_to_end(&mut rest).await {
        Ok(_) if rest.is_empty() => {}
        Ok(_) => {
            return Err(format!(
                "garbage client {id}: got {} bytes back",
                rest.len()
            ));
        }
        Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {}
        Err(e) => return Err(format!("garbage client {id}: {e}")),
    }
    Ok(ClientReport {
        id,
        kind: Kind::Garbage,
        sent: 0,
        echoed: 0,
        first_echo: None,
    })
}

async fn cut_off(id: usize, addr: SocketAddr) -> Outcome {
    let start = Instant::now();
    let mut stream = Async::<TcpStream>::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    // One good request: the server has accepted us and holds a buffer for us.
    round_trip(&mut stream, id, 0).await?;
    let first_echo = Some(start.elapsed());
    // Half a frame: 40 bytes announced, 10 sent; then the connection is dropped.
    let mut half = vec![40u8];
    half.extend([0xAB; 10]);
    stream.write_all(&half).await.map_err(|e| e.to_string())?;
    drop(stream);
    Ok(ClientReport {
        id,
        kind: Kind::CutOff,
        sent: 1,
        echoed: 1,
        first_echo,
    })
}
