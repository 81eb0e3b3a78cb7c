;; The column-scan kernel: the `wasm` implementation of cortexkg.scans, in WebAssembly
;; text with SIMD128. Python's side is scans/wasm_scans.py; the results it must reproduce
;; bit for bit are defined by scans/reference.py and fields.py.
;;
;; It owns no memory. It imports `env.memory` (in the browser Pyodide's own linear memory,
;; so it reads and writes the engine's buffers where Python keeps them), and has no data
;; segments, no globals, no stack and no allocation: every address and length is a
;; parameter, and it touches only those ranges. Scratch space (sort buffers, output
;; lists) is passed in by the caller like any other buffer. Lengths are item counts,
;; addresses are byte addresses; both are treated as unsigned.
;;
;; Column states, as cortexkg.scans defines them: 0 available, 1 allocated, 2 refractory.
;;
;; Layout of each scan: a SIMD loop over whole 16-byte vectors, then a scalar tail for
;; the items left over. Loops count items (never end addresses), so no address
;; arithmetic can wrap.
(module
  (import "env" "memory" (memory 0))

  ;; ------------------------------------------------------------- state bytes

  ;; How many of the n bytes at $p equal $v (0..255).
  (func $count_u8 (export "count_u8")
    (param $p i32) (param $n i32) (param $v i32) (result i32)
    (local $i i32) (local $whole i32) (local $needle v128) (local $count i32)
    (local.set $needle (i8x16.splat (local.get $v)))
    (local.set $whole (i32.and (local.get $n) (i32.const -16)))
    (block $done
      (loop $vector
        (br_if $done (i32.ge_u (local.get $i) (local.get $whole)))
        (local.set $count (i32.add (local.get $count)
          (i32.popcnt (i8x16.bitmask (i8x16.eq
            (v128.load (i32.add (local.get $p) (local.get $i))) (local.get $needle))))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $vector)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $count (i32.add (local.get $count)
          (i32.eq (i32.load8_u (i32.add (local.get $p) (local.get $i))) (local.get $v))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail)))
    (local.get $count))

  ;; The lowest index >= $start of a byte equal to $v among the n bytes at $p, or -1.
  (func $find_u8 (param $p i32) (param $n i32) (param $v i32) (param $start i32) (result i32)
    (local $i i32) (local $needle v128) (local $mask i32)
    (local.set $needle (i8x16.splat (local.get $v)))
    (local.set $i (local.get $start))
    (block $done
      (loop $vector
        (br_if $done (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $n)))
        (local.set $mask (i8x16.bitmask (i8x16.eq
          (v128.load (i32.add (local.get $p) (local.get $i))) (local.get $needle))))
        (if (local.get $mask)
          (then (return (i32.add (local.get $i) (i32.ctz (local.get $mask))))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $vector)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (if (i32.eq (i32.load8_u (i32.add (local.get $p) (local.get $i))) (local.get $v))
          (then (return (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail)))
    (i32.const -1))

  ;; Writes the ascending indices of the bytes equal to $v among the n bytes at $p to the
  ;; u32 list at $out, at most $capacity of them; returns how many it wrote.
  (func $indices_u8 (export "indices_u8")
    (param $p i32) (param $n i32) (param $v i32) (param $out i32) (param $capacity i32)
    (result i32)
    (local $i i32) (local $whole i32) (local $needle v128) (local $mask i32) (local $count i32)
    (local.set $needle (i8x16.splat (local.get $v)))
    (local.set $whole (i32.and (local.get $n) (i32.const -16)))
    (block $done
      (loop $vector
        (br_if $done (i32.ge_u (local.get $i) (local.get $whole)))
        (local.set $mask (i8x16.bitmask (i8x16.eq
          (v128.load (i32.add (local.get $p) (local.get $i))) (local.get $needle))))
        (block $chunk
          (loop $bits
            (br_if $chunk (i32.eqz (local.get $mask)))
            (br_if $done (i32.ge_u (local.get $count) (local.get $capacity)))
            (i32.store (i32.add (local.get $out) (i32.shl (local.get $count) (i32.const 2)))
              (i32.add (local.get $i) (i32.ctz (local.get $mask))))
            (local.set $count (i32.add (local.get $count) (i32.const 1)))
            (local.set $mask (i32.and (local.get $mask) (i32.sub (local.get $mask) (i32.const 1))))
            (br $bits)))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $vector)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (br_if $done (i32.ge_u (local.get $count) (local.get $capacity)))
        (if (i32.eq (i32.load8_u (i32.add (local.get $p) (local.get $i))) (local.get $v))
          (then
            (i32.store (i32.add (local.get $out) (i32.shl (local.get $count) (i32.const 2)))
              (local.get $i))
            (local.set $count (i32.add (local.get $count) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail)))
    (local.get $count))

  ;; The length of the longest run of consecutive bytes equal to $v among the n at $p.
  (func $largest_run_u8 (export "largest_run_u8")
    (param $p i32) (param $n i32) (param $v i32) (result i32)
    (local $i i32) (local $whole i32) (local $needle v128) (local $mask i32) (local $bit i32)
    (local $run i32) (local $best i32)
    (local.set $needle (i8x16.splat (local.get $v)))
    (local.set $whole (i32.and (local.get $n) (i32.const -16)))
    (block $done
      (loop $vector
        (br_if $done (i32.ge_u (local.get $i) (local.get $whole)))
        (local.set $mask (i8x16.bitmask (i8x16.eq
          (v128.load (i32.add (local.get $p) (local.get $i))) (local.get $needle))))
        (if (i32.eq (local.get $mask) (i32.const 0xffff))
          (then (local.set $run (i32.add (local.get $run) (i32.const 16))))
          (else
            ;; bit b of the mask is byte i + b: walk the 16 bits in order
            (local.set $bit (i32.const 0))
            (loop $bits
              (if (i32.and (local.get $mask) (i32.shl (i32.const 1) (local.get $bit)))
                (then (local.set $run (i32.add (local.get $run) (i32.const 1))))
                (else
                  (if (i32.gt_u (local.get $run) (local.get $best))
                    (then (local.set $best (local.get $run))))
                  (local.set $run (i32.const 0))))
              (local.set $bit (i32.add (local.get $bit) (i32.const 1)))
              (br_if $bits (i32.lt_u (local.get $bit) (i32.const 16))))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $vector)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (if (i32.eq (i32.load8_u (i32.add (local.get $p) (local.get $i))) (local.get $v))
          (then (local.set $run (i32.add (local.get $run) (i32.const 1))))
          (else
            (if (i32.gt_u (local.get $run) (local.get $best))
              (then (local.set $best (local.get $run))))
            (local.set $run (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail)))
    (if (result i32) (i32.gt_u (local.get $run) (local.get $best))
      (then (local.get $run))
      (else (local.get $best))))

  ;; ---------------------------------------------------------- gather, ranges

  ;; out[i] = src[idx[i]] for the k u32 indices at $idx, bytes of the n at $src. Returns k,
  ;; or the position of the first index >= n (nothing from there on is written).
  (func $gather_u8 (export "gather_u8")
    (param $src i32) (param $n i32) (param $idx i32) (param $k i32) (param $out i32)
    (result i32)
    (local $i i32) (local $column i32)
    (block $done
      (loop $items
        (br_if $done (i32.ge_u (local.get $i) (local.get $k)))
        (local.set $column (i32.load (i32.add (local.get $idx) (i32.shl (local.get $i) (i32.const 2)))))
        (br_if $done (i32.ge_u (local.get $column) (local.get $n)))
        (i32.store8 (i32.add (local.get $out) (local.get $i))
          (i32.load8_u (i32.add (local.get $src) (local.get $column))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $items)))
    (local.get $i))

  ;; As gather_u8, for 4-byte items (u32 and f32 alike: bits are copied).
  (func $gather_u32 (export "gather_u32")
    (param $src i32) (param $n i32) (param $idx i32) (param $k i32) (param $out i32)
    (result i32)
    (local $i i32) (local $column i32)
    (block $done
      (loop $items
        (br_if $done (i32.ge_u (local.get $i) (local.get $k)))
        (local.set $column (i32.load (i32.add (local.get $idx) (i32.shl (local.get $i) (i32.const 2)))))
        (br_if $done (i32.ge_u (local.get $column) (local.get $n)))
        (i32.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 2)))
          (i32.load (i32.add (local.get $src) (i32.shl (local.get $column) (i32.const 2)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $items)))
    (local.get $i))

  ;; How many of the n bytes at $p lie in $lo..$hi (0 <= lo <= hi <= 255, inclusive).
  (func $count_between_u8 (export "count_between_u8")
    (param $p i32) (param $n i32) (param $lo i32) (param $hi i32) (result i32)
    (local $i i32) (local $whole i32) (local $low v128) (local $high v128) (local $x v128)
    (local $value i32) (local $count i32)
    (local.set $low (i8x16.splat (local.get $lo)))
    (local.set $high (i8x16.splat (local.get $hi)))
    (local.set $whole (i32.and (local.get $n) (i32.const -16)))
    (block $done
      (loop $vector
        (br_if $done (i32.ge_u (local.get $i) (local.get $whole)))
        (local.set $x (v128.load (i32.add (local.get $p) (local.get $i))))
        (local.set $count (i32.add (local.get $count)
          (i32.popcnt (i8x16.bitmask (v128.and
            (i8x16.ge_u (local.get $x) (local.get $low))
            (i8x16.le_u (local.get $x) (local.get $high)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $vector)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $value (i32.load8_u (i32.add (local.get $p) (local.get $i))))
        (local.set $count (i32.add (local.get $count) (i32.and
          (i32.ge_u (local.get $value) (local.get $lo))
          (i32.le_u (local.get $value) (local.get $hi)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail)))
    (local.get $count))

  ;; How many of the n u32 at $p lie in $lo..$hi (unsigned, inclusive, lo <= hi).
  (func $count_between_u32 (export "count_between_u32")
    (param $p i32) (param $n i32) (param $lo i32) (param $hi i32) (result i32)
    (local $i i32) (local $whole i32) (local $low v128) (local $high v128) (local $x v128)
    (local $value i32) (local $count i32)
    (local.set $low (i32x4.splat (local.get $lo)))
    (local.set $high (i32x4.splat (local.get $hi)))
    (local.set $whole (i32.and (local.get $n) (i32.const -4)))
    (block $done
      (loop $vector
        (br_if $done (i32.ge_u (local.get $i) (local.get $whole)))
        (local.set $x (v128.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $count (i32.add (local.get $count)
          (i32.popcnt (i32x4.bitmask (v128.and
            (i32x4.ge_u (local.get $x) (local.get $low))
            (i32x4.le_u (local.get $x) (local.get $high)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $vector)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $value (i32.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $count (i32.add (local.get $count) (i32.and
          (i32.ge_u (local.get $value) (local.get $lo))
          (i32.le_u (local.get $value) (local.get $hi)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail)))
    (local.get $count))

  ;; How many of the n f32 at $p hold v with lo <= v <= hi, compared exactly in f64 as
  ;; Python compares a float32 item with a float (NaN is never counted).
  (func $count_between_f32 (export "count_between_f32")
    (param $p i32) (param $n i32) (param $lo f64) (param $hi f64) (result i32)
    (local $i i32) (local $whole i32) (local $low v128) (local $high v128)
    (local $x v128) (local $half v128) (local $value f64) (local $count i32)
    (local.set $low (f64x2.splat (local.get $lo)))
    (local.set $high (f64x2.splat (local.get $hi)))
    (local.set $whole (i32.and (local.get $n) (i32.const -4)))
    (block $done
      (loop $vector
        (br_if $done (i32.ge_u (local.get $i) (local.get $whole)))
        (local.set $x (v128.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $half (f64x2.promote_low_f32x4 (local.get $x)))
        (local.set $count (i32.add (local.get $count)
          (i32.popcnt (i64x2.bitmask (v128.and
            (f64x2.ge (local.get $half) (local.get $low))
            (f64x2.le (local.get $half) (local.get $high)))))))
        (local.set $half (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x))))
        (local.set $count (i32.add (local.get $count)
          (i32.popcnt (i64x2.bitmask (v128.and
            (f64x2.ge (local.get $half) (local.get $low))
            (f64x2.le (local.get $half) (local.get $high)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $vector)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $value (f64.promote_f32
          (f32.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2))))))
        (local.set $count (i32.add (local.get $count) (i32.and
          (f64.ge (local.get $value) (local.get $lo))
          (f64.le (local.get $value) (local.get $hi)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail)))
    (local.get $count))

  ;; ------------------------------------------------------------- affinity

  ;; The defined dot product (fields.py) of the $stride f32 at $row and at $q: four lane
  ;; accumulators, group by group, then (a0 + a1) + (a2 + a3); every step rounds to f32.
  (func $dot (param $row i32) (param $q i32) (param $stride i32) (result f32)
    (local $o i32) (local $bytes i32) (local $acc v128)
    (local.set $bytes (i32.shl (local.get $stride) (i32.const 2)))
    (block $done
      (loop $groups
        (br_if $done (i32.ge_u (local.get $o) (local.get $bytes)))
        (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul
          (v128.load (i32.add (local.get $row) (local.get $o)))
          (v128.load (i32.add (local.get $q) (local.get $o))))))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $groups)))
    (f32.add
      (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
      (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))

  ;; Whether lane candidate ($key, $index) beats ($best_key, $best): a higher key, or the
  ;; same key at a lower index. $index -1 is "no candidate"; $best -1 loses every tie.
  (func $beats (param $key f32) (param $index i32) (param $best_key f32) (param $best i32)
    (result i32)
    (i32.and
      (i32.ne (local.get $index) (i32.const -1))
      (i32.or
        (f32.gt (local.get $key) (local.get $best_key))
        (i32.and (f32.eq (local.get $key) (local.get $best_key))
                 (i32.lt_u (local.get $index) (local.get $best))))))

  ;; Fused masked argmax of the defined dot product for the affinity strategy.
  ;;
  ;; Over the n columns whose state byte (at $state) is 0 (available), the column whose
  ;; field (the $stride f32 at $fields + column * stride * 4) has the highest dot product
  ;; with the query at $q. NaN scores rank below every other score; ties go to the lowest
  ;; column; when every available score is NaN or -inf, the lowest available column wins.
  ;; Returns the column and stores its score (f32) at $out, or returns -1 (no column is
  ;; available) and stores nothing. $stride is a multiple of 4; 0 scores every column 0.
  ;;
  ;; Four columns at a time: one accumulator vector per column, reduced together by two
  ;; rounds of shuffles into [(a0 + a1) + (a2 + a3)] per column, which is exactly the
  ;; defined order. Each lane of the running best keeps the lowest column of its own
  ;; residue class with the highest key; the lanes and the scalar tail are merged at the
  ;; end. Groups of four columns with no available one are skipped unread.
  (func $best_match (export "best_match")
    (param $state i32) (param $n i32) (param $fields i32) (param $stride i32) (param $q i32)
    (param $out i32) (result i32)
    (local $c i32) (local $whole i32) (local $row i32) (local $rb i32) (local $o i32)
    (local $word i32) (local $qv v128)
    (local $a v128) (local $b v128) (local $d v128) (local $e v128)
    (local $s v128) (local $key v128) (local $better v128)
    (local $best_keys v128) (local $best_columns v128)
    (local $best i32) (local $best_key f32) (local $score f32)
    (if (i32.eqz (local.get $stride))
      (then
        (local.set $best (call $find_u8 (local.get $state) (local.get $n) (i32.const 0) (i32.const 0)))
        (if (i32.ge_s (local.get $best) (i32.const 0))
          (then (f32.store (local.get $out) (f32.const 0))))
        (return (local.get $best))))
    (local.set $rb (i32.shl (local.get $stride) (i32.const 2)))
    (local.set $best_keys (f32x4.splat (f32.const -inf)))
    (local.set $best_columns (i32x4.splat (i32.const -1)))
    (local.set $whole (i32.and (local.get $n) (i32.const -4)))
    (local.set $row (local.get $fields))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $c) (local.get $whole)))
        (local.set $word (i32.load (i32.add (local.get $state) (local.get $c))))
        ;; does any of the four state bytes equal 0 (available)?
        (if (i32.and (i32.and (i32.sub (local.get $word) (i32.const 0x01010101))
                              (i32.xor (local.get $word) (i32.const -1)))
                     (i32.const 0x80808080))
          (then
            (local.set $a (v128.const i32x4 0 0 0 0))
            (local.set $b (v128.const i32x4 0 0 0 0))
            (local.set $d (v128.const i32x4 0 0 0 0))
            (local.set $e (v128.const i32x4 0 0 0 0))
            (local.set $o (i32.const 0))
            (loop $groups
              (local.set $qv (v128.load (i32.add (local.get $q) (local.get $o))))
              (local.set $a (f32x4.add (local.get $a) (f32x4.mul
                (v128.load (i32.add (local.get $row) (local.get $o))) (local.get $qv))))
              (local.set $b (f32x4.add (local.get $b) (f32x4.mul
                (v128.load (i32.add (i32.add (local.get $row) (local.get $rb)) (local.get $o)))
                (local.get $qv))))
              (local.set $d (f32x4.add (local.get $d) (f32x4.mul
                (v128.load (i32.add (i32.add (local.get $row) (i32.shl (local.get $rb) (i32.const 1)))
                                    (local.get $o)))
                (local.get $qv))))
              (local.set $e (f32x4.add (local.get $e) (f32x4.mul
                (v128.load (i32.add (i32.add (local.get $row) (i32.mul (local.get $rb) (i32.const 3)))
                                    (local.get $o)))
                (local.get $qv))))
              (local.set $o (i32.add (local.get $o) (i32.const 16)))
              (br_if $groups (i32.lt_u (local.get $o) (local.get $rb))))
            ;; [a0+a1, a2+a3, b0+b1, b2+b3] and [d0+d1, d2+d3, e0+e1, e2+e3] ...
            (local.set $a (f32x4.add
              (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a) (local.get $b))
              (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a) (local.get $b))))
            (local.set $d (f32x4.add
              (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $d) (local.get $e))
              (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $d) (local.get $e))))
            ;; ... then [(a0+a1)+(a2+a3), (b0+b1)+(b2+b3), ...]: one score per column
            (local.set $s (f32x4.add
              (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $a) (local.get $d))
              (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $a) (local.get $d))))
            ;; key: the score where the column is available and the score is not NaN, else -inf
            (local.set $key (v128.bitselect
              (local.get $s)
              (f32x4.splat (f32.const -inf))
              (v128.and
                (i32x4.eq
                  (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u
                    (v128.load32_zero (i32.add (local.get $state) (local.get $c)))))
                  (v128.const i32x4 0 0 0 0))
                (f32x4.eq (local.get $s) (local.get $s)))))
            (local.set $better (f32x4.gt (local.get $key) (local.get $best_keys)))
            (local.set $best_keys (v128.bitselect (local.get $key) (local.get $best_keys) (local.get $better)))
            (local.set $best_columns (v128.bitselect
              (i32x4.add (i32x4.splat (local.get $c)) (v128.const i32x4 0 1 2 3))
              (local.get $best_columns)
              (local.get $better)))))
        (local.set $c (i32.add (local.get $c) (i32.const 4)))
        (local.set $row (i32.add (local.get $row) (i32.shl (local.get $rb) (i32.const 2))))
        (br $blocks)))
    ;; merge the four lanes
    (local.set $best (i32.const -1))
    (local.set $best_key (f32.const -inf))
    (if (call $beats (f32x4.extract_lane 0 (local.get $best_keys)) (i32x4.extract_lane 0 (local.get $best_columns))
                     (local.get $best_key) (local.get $best))
      (then (local.set $best_key (f32x4.extract_lane 0 (local.get $best_keys)))
            (local.set $best (i32x4.extract_lane 0 (local.get $best_columns)))))
    (if (call $beats (f32x4.extract_lane 1 (local.get $best_keys)) (i32x4.extract_lane 1 (local.get $best_columns))
                     (local.get $best_key) (local.get $best))
      (then (local.set $best_key (f32x4.extract_lane 1 (local.get $best_keys)))
            (local.set $best (i32x4.extract_lane 1 (local.get $best_columns)))))
    (if (call $beats (f32x4.extract_lane 2 (local.get $best_keys)) (i32x4.extract_lane 2 (local.get $best_columns))
                     (local.get $best_key) (local.get $best))
      (then (local.set $best_key (f32x4.extract_lane 2 (local.get $best_keys)))
            (local.set $best (i32x4.extract_lane 2 (local.get $best_columns)))))
    (if (call $beats (f32x4.extract_lane 3 (local.get $best_keys)) (i32x4.extract_lane 3 (local.get $best_columns))
                     (local.get $best_key) (local.get $best))
      (then (local.set $best_key (f32x4.extract_lane 3 (local.get $best_keys)))
            (local.set $best (i32x4.extract_lane 3 (local.get $best_columns)))))
    ;; the scalar tail: columns above every block's, so only a strictly higher key wins
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $c) (local.get $n)))
        (if (i32.eqz (i32.load8_u (i32.add (local.get $state) (local.get $c))))
          (then
            (local.set $score (call $dot (local.get $row) (local.get $q) (local.get $stride)))
            (if (f32.gt (local.get $score) (local.get $best_key))  ;; false for NaN
              (then (local.set $best_key (local.get $score))
                    (local.set $best (local.get $c))))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (local.set $row (i32.add (local.get $row) (local.get $rb)))
        (br $tail)))
    (if (i32.eq (local.get $best) (i32.const -1))
      (then
        (local.set $best (call $find_u8 (local.get $state) (local.get $n) (i32.const 0) (i32.const 0)))
        (if (i32.eq (local.get $best) (i32.const -1))
          (then (return (i32.const -1))))))
    ;; the score itself, recomputed in the same order (a NaN keeps its own bits)
    (f32.store (local.get $out)
      (call $dot (i32.add (local.get $fields) (i32.mul (local.get $best) (local.get $rb)))
                 (local.get $q) (local.get $stride)))
    (local.get $best))

  ;; ----------------------------------------------------------------- fields

  ;; splitmix64's output function (fields.py: mix64), on two lanes at once.
  (func $mix64x2 (param $z v128) (result v128)
    (local.set $z (i64x2.mul
      (v128.xor (local.get $z) (i64x2.shr_u (local.get $z) (i32.const 30)))
      (i64x2.splat (i64.const 0xBF58476D1CE4E5B9))))
    (local.set $z (i64x2.mul
      (v128.xor (local.get $z) (i64x2.shr_u (local.get $z) (i32.const 27)))
      (i64x2.splat (i64.const 0x94D049BB133111EB))))
    (v128.xor (local.get $z) (i64x2.shr_u (local.get $z) (i32.const 31))))

  (func $mix64 (param $z i64) (result i64)
    (local.set $z (i64.mul (i64.xor (local.get $z) (i64.shr_u (local.get $z) (i64.const 30)))
                           (i64.const 0xBF58476D1CE4E5B9)))
    (local.set $z (i64.mul (i64.xor (local.get $z) (i64.shr_u (local.get $z) (i64.const 27)))
                           (i64.const 0x94D049BB133111EB)))
    (i64.xor (local.get $z) (i64.shr_u (local.get $z) (i64.const 31))))

  ;; Fills the n rows of $stride f32 at $fields with each column's seeded unit vector
  ;; (fields.py): components j < dim are uniform(c * dim + j) of the stream key
  ;; $key_hi:$key_lo, normalized in f64 (m = max |x|; u = x / m; s = sum of u * u in order
  ;; j = 0, 1, ...; out = f32(u / sqrt(s))), and the padding is 0. Each row holds its raw
  ;; uniforms (exact in f32) between the passes: no scratch memory is needed.
  (func $init_fields (export "init_fields")
    (param $fields i32) (param $n i32) (param $dim i32) (param $stride i32)
    (param $key_lo i32) (param $key_hi i32)
    (local $key i64) (local $c i32) (local $row i32) (local $first i64) (local $j i32)
    (local $pairs i32) (local $z v128) (local $x v128) (local $top v128) (local $norms v128)
    (local $value f64) (local $m f64) (local $u f64) (local $sum f64) (local $norm f64)
    (if (i32.eqz (local.get $stride)) (then (return)))
    (local.set $key (i64.or (i64.extend_i32_u (local.get $key_lo))
                            (i64.shl (i64.extend_i32_u (local.get $key_hi)) (i64.const 32))))
    (local.set $pairs (i32.and (local.get $dim) (i32.const -2)))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $c) (local.get $n)))
        (local.set $row (i32.add (local.get $fields)
          (i32.mul (local.get $c) (i32.shl (local.get $stride) (i32.const 2)))))
        (local.set $first (i64.mul (i64.extend_i32_u (local.get $c)) (i64.extend_i32_u (local.get $dim))))
        ;; pass 1: the uniforms, two at a time, and their largest magnitude
        (local.set $top (v128.const f64x2 0 0))
        (local.set $j (i32.const 0))
        (block $done
          (loop $uniforms
            (br_if $done (i32.ge_u (local.get $j) (local.get $pairs)))
            (local.set $z (call $mix64x2 (i64x2.add
              (i64x2.splat (local.get $key))
              (i64x2.mul
                (i64x2.add (i64x2.splat (i64.add (local.get $first) (i64.extend_i32_u (local.get $j))))
                           (v128.const i64x2 0 1))
                (i64x2.splat (i64.const 0x9E3779B97F4A7C15))))))
            ;; (word >> 40) < 2**24: the low i32 of each lane holds it exactly
            (local.set $z (i64x2.shr_u (local.get $z) (i32.const 40)))
            (local.set $x (f64x2.mul
              (f64x2.sub
                (f64x2.convert_low_i32x4_s
                  (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $z) (local.get $z)))
                (f64x2.splat (f64.const 8388608)))
              (f64x2.splat (f64.const 0x1p-23))))
            (v128.store64_lane 0
              (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))
              (f32x4.demote_f64x2_zero (local.get $x)))
            (local.set $top (f64x2.max (local.get $top) (f64x2.abs (local.get $x))))
            (local.set $j (i32.add (local.get $j) (i32.const 2)))
            (br $uniforms)))
        (local.set $m (f64.max (f64x2.extract_lane 0 (local.get $top))
                               (f64x2.extract_lane 1 (local.get $top))))
        (if (i32.lt_u (local.get $j) (local.get $dim))
          (then
            (local.set $value (f64.mul
              (f64.sub
                (f64.convert_i64_u (i64.shr_u
                  (call $mix64 (i64.add (local.get $key)
                    (i64.mul (i64.add (local.get $first) (i64.extend_i32_u (local.get $j)))
                             (i64.const 0x9E3779B97F4A7C15))))
                  (i64.const 40)))
                (f64.const 8388608))
              (f64.const 0x1p-23)))
            (f32.store (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))
              (f32.demote_f64 (local.get $value)))
            (local.set $m (f64.max (local.get $m) (f64.abs (local.get $value))))))
        ;; pass 2: the sum of squares, strictly in order
        (local.set $sum (f64.const 0))
        (local.set $j (i32.const 0))
        (block $done
          (loop $squares
            (br_if $done (i32.ge_u (local.get $j) (local.get $dim)))
            (local.set $u (f64.div
              (f64.promote_f32 (f32.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))))
              (local.get $m)))
            (local.set $sum (f64.add (local.get $sum) (f64.mul (local.get $u) (local.get $u))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $squares)))
        (local.set $norm (f64.sqrt (local.get $sum)))
        ;; pass 3: u / norm rounded to f32, two at a time, then the odd one and the padding
        (local.set $top (f64x2.splat (local.get $m)))
        (local.set $norms (f64x2.splat (local.get $norm)))
        (local.set $j (i32.const 0))
        (block $done
          (loop $outputs
            (br_if $done (i32.ge_u (local.get $j) (local.get $pairs)))
            (local.set $x (f64x2.promote_low_f32x4
              (v128.load64_zero (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))))
            (v128.store64_lane 0
              (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))
              (f32x4.demote_f64x2_zero
                (f64x2.div (f64x2.div (local.get $x) (local.get $top)) (local.get $norms))))
            (local.set $j (i32.add (local.get $j) (i32.const 2)))
            (br $outputs)))
        (block $done
          (loop $rest
            (br_if $done (i32.ge_u (local.get $j) (local.get $stride)))
            (if (i32.lt_u (local.get $j) (local.get $dim))
              (then
                (f32.store (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))
                  (f32.demote_f64 (f64.div
                    (f64.div
                      (f64.promote_f32 (f32.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))))
                      (local.get $m))
                    (local.get $norm)))))
              (else
                (f32.store (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))
                  (f32.const 0))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $rest)))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $rows)))
  )

  ;; --------------------------------------------------------------- optimize

  ;; Sorts the k slot indices at $perm stably by usage descending (the usage of slot i is
  ;; usage[slots[i]]): an LSD radix sort on the bytes of ~usage, with $tmp (k u32) and
  ;; $counts (256 u32) as scratch. A byte on which every key agrees is skipped.
  (func $sort_by_usage_desc
    (param $perm i32) (param $k i32) (param $slots i32) (param $usage i32)
    (param $tmp i32) (param $counts i32)
    (local $src i32) (local $dst i32) (local $shift i32) (local $i i32) (local $digit i32)
    (local $item i32) (local $total i32) (local $count i32) (local $swap i32)
    (if (i32.lt_u (local.get $k) (i32.const 2)) (then (return)))
    (local.set $src (local.get $perm))
    (local.set $dst (local.get $tmp))
    (block $passes_done
      (loop $passes
        (br_if $passes_done (i32.ge_u (local.get $shift) (i32.const 32)))
        (memory.fill (local.get $counts) (i32.const 0) (i32.const 1024))
        (local.set $i (i32.const 0))
        (block $done
          (loop $histogram
            (br_if $done (i32.ge_u (local.get $i) (local.get $k)))
            (local.set $digit (call $usage_digit
              (i32.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2))))
              (local.get $slots) (local.get $usage) (local.get $shift)))
            (i32.store (i32.add (local.get $counts) (local.get $digit))
              (i32.add (i32.load (i32.add (local.get $counts) (local.get $digit))) (i32.const 1)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $histogram)))
        ;; every key has the first key's digit: this pass would change nothing
        (local.set $digit (call $usage_digit (i32.load (local.get $src))
          (local.get $slots) (local.get $usage) (local.get $shift)))
        (if (i32.ne (i32.load (i32.add (local.get $counts) (local.get $digit))) (local.get $k))
          (then
            ;; exclusive prefix sums: counts[d] = first position of digit d
            (local.set $total (i32.const 0))
            (local.set $i (i32.const 0))
            (loop $prefix
              (local.set $count (i32.load (i32.add (local.get $counts) (local.get $i))))
              (i32.store (i32.add (local.get $counts) (local.get $i)) (local.get $total))
              (local.set $total (i32.add (local.get $total) (local.get $count)))
              (local.set $i (i32.add (local.get $i) (i32.const 4)))
              (br_if $prefix (i32.lt_u (local.get $i) (i32.const 1024))))
            (local.set $i (i32.const 0))
            (block $done
              (loop $scatter
                (br_if $done (i32.ge_u (local.get $i) (local.get $k)))
                (local.set $item (i32.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2)))))
                (local.set $digit (call $usage_digit (local.get $item)
                  (local.get $slots) (local.get $usage) (local.get $shift)))
                (local.set $count (i32.load (i32.add (local.get $counts) (local.get $digit))))
                (i32.store (i32.add (local.get $dst) (i32.shl (local.get $count) (i32.const 2)))
                  (local.get $item))
                (i32.store (i32.add (local.get $counts) (local.get $digit))
                  (i32.add (local.get $count) (i32.const 1)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $scatter)))
            (local.set $swap (local.get $src))
            (local.set $src (local.get $dst))
            (local.set $dst (local.get $swap))))
        (local.set $shift (i32.add (local.get $shift) (i32.const 8)))
        (br $passes)))
    (if (i32.ne (local.get $src) (local.get $perm))
      (then (memory.copy (local.get $perm) (local.get $src) (i32.shl (local.get $k) (i32.const 2))))))

  ;; Byte offset into the counts table of slot $item's digit at $shift of ~usage.
  (func $usage_digit (param $item i32) (param $slots i32) (param $usage i32) (param $shift i32)
    (result i32)
    (i32.shl
      (i32.and
        (i32.shr_u
          (i32.xor
            (i32.load (i32.add (local.get $usage) (i32.shl
              (i32.load (i32.add (local.get $slots) (i32.shl (local.get $item) (i32.const 2))))
              (i32.const 2))))
            (i32.const -1))
          (local.get $shift))
        (i32.const 255))
      (i32.const 2)))

  ;; The plan of the optimize permutation (scans/__init__.py: compact) over n columns.
  ;;
  ;; Writes $slots (m u32): the columns whose state is not 2 (refractory), ascending; and
  ;; $perm (m u32): for each slot position, the slot position whose row it receives,
  ;; first those of the k allocated columns (state 1) ordered by usage (u32 at $usage)
  ;; descending, ties in column order, then the others in column order. $tmp (k u32) and
  ;; $counts (256 u32) are scratch. Writes to $moved (k u32) the columns of allocated
  ;; slots that receive another column's row (the new columns of the concepts that move)
  ;; and returns how many; none move exactly when the permutation is the identity. m and
  ;; k are the caller's counts; no write goes past them even if they are wrong.
  (func $compact_plan (export "compact_plan")
    (param $state i32) (param $n i32) (param $usage i32) (param $slots i32) (param $m i32)
    (param $perm i32) (param $k i32) (param $tmp i32) (param $counts i32) (param $moved i32)
    (result i32)
    (local $c i32) (local $slot i32) (local $allocated i32) (local $other i32)
    (local $mask i32) (local $value i32) (local $at i32) (local $i i32) (local $whole i32)
    (local $base v128)
    (local.set $other (local.get $k))
    (block $columns_done
      (loop $columns
        (if (i32.and
              (i32.le_u (i32.add (local.get $c) (i32.const 16)) (local.get $n))
              (i32.le_u (i32.add (local.get $slot) (i32.const 16)) (local.get $m)))
          (then
            (local.set $base (v128.load (i32.add (local.get $state) (local.get $c))))
            (if (i32.eqz (i8x16.bitmask (i8x16.eq (local.get $base) (i8x16.splat (i32.const 2)))))
              (then
                ;; sixteen columns without a refractory one: slot positions slot..slot+15
                (local.set $mask (i8x16.bitmask (i8x16.eq (local.get $base) (i8x16.splat (i32.const 1)))))
                (local.set $at (i32.add (local.get $slots) (i32.shl (local.get $slot) (i32.const 2))))
                (local.set $base (i32x4.splat (local.get $c)))
                (call $store_iota16 (local.get $at) (local.get $base))
                (local.set $base (i32x4.splat (local.get $slot)))
                (if (i32.and (i32.eqz (local.get $mask))
                             (i32.le_u (i32.add (local.get $other) (i32.const 16)) (local.get $m)))
                  (then
                    (call $store_iota16
                      (i32.add (local.get $perm) (i32.shl (local.get $other) (i32.const 2)))
                      (local.get $base))
                    (local.set $other (i32.add (local.get $other) (i32.const 16))))
                  (else
                    (if (i32.and (i32.eq (local.get $mask) (i32.const 0xffff))
                                 (i32.le_u (i32.add (local.get $allocated) (i32.const 16)) (local.get $k)))
                      (then
                        (call $store_iota16
                          (i32.add (local.get $perm) (i32.shl (local.get $allocated) (i32.const 2)))
                          (local.get $base))
                        (local.set $allocated (i32.add (local.get $allocated) (i32.const 16))))
                      (else
                        ;; mixed: the allocated positions in order, then the others in order
                        (block $bits_done
                          (loop $bits
                            (br_if $bits_done (i32.eqz (local.get $mask)))
                            (br_if $bits_done (i32.ge_u (local.get $allocated) (local.get $k)))
                            (i32.store (i32.add (local.get $perm) (i32.shl (local.get $allocated) (i32.const 2)))
                              (i32.add (local.get $slot) (i32.ctz (local.get $mask))))
                            (local.set $allocated (i32.add (local.get $allocated) (i32.const 1)))
                            (local.set $mask (i32.and (local.get $mask) (i32.sub (local.get $mask) (i32.const 1))))
                            (br $bits)))
                        (local.set $mask (i32.xor (i8x16.bitmask (i8x16.eq
                          (v128.load (i32.add (local.get $state) (local.get $c))) (i8x16.splat (i32.const 1))))
                          (i32.const 0xffff)))
                        (block $bits_done
                          (loop $bits
                            (br_if $bits_done (i32.eqz (local.get $mask)))
                            (br_if $bits_done (i32.ge_u (local.get $other) (local.get $m)))
                            (i32.store (i32.add (local.get $perm) (i32.shl (local.get $other) (i32.const 2)))
                              (i32.add (local.get $slot) (i32.ctz (local.get $mask))))
                            (local.set $other (i32.add (local.get $other) (i32.const 1)))
                            (local.set $mask (i32.and (local.get $mask) (i32.sub (local.get $mask) (i32.const 1))))
                            (br $bits)))))))
                (local.set $slot (i32.add (local.get $slot) (i32.const 16)))
                (local.set $c (i32.add (local.get $c) (i32.const 16)))
                (br $columns)))))
        ;; one column at a time (near refractory columns, and the tail)
        (br_if $columns_done (i32.ge_u (local.get $c) (local.get $n)))
        (local.set $value (i32.load8_u (i32.add (local.get $state) (local.get $c))))
        (if (i32.and (i32.ne (local.get $value) (i32.const 2))
                     (i32.lt_u (local.get $slot) (local.get $m)))
          (then
            (i32.store (i32.add (local.get $slots) (i32.shl (local.get $slot) (i32.const 2)))
              (local.get $c))
            (if (i32.eq (local.get $value) (i32.const 1))
              (then
                (if (i32.lt_u (local.get $allocated) (local.get $k))
                  (then
                    (i32.store (i32.add (local.get $perm) (i32.shl (local.get $allocated) (i32.const 2)))
                      (local.get $slot))
                    (local.set $allocated (i32.add (local.get $allocated) (i32.const 1))))))
              (else
                (if (i32.lt_u (local.get $other) (local.get $m))
                  (then
                    (i32.store (i32.add (local.get $perm) (i32.shl (local.get $other) (i32.const 2)))
                      (local.get $slot))
                    (local.set $other (i32.add (local.get $other) (i32.const 1)))))))
            (local.set $slot (i32.add (local.get $slot) (i32.const 1)))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $columns)))
    (call $sort_by_usage_desc (local.get $perm) (local.get $allocated) (local.get $slots)
      (local.get $usage) (local.get $tmp) (local.get $counts))
    ;; the allocated positions whose source is another position, four at a time
    (local.set $value (i32.const 0))
    (local.set $whole (i32.and (local.get $allocated) (i32.const -4)))
    (block $done
      (loop $vector
        (br_if $done (i32.ge_u (local.get $i) (local.get $whole)))
        (local.set $mask (i32x4.bitmask (v128.xor
          (i32x4.eq (v128.load (i32.add (local.get $perm) (i32.shl (local.get $i) (i32.const 2))))
                    (i32x4.add (i32x4.splat (local.get $i)) (v128.const i32x4 0 1 2 3)))
          (v128.const i32x4 -1 -1 -1 -1))))
        (block $bits_done
          (loop $bits
            (br_if $bits_done (i32.eqz (local.get $mask)))
            (local.set $at (i32.add (local.get $i) (i32.ctz (local.get $mask))))
            (i32.store (i32.add (local.get $moved) (i32.shl (local.get $value) (i32.const 2)))
              (i32.load (i32.add (local.get $slots) (i32.shl (local.get $at) (i32.const 2)))))
            (local.set $value (i32.add (local.get $value) (i32.const 1)))
            (local.set $mask (i32.and (local.get $mask) (i32.sub (local.get $mask) (i32.const 1))))
            (br $bits)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $vector)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $i) (local.get $allocated)))
        (if (i32.ne (i32.load (i32.add (local.get $perm) (i32.shl (local.get $i) (i32.const 2))))
                    (local.get $i))
          (then
            (i32.store (i32.add (local.get $moved) (i32.shl (local.get $value) (i32.const 2)))
              (i32.load (i32.add (local.get $slots) (i32.shl (local.get $i) (i32.const 2)))))
            (local.set $value (i32.add (local.get $value) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail)))
    (local.get $value))

  ;; base + 0, base + 1, ..., base + 15 (i32 lanes of $base, all equal) at $at.
  (func $store_iota16 (param $at i32) (param $base v128)
    (v128.store (local.get $at) (i32x4.add (local.get $base) (v128.const i32x4 0 1 2 3)))
    (v128.store offset=16 (local.get $at) (i32x4.add (local.get $base) (v128.const i32x4 4 5 6 7)))
    (v128.store offset=32 (local.get $at) (i32x4.add (local.get $base) (v128.const i32x4 8 9 10 11)))
    (v128.store offset=48 (local.get $at) (i32x4.add (local.get $base) (v128.const i32x4 12 13 14 15))))

  ;; Applies the plan to one buffer of rows of $row_bytes at $buf: the row at column
  ;; slots[i] receives the row that was at column slots[perm[i]], for the m slot
  ;; positions, cycle by cycle through one row of scratch at $scratch. Visited positions
  ;; are marked in bit 31 of perm (positions are < 2**31); the marks are cleared before
  ;; returning, so the same plan applies to the next buffer.
  (func $permute_rows (export "permute_rows")
    (param $buf i32) (param $row_bytes i32) (param $slots i32) (param $perm i32) (param $m i32)
    (param $scratch i32)
    (local $i i32) (local $j i32) (local $p i32) (local $whole i32)
    (block $done
      (loop $starts
        (br_if $done (i32.ge_u (local.get $i) (local.get $m)))
        (local.set $p (i32.load (i32.add (local.get $perm) (i32.shl (local.get $i) (i32.const 2)))))
        (if (i32.and (i32.ne (local.get $p) (local.get $i))
                     (i32.ge_s (local.get $p) (i32.const 0)))  ;; not marked
          (then
            (call $copy_row (local.get $scratch)
              (call $row_at (local.get $buf) (local.get $row_bytes) (local.get $slots) (local.get $i))
              (local.get $row_bytes))
            (local.set $j (local.get $i))
            (block $cycle_done
              (loop $cycle
                (local.set $p (i32.and
                  (i32.load (i32.add (local.get $perm) (i32.shl (local.get $j) (i32.const 2))))
                  (i32.const 0x7fffffff)))
                (i32.store (i32.add (local.get $perm) (i32.shl (local.get $j) (i32.const 2)))
                  (i32.or (local.get $p) (i32.const 0x80000000)))
                (if (i32.eq (local.get $p) (local.get $i))
                  (then
                    (call $copy_row
                      (call $row_at (local.get $buf) (local.get $row_bytes) (local.get $slots) (local.get $j))
                      (local.get $scratch) (local.get $row_bytes))
                    (br $cycle_done)))
                (call $copy_row
                  (call $row_at (local.get $buf) (local.get $row_bytes) (local.get $slots) (local.get $j))
                  (call $row_at (local.get $buf) (local.get $row_bytes) (local.get $slots) (local.get $p))
                  (local.get $row_bytes))
                (local.set $j (local.get $p))
                (br $cycle)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $starts)))
    ;; clear the marks, four at a time
    (local.set $i (i32.const 0))
    (local.set $whole (i32.and (local.get $m) (i32.const -4)))
    (block $done
      (loop $vector
        (br_if $done (i32.ge_u (local.get $i) (local.get $whole)))
        (local.set $j (i32.add (local.get $perm) (i32.shl (local.get $i) (i32.const 2))))
        (v128.store (local.get $j)
          (v128.and (v128.load (local.get $j)) (i32x4.splat (i32.const 0x7fffffff))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $vector)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $i) (local.get $m)))
        (local.set $j (i32.add (local.get $perm) (i32.shl (local.get $i) (i32.const 2))))
        (i32.store (local.get $j) (i32.and (i32.load (local.get $j)) (i32.const 0x7fffffff)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail))))

  ;; The same permutation as permute_rows, as three streaming passes, for when the k
  ;; allocated rows fit in the caller's $scratch (k rows): save them in their new order;
  ;; move every other row to its new slot position, from the last down (an available row
  ;; only moves to a higher position, and no allocated row is still needed there); write
  ;; the saved rows to the first k positions (rows that stay put are neither saved nor
  ;; written). Memory is read in order, where following the permutation's cycles would
  ;; jump about it, and runs of rows that shift together move as one block.
  (func $permute_partition (export "permute_partition")
    (param $buf i32) (param $row_bytes i32) (param $slots i32) (param $perm i32) (param $m i32)
    (param $k i32) (param $scratch i32)
    (local $i i32) (local $p i32) (local $j i32) (local $q i32)
    (block $done
      (loop $save
        (br_if $done (i32.ge_u (local.get $i) (local.get $k)))
        (local.set $p (i32.load (i32.add (local.get $perm) (i32.shl (local.get $i) (i32.const 2)))))
        (if (i32.ne (local.get $p) (local.get $i))
          (then
            (call $copy_row
              (i32.add (local.get $scratch) (i32.mul (local.get $i) (local.get $row_bytes)))
              (call $row_at (local.get $buf) (local.get $row_bytes) (local.get $slots) (local.get $p))
              (local.get $row_bytes))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $save)))
    (local.set $i (local.get $m))
    (block $done
      (loop $shift
        (br_if $done (i32.le_u (local.get $i) (local.get $k)))
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (local.set $p (i32.load (i32.add (local.get $perm) (i32.shl (local.get $i) (i32.const 2)))))
        (if (i32.ne (local.get $p) (local.get $i))
          (then
            ;; extend down to j while both the destination and the source columns are
            ;; consecutive: the whole run then moves as one block (memory.copy is memmove)
            (local.set $j (local.get $i))
            (block $run_done
              (loop $run
                (br_if $run_done (i32.le_u (local.get $j) (local.get $k)))
                (local.set $q (i32.load (i32.add (local.get $perm)
                  (i32.shl (i32.sub (local.get $j) (i32.const 1)) (i32.const 2)))))
                (br_if $run_done (i32.ne (local.get $q)
                  (i32.sub (i32.load (i32.add (local.get $perm) (i32.shl (local.get $j) (i32.const 2))))
                           (i32.const 1))))
                (br_if $run_done (i32.ne
                  (call $slot (local.get $slots) (i32.sub (local.get $j) (i32.const 1)))
                  (i32.sub (call $slot (local.get $slots) (local.get $j)) (i32.const 1))))
                (br_if $run_done (i32.ne
                  (call $slot (local.get $slots) (local.get $q))
                  (i32.sub (call $slot (local.get $slots) (i32.add (local.get $q) (i32.const 1)))
                           (i32.const 1))))
                (local.set $j (i32.sub (local.get $j) (i32.const 1)))
                (br $run)))
            (if (i32.eq (local.get $j) (local.get $i))
              (then
                (call $copy_row
                  (call $row_at (local.get $buf) (local.get $row_bytes) (local.get $slots) (local.get $i))
                  (call $row_at (local.get $buf) (local.get $row_bytes) (local.get $slots) (local.get $p))
                  (local.get $row_bytes)))
              (else
                (memory.copy
                  (call $row_at (local.get $buf) (local.get $row_bytes) (local.get $slots) (local.get $j))
                  (call $row_at (local.get $buf) (local.get $row_bytes) (local.get $slots)
                    (i32.load (i32.add (local.get $perm) (i32.shl (local.get $j) (i32.const 2)))))
                  (i32.mul (i32.add (i32.sub (local.get $i) (local.get $j)) (i32.const 1))
                           (local.get $row_bytes)))
                (local.set $i (local.get $j))))))
        (br $shift)))
    (local.set $i (i32.const 0))
    (block $done
      (loop $restore
        (br_if $done (i32.ge_u (local.get $i) (local.get $k)))
        (if (i32.ne (i32.load (i32.add (local.get $perm) (i32.shl (local.get $i) (i32.const 2))))
                    (local.get $i))
          (then
            (call $copy_row
              (call $row_at (local.get $buf) (local.get $row_bytes) (local.get $slots) (local.get $i))
              (i32.add (local.get $scratch) (i32.mul (local.get $i) (local.get $row_bytes)))
              (local.get $row_bytes))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $restore))))

  ;; slots[$position]
  (func $slot (param $slots i32) (param $position i32) (result i32)
    (i32.load (i32.add (local.get $slots) (i32.shl (local.get $position) (i32.const 2)))))

  ;; The address of the row at column slots[$position].
  (func $row_at (param $buf i32) (param $row_bytes i32) (param $slots i32) (param $position i32)
    (result i32)
    (i32.add (local.get $buf) (i32.mul (local.get $row_bytes)
      (i32.load (i32.add (local.get $slots) (i32.shl (local.get $position) (i32.const 2)))))))

  ;; Copies one row. The engine's rows of 1, 4 and 8 bytes take one load and store; field
  ;; rows (multiples of 16 bytes) up to 512 bytes a v128 loop, larger ones memory.copy.
  (func $copy_row (param $dst i32) (param $src i32) (param $bytes i32)
    (local $o i32)
    (if (i32.eq (local.get $bytes) (i32.const 4))
      (then (i32.store (local.get $dst) (i32.load (local.get $src))) (return)))
    (if (i32.eq (local.get $bytes) (i32.const 1))
      (then (i32.store8 (local.get $dst) (i32.load8_u (local.get $src))) (return)))
    (if (i32.eq (local.get $bytes) (i32.const 8))
      (then (i64.store (local.get $dst) (i64.load (local.get $src))) (return)))
    (if (i32.and (i32.eqz (i32.and (local.get $bytes) (i32.const 15)))
                 (i32.le_u (i32.sub (local.get $bytes) (i32.const 1)) (i32.const 511)))  ;; 16..512
      (then
        (loop $vectors
          (v128.store (i32.add (local.get $dst) (local.get $o))
            (v128.load (i32.add (local.get $src) (local.get $o))))
          (local.set $o (i32.add (local.get $o) (i32.const 16)))
          (br_if $vectors (i32.lt_u (local.get $o) (local.get $bytes))))
        (return)))
    (memory.copy (local.get $dst) (local.get $src) (local.get $bytes)))


  ;; ------------------------------------------------------------- u32 lists

  ;; The position of the first of the k u32 at $idx that is >= $n, or k.
  (func $first_outside (param $idx i32) (param $k i32) (param $n i32) (result i32)
    (local $i i32)
    (block $done
      (loop $items
        (br_if $done (i32.ge_u (local.get $i) (local.get $k)))
        (br_if $done (i32.ge_u
          (i32.load (i32.add (local.get $idx) (i32.shl (local.get $i) (i32.const 2))))
          (local.get $n)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $items)))
    (local.get $i))

  ;; buf[idx[i]] = vals[i] for the k indices at $idx, in order ($buf holds n u32). Returns
  ;; k, or, having written nothing, the position of the first index >= n.
  (func $scatter_u32 (export "scatter_u32")
    (param $buf i32) (param $n i32) (param $idx i32) (param $k i32) (param $vals i32)
    (result i32)
    (local $i i32) (local $at i32)
    (local.set $i (call $first_outside (local.get $idx) (local.get $k) (local.get $n)))
    (if (i32.lt_u (local.get $i) (local.get $k)) (then (return (local.get $i))))
    (local.set $i (i32.const 0))
    (block $done
      (loop $items
        (br_if $done (i32.ge_u (local.get $i) (local.get $k)))
        (local.set $at (i32.shl (local.get $i) (i32.const 2)))
        (i32.store
          (i32.add (local.get $buf) (i32.shl (i32.load (i32.add (local.get $idx) (local.get $at)))
                                             (i32.const 2)))
          (i32.load (i32.add (local.get $vals) (local.get $at))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $items)))
    (local.get $k))

  ;; As scatter_u32 with vals[i] = $start + i.
  (func $scatter_iota_u32 (export "scatter_iota_u32")
    (param $buf i32) (param $n i32) (param $idx i32) (param $k i32) (param $start i32)
    (result i32)
    (local $i i32)
    (local.set $i (call $first_outside (local.get $idx) (local.get $k) (local.get $n)))
    (if (i32.lt_u (local.get $i) (local.get $k)) (then (return (local.get $i))))
    (local.set $i (i32.const 0))
    (block $done
      (loop $items
        (br_if $done (i32.ge_u (local.get $i) (local.get $k)))
        (i32.store
          (i32.add (local.get $buf) (i32.shl
            (i32.load (i32.add (local.get $idx) (i32.shl (local.get $i) (i32.const 2))))
            (i32.const 2)))
          (i32.add (local.get $start) (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $items)))
    (local.get $k))

  ;; Copies the k u32 at $src other than $value to $out, in order; returns how many.
  (func $without_u32 (export "without_u32")
    (param $src i32) (param $k i32) (param $value i32) (param $out i32) (result i32)
    (local $i i32) (local $m i32) (local $item i32)
    (block $done
      (loop $items
        (br_if $done (i32.ge_u (local.get $i) (local.get $k)))
        (local.set $item (i32.load (i32.add (local.get $src) (i32.shl (local.get $i) (i32.const 2)))))
        (if (i32.ne (local.get $item) (local.get $value))
          (then
            (i32.store (i32.add (local.get $out) (i32.shl (local.get $m) (i32.const 2)))
              (local.get $item))
            (local.set $m (i32.add (local.get $m) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $items)))
    (local.get $m))

  ;; ------------------------------------------------------------- concept index

  ;; The concept index (cortexkg.concept_index): $values holds 2**bits u32 slots, each a
  ;; column or 0xFFFFFFFF (free); the key of a column c is concept[c].

  ;; The slot holding $key's column, or the free slot where its probe sequence ends: from
  ;; the home slot (key * 0x9E3779B1 mod 2**32) >> (32 - bits), one slot at a time, wrapping.
  (func $probe (param $values i32) (param $bits i32) (param $concept i32) (param $key i32)
    (result i32)
    (local $s i32) (local $mask i32) (local $column i32)
    (local.set $mask (i32.sub (i32.shl (i32.const 1) (local.get $bits)) (i32.const 1)))
    (local.set $s (i32.shr_u (i32.mul (local.get $key) (i32.const 0x9E3779B1))
                             (i32.sub (i32.const 32) (local.get $bits))))
    (block $done
      (loop $slots
        (local.set $column
          (i32.load (i32.add (local.get $values) (i32.shl (local.get $s) (i32.const 2)))))
        (br_if $done (i32.eq (local.get $column) (i32.const -1)))
        (br_if $done (i32.eq (local.get $key)
          (i32.load (i32.add (local.get $concept) (i32.shl (local.get $column) (i32.const 2))))))
        (local.set $s (i32.and (i32.add (local.get $s) (i32.const 1)) (local.get $mask)))
        (br $slots)))
    (local.get $s))

  ;; out[i] = the column of key wanted[i] (0xFFFFFFFF when absent), for the k keys.
  (func $index_get (export "index_get")
    (param $values i32) (param $bits i32) (param $concept i32) (param $wanted i32) (param $k i32)
    (param $out i32)
    (local $i i32) (local $at i32)
    (block $done
      (loop $items
        (br_if $done (i32.ge_u (local.get $i) (local.get $k)))
        (local.set $at (i32.shl (local.get $i) (i32.const 2)))
        (i32.store (i32.add (local.get $out) (local.get $at))
          (i32.load (i32.add (local.get $values) (i32.shl
            (call $probe (local.get $values) (local.get $bits) (local.get $concept)
              (i32.load (i32.add (local.get $wanted) (local.get $at))))
            (i32.const 2)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $items))))

  ;; Adds each of the k columns c at $columns to the index, keyed concept[c], in order
  ;; ($concept holds n u32). Returns 0; 1 when a key is present already (it stops there);
  ;; 2, having written nothing, when a column is >= n. The index must have room for all.
  (func $index_insert (export "index_insert")
    (param $values i32) (param $bits i32) (param $concept i32) (param $n i32)
    (param $columns i32) (param $k i32) (result i32)
    (local $i i32) (local $column i32) (local $at i32)
    (if (i32.lt_u (call $first_outside (local.get $columns) (local.get $k) (local.get $n))
                  (local.get $k))
      (then (return (i32.const 2))))
    (block $done
      (loop $items
        (br_if $done (i32.ge_u (local.get $i) (local.get $k)))
        (local.set $column
          (i32.load (i32.add (local.get $columns) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $at (i32.add (local.get $values) (i32.shl
          (call $probe (local.get $values) (local.get $bits) (local.get $concept)
            (i32.load (i32.add (local.get $concept) (i32.shl (local.get $column) (i32.const 2)))))
          (i32.const 2))))
        (if (i32.ne (i32.const -1) (i32.load (local.get $at)))
          (then (return (i32.const 1))))
        (i32.store (local.get $at) (local.get $column))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $items)))
    (i32.const 0))
)
