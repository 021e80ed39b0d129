//! Misbehaving guests, built from WAT: the host's limits turn them into errors, fast, and
//! the host keeps serving.

use pkgprotect_host::{HostError, Limits, engine, store, trap_error};
use std::time::{Duration, Instant};
use wasmtime::component::{Component, Linker};

const SPIN: &str = r#"(component
  (core module $m (func (export "spin") (loop $l (br $l))))
  (core instance $i (instantiate $m))
  (func (export "spin") (canon lift (core func $i "spin"))))"#;

const HOG: &str = r#"(component
  (core module $m
    (memory 1)
    (func (export "hog") (result i32)
      (loop $l (br_if $l (i32.ne (memory.grow (i32.const 16)) (i32.const -1))))
      (memory.size)))
  (core instance $i (instantiate $m))
  (func (export "hog") (result u32) (canon lift (core func $i "hog"))))"#;

fn limits() -> Limits {
    Limits { memory_bytes: 16 << 20, deadline: Duration::from_millis(200), ..Limits::default() }
}

#[test]
fn an_infinite_loop_times_out() {
    let limits = limits();
    let engine = engine(&limits).unwrap();
    // The deadline needs the epoch to move, as Policy's ticker thread does.
    let ticker = engine.clone();
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_millis(10));
            ticker.increment_epoch();
        }
    });
    let component = Component::new(&engine, SPIN).unwrap();
    let linker = Linker::new(&engine);
    for _ in 0..2 {
        let mut store = store(&engine, &limits);
        let instance = linker.instantiate(&mut store, &component).unwrap();
        let spin = instance.get_typed_func::<(), ()>(&mut store, "spin").unwrap();
        let started = Instant::now();
        let error = spin.call(&mut store, ()).unwrap_err();
        assert!(matches!(trap_error(error, &limits), HostError::Timeout(_)));
        assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
    }
    // The real component still answers afterwards.
    assert!(super::policy().version().is_ok());
}

#[test]
fn a_memory_hog_is_capped() {
    let limits = limits();
    let engine = engine(&limits).unwrap();
    let component = Component::new(&engine, HOG).unwrap();
    let linker = Linker::new(&engine);
    let mut store = store(&engine, &limits);
    let instance = linker.instantiate(&mut store, &component).unwrap();
    let hog = instance.get_typed_func::<(), (u32,)>(&mut store, "hog").unwrap();
    let (pages,) = hog.call(&mut store, ()).unwrap();
    // memory.grow fails at the cap (16 MiB = 256 pages); the guest sees -1 and stops.
    assert!(u64::from(pages) * 65_536 <= 16 << 20, "grew to {pages} pages");
    assert!(super::policy().version().is_ok());
}
