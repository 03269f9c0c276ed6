//! Data-parallel training across the nodes of an AWS Batch multi-node parallel job: where this
//! process stands (Batch's `AWS_BATCH_JOB_NODE_INDEX`, `AWS_BATCH_JOB_NUM_NODES`,
//! `AWS_BATCH_JOB_MAIN_NODE_INDEX`, `AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS`), the
//! rendezvous (the main node listens, the others connect), and the averaging of a vector over
//! every node each step (through the main node: it sums what the others send and sends the
//! mean back). Plain TCP from the standard library; a node that goes quiet or away is an error
//! that names it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// Where this process stands in a multi-node job.
#[derive(Debug, Clone, PartialEq)]
pub struct Topology {
    /// This node's index (`AWS_BATCH_JOB_NODE_INDEX`).
    pub node: usize,
    /// How many nodes the job has (`AWS_BATCH_JOB_NUM_NODES`).
    pub nodes: usize,
    /// The main node's index (`AWS_BATCH_JOB_MAIN_NODE_INDEX`).
    pub main: usize,
    /// The main node's address, on the other nodes
    /// (`AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS`).
    pub main_addr: Option<String>,
    /// The port the main node listens on.
    pub port: u16,
}

/// Why the nodes could not train together.
#[derive(Debug, thiserror::Error)]
pub enum DistError {
    /// Batch's multi-node variables are missing or wrong.
    #[error("multi-node environment: {0}")]
    Env(String),
    /// A node could not be reached, or went away mid-training.
    #[error("node {node}: {what}")]
    Node {
        /// The node's index.
        node: usize,
        /// What happened.
        what: String,
    },
}

impl Topology {
    /// This process's place from `var` (the environment's variables); `None` for a job of one
    /// node. `port`: the main node's port, else one derived from the job id (so that two jobs
    /// on one host do not meet).
    pub fn from_vars(
        var: impl Fn(&str) -> Option<String>,
        port: Option<u16>,
    ) -> Result<Option<Topology>, DistError> {
        let num = |name: &str| -> Result<Option<usize>, DistError> {
            var(name)
                .map(|v| {
                    v.parse::<usize>()
                        .map_err(|_| DistError::Env(format!("{name}={v:?} is not a number")))
                })
                .transpose()
        };
        let Some(nodes) = num("AWS_BATCH_JOB_NUM_NODES")?.filter(|n| *n > 1) else {
            return Ok(None);
        };
        let node = num("AWS_BATCH_JOB_NODE_INDEX")?
            .ok_or_else(|| DistError::Env("AWS_BATCH_JOB_NODE_INDEX is not set".into()))?;
        let main = num("AWS_BATCH_JOB_MAIN_NODE_INDEX")?.unwrap_or(0);
        if node >= nodes || main >= nodes {
            return Err(DistError::Env(format!(
                "node {node} and main node {main} must be below {nodes} nodes"
            )));
        }
        let main_addr = var("AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS");
        if node != main && main_addr.is_none() {
            return Err(DistError::Env(
                "AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS is not set on a child node".into(),
            ));
        }
        let job = var("AWS_BATCH_JOB_ID").unwrap_or_default();
        Ok(Some(Topology {
            node,
            nodes,
            main,
            main_addr,
            port: port.unwrap_or_else(|| default_port(&job)),
        }))
    }

    /// Whether this is the main node (it evaluates and writes the results).
    pub fn is_main(&self) -> bool {
        self.node == self.main
    }
}

/// A port in 20000-39999 from the job's id (without a `#node` suffix): the same on every node.
pub fn default_port(job_id: &str) -> u16 {
    let id = job_id.split('#').next().unwrap_or_default();
    // FNV-1a: stable across builds and platforms
    let hash = id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    20000 + (hash % 20000) as u16
}

/// The connections of a node to the others, and what averaging has cost so far.
pub struct Comm {
    topo: Topology,
    /// On the main node: every other node's connection, by index; on another: the main node's.
    peers: Vec<(usize, TcpStream)>,
    /// Seconds spent in [`Comm::all_reduce_mean`] and [`Comm::gather`].
    pub seconds: f64,
    /// Bytes sent and received.
    pub bytes: u64,
}

impl Comm {
    /// Meets the other nodes: the main node waits up to `rendezvous` for every other node to
    /// connect (Batch starts them after it, in no order), the others keep trying to connect
    /// for as long. Every later read or write gives up after `io`.
    pub fn connect(topo: &Topology, rendezvous: Duration, io: Duration) -> Result<Comm, DistError> {
        let deadline = Instant::now() + rendezvous;
        let peers = if topo.is_main() {
            accept_all(topo, deadline)?
        } else {
            vec![(topo.main, connect_main(topo, deadline)?)]
        };
        for (node, s) in &peers {
            let set = s
                .set_read_timeout(Some(io))
                .and_then(|()| s.set_write_timeout(Some(io)))
                .and_then(|()| s.set_nodelay(true));
            set.map_err(|e| lost(*node, &e))?;
        }
        Ok(Comm {
            topo: topo.clone(),
            peers,
            seconds: 0.0,
            bytes: 0,
        })
    }

