// rust_threads.rs - Rust std (no crates) for the trr e2e suite.
//
// Build: rustc -O -g -o rust_threads rust_threads.rs
//
// Exercises (through Rust std): clone3 thread creation, futex-based Mutex
// and Condvar (inside mpsc), thread join, getrandom (HashMap's RandomState
// seed), std::fs write/read/metadata/remove of a temp file (openat, write,
// read, statx, unlink), clock_gettime via the vDSO (Instant, SystemTime),
// sched_getaffinity (available_parallelism).
//
// Only derived facts are printed; ends with EXIT-SUCCESS / exit 0.

use std::collections::HashMap;
use std::fs;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

static FAILURES: AtomicU64 = AtomicU64::new(0);

fn check(cond: bool, what: &str) {
    if cond {
        println!("{}: ok", what);
    } else {
        println!("FAIL: {}", what);
        FAILURES.fetch_add(1, Ordering::SeqCst);
    }
}

fn main() {
    let start = Instant::now();
    let wall = SystemTime::now();

    // ---- 4 threads sharing a HashMap behind Arc<Mutex<..>> ----
    let map: Arc<Mutex<HashMap<String, u64>>> = Arc::new(Mutex::new(HashMap::new()));
    let mut handles = Vec::new();
    for t in 0..4u64 {
        let map = Arc::clone(&map);
        handles.push(
            thread::Builder::new()
                .name(format!("worker-{}", t))
                .spawn(move || {
                    for i in 0..1000u64 {
                        let key = format!("key-{:02}", i % 10);
                        let mut m = map.lock().unwrap();
                        *m.entry(key).or_insert(0) += t + 1;
                        *m.entry(format!("thread-{}", t)).or_insert(0) += 1;
                    }
                    let name = thread::current().name().map(|s| s.to_string());
                    (t, name)
                })
                .expect("spawn"),
        );
    }
    let mut joined: Vec<(u64, Option<String>)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    joined.sort();
    for (t, name) in &joined {
        println!("joined thread {} name {:?}", t, name.as_deref().unwrap_or("?"));
    }
    {
        let m = map.lock().unwrap();
        let mut keys: Vec<&String> = m.keys().collect();
        keys.sort();
        for k in &keys {
            println!("{} = {}", k, m[*k]);
        }
        // each key-NN gets 100 increments from every thread: 100*(1+2+3+4)
        check(
            (0..10).all(|i| m.get(&format!("key-{:02}", i)) == Some(&1000)),
            "every key-NN sums to 1000",
        );
        check((0..4).all(|t| m.get(&format!("thread-{}", t)) == Some(&1000)), "every thread did 1000 updates");
        check(m.len() == 14, "map has 14 entries");
    }

    // ---- mpsc channel: 3 producers, 1 consumer ----
    let (tx, rx) = mpsc::channel::<(u32, u32)>();
    let mut producers = Vec::new();
    for p in 0..3u32 {
        let tx = tx.clone();
        producers.push(thread::spawn(move || {
            for i in 0..500u32 {
                tx.send((p, i)).unwrap();
            }
        }));
    }
    drop(tx);
    let mut per_producer = [0u32; 3];
    let mut last = [None::<u32>; 3];
    let mut ordered = true;
    let mut sum: u64 = 0;
    for (p, i) in rx {
        per_producer[p as usize] += 1;
        if let Some(l) = last[p as usize] {
            if i != l + 1 {
                ordered = false;
            }
        }
        last[p as usize] = Some(i);
        sum += i as u64;
    }
    for h in producers {
        h.join().unwrap();
    }
    println!("channel received per producer: {:?}, sum {}", per_producer, sum);
    check(per_producer == [500, 500, 500] && sum == 3 * (499 * 500 / 2), "channel delivered everything");
    check(ordered, "per-producer FIFO order preserved");

    // sync_channel rendezvous between two threads
    let (stx, srx) = mpsc::sync_channel::<u64>(0);
    let sh = thread::spawn(move || (1..=100u64).map(|v| stx.send(v * v).is_ok() as u64).sum::<u64>());
    let squares: u64 = srx.iter().sum();
    check(sh.join().unwrap() == 100 && squares == 338350, "sync_channel(0) rendezvous sum of squares");

    // ---- std::fs round trip ----
    let path = std::env::current_dir()
        .unwrap_or_else(|_| std::env::temp_dir())
        .join(format!("trr-rust-{}.tmp", std::process::id()));
    let content: Vec<u8> = (0..10000u32).map(|i| (i * 7 % 251) as u8).collect();
    {
        let mut f = fs::File::create(&path).expect("create temp file");
        f.write_all(&content).expect("write");
        f.sync_all().expect("fsync");
    }
    let meta = fs::metadata(&path).expect("metadata");
    check(meta.len() == 10000 && meta.is_file(), "metadata: 10000-byte regular file");
    let mut back = Vec::new();
    fs::File::open(&path).expect("open").read_to_end(&mut back).expect("read");
    check(back == content, "file read back equals written data");
    fs::write(&path, b"replaced\n").expect("fs::write");
    check(fs::read_to_string(&path).map(|s| s == "replaced\n").unwrap_or(false), "fs::write/read_to_string");
    fs::remove_file(&path).expect("remove");
    check(!path.exists(), "temp file removed");

    // ---- time: derived facts only ----
    thread::sleep(Duration::from_millis(2));
    let elapsed = start.elapsed();
    check(elapsed >= Duration::from_millis(2), "Instant elapsed >= 2ms after sleeping 2ms");
    let a = Instant::now();
    let b = Instant::now();
    check(b >= a, "Instant is monotonic");
    let since_epoch = wall.duration_since(UNIX_EPOCH).expect("after epoch");
    check(since_epoch.as_secs() > 1_577_836_800, "SystemTime is after 2020-01-01");
    let wall2 = SystemTime::now();
    check(
        wall2.duration_since(wall).map(|d| d < Duration::from_secs(60)).unwrap_or(false),
        "SystemTime advanced by less than a minute",
    );

    // ---- misc ----
    let par = thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    check(par > 0, "available_parallelism > 0");
    check(std::process::id() > 0, "pid > 0");

    let f = FAILURES.load(Ordering::SeqCst);
    if f > 0 {
        println!("FAILURES: {}", f);
        std::process::exit(1);
    }
    println!("EXIT-SUCCESS");
}
