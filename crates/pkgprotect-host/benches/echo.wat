;; echo(name: string) -> string: returns its argument from a bump allocator that post-return
;; resets. What any call passing a name in and a string out costs in a runtime, whatever the
;; guest does: the floor the benchmarks of every host compare against (wasmtime here and in
;; benches/, jco in bindings/node/scripts/bench.js, wasmtime-py in bindings/python/bench.py).
(component
  (core module $m
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $at i32)
      (local.set $at (global.get $next))
      (global.set $next (i32.add (global.get $next) (local.get 3)))
      (local.get $at))
    (func (export "echo") (param $ptr i32) (param $len i32) (result i32)
      (i32.store (i32.const 8) (local.get $ptr))
      (i32.store (i32.const 12) (local.get $len))
      (i32.const 8))
    (func (export "post") (param i32) (global.set $next (i32.const 1024))))
  (core instance $i (instantiate $m))
  (func (export "echo") (param "name" string) (result string)
    (canon lift (core func $i "echo") (memory (core memory $i "memory"))
      (realloc (core func $i "realloc")) (post-return (core func $i "post")))))