    /// Replaces `buf` by its mean over every node (each node's `buf` the same length).
    pub fn all_reduce_mean(&mut self, buf: &mut [f32]) -> Result<(), DistError> {
        let t = Instant::now();
        if self.topo.is_main() {
            let mut theirs = vec![0f32; buf.len()];
            for (node, s) in &mut self.peers {
                read_floats(s, &mut theirs).map_err(|e| lost(*node, &e))?;
                for (a, b) in buf.iter_mut().zip(&theirs) {
                    *a += b;
                }
            }
            let n = self.topo.nodes as f32;
            for a in buf.iter_mut() {
                *a /= n;
            }
            for (node, s) in &mut self.peers {
                write_floats(s, buf).map_err(|e| lost(*node, &e))?;
            }
        } else {
            let (node, s) = &mut self.peers[0];
            write_floats(s, buf).map_err(|e| lost(*node, &e))?;
            read_floats(s, buf).map_err(|e| lost(*node, &e))?;
        }
        self.bytes += (buf.len() * 4 * 2 * self.peers.len()) as u64;
        self.seconds += t.elapsed().as_secs_f64();
        Ok(())
    }

    /// Every node's `local` (each the same length), by node index, on the main node; empty on
    /// the others.
    pub fn gather(&mut self, local: &[f32]) -> Result<Vec<Vec<f32>>, DistError> {
        let t = Instant::now();
        let out = if self.topo.is_main() {
            let mut all = vec![Vec::new(); self.topo.nodes];
            all[self.topo.node] = local.to_vec();
            for (node, s) in &mut self.peers {
                let mut theirs = vec![0f32; local.len()];
                read_floats(s, &mut theirs).map_err(|e| lost(*node, &e))?;
                all[*node] = theirs;
            }
            all
        } else {
            let (node, s) = &mut self.peers[0];
            write_floats(s, local).map_err(|e| lost(*node, &e))?;
            Vec::new()
        };
        self.seconds += t.elapsed().as_secs_f64();
        Ok(out)
    }
}

fn lost(node: usize, e: &std::io::Error) -> DistError {
    let what = match e.kind() {
        std::io::ErrorKind::UnexpectedEof
        | std::io::ErrorKind::ConnectionReset
        | std::io::ErrorKind::BrokenPipe => {
            "lost mid-training: its connection closed (its process or instance went away)"
                .to_string()
        }
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
            "lost mid-training: no answer within the I/O timeout".to_string()
        }
        _ => format!("lost mid-training: {e}"),
    };
    DistError::Node { node, what }
}

/// The main node: listens and takes one connection from every other node (each says its index).
fn accept_all(topo: &Topology, deadline: Instant) -> Result<Vec<(usize, TcpStream)>, DistError> {
    let listener = TcpListener::bind(("0.0.0.0", topo.port)).map_err(|e| DistError::Node {
        node: topo.node,
        what: format!("cannot listen on port {}: {e}", topo.port),
    })?;
    listener
        .set_nonblocking(true)
        .map_err(|e| DistError::Env(e.to_string()))?;
    let mut peers: Vec<(usize, TcpStream)> = Vec::new();
    while peers.len() + 1 < topo.nodes {
        match listener.accept() {
            Ok((mut s, _)) => {
                let _ = s.set_nonblocking(false);
                let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
                let mut idx = [0u8; 4];
                if s.read_exact(&mut idx).is_ok() {
                    let node = u32::from_le_bytes(idx) as usize;
                    if node < topo.nodes
                        && node != topo.main
                        && !peers.iter().any(|(n, _)| *n == node)
                    {
                        peers.push((node, s));
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    let missing: Vec<String> = (0..topo.nodes)
                        .filter(|n| *n != topo.main && !peers.iter().any(|(p, _)| p == n))
                        .map(|n| n.to_string())
                        .collect();
                    return Err(DistError::Node {
                        node: missing.first().and_then(|n| n.parse().ok()).unwrap_or(0),
                        what: format!(
                            "never connected to the main node (missing: node {})",
                            missing.join(", node ")
                        ),
                    });
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(DistError::Env(format!("accepting connections: {e}"))),
        }
    }
    peers.sort_by_key(|(n, _)| *n);
    Ok(peers)
}

/// Another node: connects to the main node (retrying until `deadline`) and says its index.
fn connect_main(topo: &Topology, deadline: Instant) -> Result<TcpStream, DistError> {
    let addr = topo.main_addr.clone().unwrap_or_default();
    loop {
        match TcpStream::connect((addr.as_str(), topo.port)) {
            Ok(mut s) => {
                s.write_all(&(topo.node as u32).to_le_bytes())
                    .map_err(|e| lost(topo.main, &e))?;
                return Ok(s);
            }
            Err(e) if Instant::now() >= deadline => {
                return Err(DistError::Node {
                    node: topo.main,
                    what: format!(
                        "the main node at {addr}:{} cannot be reached: {e}",
                        topo.port
                    ),
                });
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// `buf` as its length (u32) and its values (f32), little-endian.
fn write_floats(s: &mut TcpStream, buf: &[f32]) -> std::io::Result<()> {
    let mut bytes = Vec::with_capacity(4 + buf.len() * 4);
    bytes.extend_from_slice(&(buf.len() as u32).to_le_bytes());
    for v in buf {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    s.write_all(&bytes)
}

/// Reads what [`write_floats`] wrote into `buf`, which must be as long.
fn read_floats(s: &mut TcpStream, buf: &mut [f32]) -> std::io::Result<()> {
    let mut len = [0u8; 4];
    s.read_exact(&mut len)?;
    let n = u32::from_le_bytes(len) as usize;
    if n != buf.len() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("sent {n} values where {} were expected", buf.len()),
        ));
    }
    let mut bytes = vec![0u8; n * 4];
    s.read_exact(&mut bytes)?;
    for (v, c) in buf.iter_mut().zip(bytes.chunks_exact(4)) {
        *v = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn a_single_node_job_has_no_topology_and_a_child_needs_the_main_address() {
        assert_eq!(Topology::from_vars(vars(&[]), None).unwrap(), None);
        assert_eq!(
            Topology::from_vars(vars(&[("AWS_BATCH_JOB_NUM_NODES", "1")]), None).unwrap(),
            None
        );
        let child = [
            ("AWS_BATCH_JOB_NUM_NODES", "2"),
            ("AWS_BATCH_JOB_NODE_INDEX", "1"),
            ("AWS_BATCH_JOB_MAIN_NODE_INDEX", "0"),
            ("AWS_BATCH_JOB_ID", "abc#1"),
        ];
        let err = Topology::from_vars(vars(&child), None).unwrap_err();
        assert!(err.to_string().contains("MAIN_NODE_PRIVATE_IPV4_ADDRESS"));
        let mut with = child.to_vec();
        with.push(("AWS_BATCH_JOB_MAIN_NODE_PRIVATE_IPV4_ADDRESS", "10.0.0.5"));
        let t = Topology::from_vars(vars(&with), None).unwrap().unwrap();
        assert_eq!((t.node, t.nodes, t.main, t.is_main()), (1, 2, 0, false));
        assert_eq!(
            t.port,
            default_port("abc"),
            "the same port as the main node's"
        );
    }

    #[test]
    fn nodes_average_a_vector_and_a_lost_node_is_named() {
        let port = default_port(&format!("test-{}", std::process::id()));
        let topo = move |node: usize| Topology {
            node,
            nodes: 3,
            main: 0,
            main_addr: Some("127.0.0.1".into()),
            port,
        };
        let io = Duration::from_secs(5);
        let children: Vec<_> = (1..3)
            .map(|n| {
                std::thread::spawn(move || {
                    let mut c = Comm::connect(&topo(n), Duration::from_secs(10), io).unwrap();
                    let mut v = vec![n as f32, 10.0];
                    c.all_reduce_mean(&mut v).unwrap();
                    c.gather(&[n as f32]).unwrap();
                    if n == 2 {
                        return v; // node 2 goes away before the next step
                    }
                    let mut w = vec![1.0, 1.0];
                    let _ = c.all_reduce_mean(&mut w);
                    v
                })
            })
            .collect();
        let mut main = Comm::connect(&topo(0), Duration::from_secs(10), io).unwrap();
        let mut v = vec![0.0, 10.0];
        main.all_reduce_mean(&mut v).unwrap();
        assert_eq!(v, vec![1.0, 10.0]);
        assert_eq!(
            main.gather(&[0.0]).unwrap(),
            vec![vec![0.0], vec![1.0], vec![2.0]]
        );
        let mut w = vec![1.0, 1.0];
        let err = main.all_reduce_mean(&mut w).unwrap_err();
        assert!(
            err.to_string().starts_with("node 2: lost mid-training"),
            "{err}"
        );
        drop(main);
        for c in children {
            assert_eq!(
                c.join().unwrap(),
                vec![1.0, 10.0],
                "every node has the mean"
            );
        }
    }
}
