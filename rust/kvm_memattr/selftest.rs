// SPDX-License-Identifier: GPL-2.0

//! Entry points of the KUnit suite (`kunit.c`): the store over a real xarray,
//! checked against a dense per-page model under random SETs, with and without
//! injected allocation failures, and a uniform 1 TiB range.

use super::*;
use kernel::alloc::KVec;

/// Pages the random test covers.
const SPACE: u64 = 4096;

/// xorshift64*: deterministic per seed, so a failure names its reproducer.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A store without a VM, freed on drop.
/// A store without a VM, and how many of its SETs `try_set()` did.
struct TestStore(*mut c_void, core::cell::Cell<u32>);

impl TestStore {
    fn new() -> Result<Self> {
        Ok(Self(
            new_store(core::ptr::null_mut(), true)?,
            Default::default(),
        ))
    }

    fn get(&self) -> &Store {
        // SAFETY: `self.0` is live until drop.
        unsafe { store(self.0) }
    }

    /// A SET as KVM makes one: `try_set()` first.
    fn set(&self, start: u64, end: u64, value: u64) -> Result {
        let s = self.get();
        if s.try_set(GfnRange { start, end }, value).is_some() {
            self.1.set(self.1.get() + 1);
            return Ok(());
        }
        if s.prepare(GfnRange { start, end }, value)? {
            s.commit(GfnRange { start, end }, value);
        }
        Ok(())
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        // SAFETY: created by `new_store`, no reference outlives `self`.
        unsafe { free_store(self.0) }
    }
}

fn check_against(s: &Store, model: &[u64], what: &str) -> Result {
    for (g, want) in model.iter().enumerate() {
        let got = s.xa.load(g as u64);
        if got != *want {
            pr_err!("kunit: {what}: gfn {g}: load {got:#x}, model {want:#x}\n");
            return Err(EINVAL);
        }
    }
    // GET walk: runs are exact and maximal.
    let mut cur = 0;
    while cur < SPACE {
        let (value, end) = memattr_core::get_run(
            &s.reader(),
            GfnRange {
                start: cur,
                end: SPACE,
            },
        );
        let run_ok = end > cur
            && model[cur as usize..end as usize]
                .iter()
                .all(|v| *v == value)
            && (end == SPACE || model[end as usize] != value);
        if !run_ok {
            pr_err!(
                "kunit: {what}: GET run [{cur}, {end}) = {value:#x} disagrees with the model\n"
            );
            return Err(EINVAL);
        }
        // Range queries, as KVM makes them (`Store::range_has()`), and with
        // each reader alone: the run has its value, one page more not.
        let run = GfnRange { start: cur, end };
        let wider = GfnRange {
            start: cur,
            end: (end + 1).min(SPACE),
        };
        if !s.range_has(run, !0, value) || (wider != run && s.range_has(wider, !0, value)) {
            pr_err!("kunit: {what}: range_has wrong about the run [{cur}, {end})\n");
            return Err(EINVAL);
        }
        for (mode, reader) in [
            ("rcu", Reader(s, xa::ReadMode::Rcu)),
            ("locked", s.reader()),
        ] {
            if !memattr_core::range_has(&reader, run, !0, value)
                || (wider != run && memattr_core::range_has(&reader, wider, !0, value))
            {
                pr_err!("kunit: {what}: range_has ({mode}) wrong about the run [{cur}, {end})\n");
                return Err(EINVAL);
            }
        }
        cur = end;
    }
    Ok(())
}

/// Without failures, the store holds each run of attributes as its maximal
/// aligned chunks, however its SETs went (`prepare()` and `commit()`, or
/// `try_set()`).
fn check_canonical(s: &Store, model: &[u64]) -> Result {
    let mut canonical = 0;
    let mut cur = 0;
    while cur < SPACE {
        let value = model[cur as usize];
        let end = model[cur as usize..]
            .iter()
            .position(|v| *v != value)
            .map_or(SPACE, |n| cur + n as u64);
        if value != 0 {
            canonical += memattr_core::chunks(cur, end).count() as u64;
        }
        cur = end;
    }
    // SAFETY: the caller's own store, no other user.
    let (entries, _) = unsafe { s.xa.count() };
    if entries != canonical {
        pr_err!("kunit: {entries} entries where the runs decompose into {canonical}\n");
        return Err(EINVAL);
    }
    Ok(())
}

/// `chunks`: SETs of small aligned chunks with three values, so that most
/// go through `try_set()` and join, split and empty their neighbours there.
fn model_test(seed: u64, nr_ops: u32, inject: bool, chunks: bool) -> Result {
    let t = TestStore::new()?;
    let s = t.get();
    let mut model = KVec::with_capacity(SPACE as usize, GFP_KERNEL)?;
    for _ in 0..SPACE {
        model.push(0u64, GFP_KERNEL)?;
    }
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let all_values = [0, memattr_core::ATTR_PRIVATE, 1, 2, 3, 6, 7];
    let values = if chunks {
        &all_values[..3]
    } else {
        &all_values[..]
    };
    let (mut failed, mut applied) = (0u32, 0u32);
    for _ in 0..nr_ops {
        let mut start = rng.below(SPACE);
        let max = SPACE - start;
        let len = match rng.below(if chunks { 16 } else { 4 }) {
            0 => 1,
            1 => 1 + rng.below(max.min(64)),
            2 => 1 + rng.below(max),
            // Small chunks, most of them in one leaf or the node above.
            n if n > 3 => {
                let order = 1 + rng.below(8) as u32;
                start &= !(pages(order) - 1);
                pages(order)
            }
            // One aligned chunk: its clear may leave the store's kept path,
            // which later SETs land in, beside and over.
            _ => {
                let order = rng.below(13) as u32;
                start &= !(pages(order) - 1);
                pages(order)
            }
        };
        let value = values[rng.below(values.len() as u64) as usize];
        if inject {
            s.fail.arm(rng.below(6) as u32);
        }
        match t.set(start, start + len, value) {
            Ok(()) => {
                model[start as usize..(start + len) as usize].fill(value);
                applied += 1;
            }
            Err(e) if inject && e == ENOMEM => failed += 1,
            Err(e) => return Err(e),
        }
        s.fail.arm(0);
        check_against(s, &model, "after SET")?;
        if !inject {
            check_canonical(s, &model)?;
        }
    }
    let runs = model.windows(2).filter(|w| w[0] != w[1]).count() as u64 + 1;
    // SAFETY: this test's own store, no other user.
    let (entries, nodes) = unsafe { s.xa.count() };
    // Each run of n <= 2^12 pages decomposes into at most 2*12+2 chunks;
    // a failed SET may leave split halves behind (values unchanged).
    if entries > runs * 26 + u64::from(failed) * 2 * 24 {
        pr_err!("kunit: {entries} entries for {runs} runs\n");
        return Err(EINVAL);
    }

    pr_info!(
        "kunit: seed {seed}: {applied} SETs applied ({} by try_set), {failed} failed by injection, {runs} runs, {entries} entries, {nodes} nodes\n",
        t.1.get()
    );
    if inject && failed == 0 {
        pr_err!("kunit: injection never fired\n");
        return Err(EINVAL);
    }
    // The others need memory or reach past a node (chunks over smaller
    // entries' nodes, runs across nodes): a third to a half here.
    if chunks && t.1.get() < nr_ops / 4 {
        pr_err!("kunit: try_set() did only {} of {nr_ops} SETs\n", t.1.get());
        return Err(EINVAL);
    }
    Ok(())
}

/// Ok if `cond` holds, else logs what of which test failed.
fn expect(cond: bool, test: &str, what: &str) -> Result {
    if cond {
        Ok(())
    } else {
        pr_err!("kunit: {test}: {what}\n");
        Err(EINVAL)
    }
}

fn terabyte_test() -> Result {
    let t = TestStore::new()?;
    let s = t.get();
    let p = memattr_core::ATTR_PRIVATE;
    let (start, end) = (3u64, 3 + (1u64 << 28));
    t.set(start, end, p)?;
    let st = s.stats();
    pr_info!(
        "kunit: 1 TiB uniform: {} entries, {} nodes, {} bytes\n",
        st.entries,
        st.nodes,
        st.metadata_bytes
    );
    let check = |cond: bool, what: &str| expect(cond, "1 TiB", what);
    check(st.entries <= 2 * 29, "too many entries")?;
    check(
        st.metadata_bytes <= 64 * 1024,
        "more than 64 KiB of metadata",
    )?;
    check(s.xa.load(2) == 0 && s.xa.load(3) == p, "start boundary")?;
    check(
        s.xa.load(end - 1) == p && s.xa.load(end) == 0,
        "end boundary",
    )?;
    let r = s.reader();
    let run_from = |start| {
        memattr_core::get_run(
            &r,
            GfnRange {
                start,
                end: 1 << 40,
            },
        )
    };
    check(run_from(0) == (0, 3), "GET before")?;
    check(run_from(3) == (p, end), "GET run")?;
    // Punch one page out of the middle, then put it back: the run merges again.
    let mid = 1u64 << 27;
    t.set(mid, mid + 1, 0)?;
    check(
        s.xa.load(mid) == 0 && s.xa.load(mid - 1) == p && s.xa.load(mid + 1) == p,
        "punch",
    )?;
    check(run_from(3) == (p, mid), "GET after punch")?;
    t.set(mid, mid + 1, p)?;
    check(s.stats().entries <= 2 * 29, "run did not merge back")?;
    t.set(0, 1 << 40, 0)?;
    let st = s.stats();
    check(
        st.entries == 0 && st.nodes == 0,
        "clearing left entries or nodes",
    )?;
    Ok(())
}

/// The kept empty paths (`Writer::store_range`): a clear that empties its
/// node leaves a zero entry that keeps the node; SETs inside it, beside it,
/// of exactly it and over it read and store as if it were not there, and
/// the `KEPT`-th kept path after it frees it.
fn kept_path_test() -> Result {
    const ALL: GfnRange = GfnRange {
        start: 0,
        end: 1 << 40,
    };
    let t = TestStore::new()?;
    let s = t.get();
    let p = memattr_core::ATTR_PRIVATE;
    let check = |cond: bool, what: &str| expect(cond, "kept path", what);
    let only = |start: u64, end: u64, what: &str| -> Result {
        // Private on [start, end), nothing around it.
        let r = s.reader();
        let at = |g: u64| memattr_core::get(&r, g);
        check(
            at(start) == p && at(end - 1) == p && at(start - 1) == 0 && at(end) == 0,
            what,
        )?;
        check(
            memattr_core::get_run(&r, GfnRange { start, ..ALL }) == (p, end),
            what,
        )?;
        check(memattr_core::get_run(&r, ALL) == (0, start), what)
    };
    let nodes = |t: &TestStore| t.get().stats().nodes;
    let empty = |what: &str| -> Result {
        let r = s.reader();
        check(
            s.stats().entries == 0 && memattr_core::range_has(&r, ALL, !0, 0),
            what,
        )
    };
    let (b, far) = (0x10_0000u64, 0x400_0000u64);
    // A 2 MiB range converted private and back: its nodes stay.
    t.set(b, b + 512, p)?;
    let with_entry = nodes(&t);
    t.set(b, b + 512, 0)?;
    empty("2 MiB clear left an entry")?;
    check(nodes(&t) == with_entry, "2 MiB clear freed its nodes")?;
    // A page inside the kept 2 MiB: stored alone, not over the whole chunk.
    t.set(b + 5, b + 6, p)?;
    only(b + 5, b + 6, "page inside the kept 2 MiB")?;
    t.set(b + 5, b + 6, 0)?;
    empty("page clear left an entry")?;
    // Beside the kept page, then exactly it.
    t.set(b + 4, b + 5, p)?;
    only(b + 4, b + 5, "page beside the kept page")?;
    t.set(b + 4, b + 5, 0)?;
    t.set(b + 4, b + 5, p)?;
    only(b + 4, b + 5, "the kept page itself")?;
    t.set(b + 4, b + 5, 0)?;
    // A range over the kept page.
    t.set(b - 512, b + 1024, p)?;
    only(b - 512, b + 1024, "range over the kept page")?;
    t.set(b - 512, b + 1024, 0)?;
    empty("range clear left an entry")?;
    // As many kept pages far away, each in a node of its own, free the
    // path at `b`: their paths' nodes remain.
    t.set(b + 7, b + 8, p)?;
    t.set(b + 7, b + 8, 0)?;
    let alone = TestStore::new()?;
    for i in 0..KEPT as u64 {
        let g = far + i * 64;
        for t in [&t, &alone] {
            t.set(g, g + 1, p)?;
            t.set(g, g + 1, 0)?;
        }
        let freed = nodes(&t) == nodes(&alone);
        check(
            freed == (i + 1 == KEPT as u64),
            "the oldest path was not the one freed",
        )?;
    }
    check(nodes(&alone) > 0, "no path kept")?;
    // A clear of more than one chunk keeps nothing, and frees the kept paths
    // it touches.
    let all = far - 3..far + KEPT as u64 * 64;
    t.set(all.start, all.end, p)?;
    only(all.start, all.end, "range over the far pages")?;
    t.set(all.start, all.end, 0)?;
    empty("last clear left an entry")?;
    check(nodes(&t) == 0, "nodes left after the last clear")
}

/// SETs of ranges with no entry, which reserve only their first and last
/// chunks (`RangeStore::reserves_by_ends`): after `prepare()`, before
/// `commit()`, the node that holds every chunk's slots exists, so no store
/// of the commit allocates. Ranges of random start and length (up to 2^40
/// pages), beside an entry left in place, on one store.
fn by_ends_test(seed: u64, nr: u32) -> Result {
    let t = TestStore::new()?;
    let s = t.get();
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let p = memattr_core::ATTR_PRIVATE;
    let other = 1u64 << 45;
    t.set(other, other + 1, p)?;
    for _ in 0..nr {
        let (start_bits, len_bits) = (1 + rng.below(44), 1 + rng.below(40));
        let start = rng.below(1 << start_bits);
        let len = 1 + rng.below(1 << len_bits);
        let range = GfnRange {
            start,
            end: start + len,
        };
        if !s.prepare(range, p)? {
            pr_err!("kunit: by_ends: empty [{start}, +{len}) needs no SET\n");
            return Err(EINVAL);
        }
        let missing = memattr_core::chunks(range.start, range.end)
            .find(|&(c, order)| s.xa.slot_node(c, order).is_none());
        s.commit(range, p);
        if let Some((c, order)) = missing {
            pr_err!("kunit: by_ends: [{start}, +{len}): no node for chunk {c}/{order}\n");
            return Err(EINVAL);
        }
        if s.xa.load(start) != p || s.xa.load(range.end - 1) != p || s.xa.load(range.end) != 0 {
            pr_err!("kunit: by_ends: [{start}, +{len}) not stored\n");
            return Err(EINVAL);
        }
        t.set(range.start, range.end, 0)?;
    }
    // Only the entry left in place remains, in nodes of its own.
    if s.xa.load(other) != p || s.stats().entries != 1 {
        pr_err!("kunit: by_ends: the store did not return to one entry\n");
        return Err(EINVAL);
    }
    Ok(())
}

fn errno(r: Result) -> c_int {
    match r {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// Random SETs against the dense model; returns 0 or a negative errno.
#[no_mangle]
pub(crate) extern "C" fn kvm_memattr_kunit_model(
    seed: u64,
    nr_ops: u32,
    inject: bool,
    chunks: bool,
) -> c_int {
    errno(model_test(seed, nr_ops, inject, chunks))
}

/// Empty ranges reserved by their first and last chunks: every chunk's node exists.
#[no_mangle]
pub(crate) extern "C" fn kvm_memattr_kunit_by_ends(seed: u64, nr: u32) -> c_int {
    errno(by_ends_test(seed, nr))
}

/// The kept empty path: SETs in, beside, of and over it; the next frees it.
#[no_mangle]
pub(crate) extern "C" fn kvm_memattr_kunit_kept_path() -> c_int {
    errno(kept_path_test())
}

/// A uniform 1 TiB range: metadata, boundaries, punch and merge, clear.
#[no_mangle]
pub(crate) extern "C" fn kvm_memattr_kunit_terabyte() -> c_int {
    errno(terabyte_test())
}

/// The module's inline xarray encodings agree with the C inlines.
#[no_mangle]
pub(crate) extern "C" fn kvm_memattr_kunit_encodings() -> bool {
    xa::encodings_match_c()
}

/// Nanoseconds since boot.
fn now_ns() -> i64 {
    // SAFETY: `ktime_get` has no preconditions.
    unsafe { bindings::ktime_get() }
}

/// Random lookups as KVM's fault path makes them, `xa_load()`, on the
/// store's xarray (multi-index entries) against a per-page xarray holding
/// the same map, upstream's layout. Prints BENCH lines.
fn bench_lookup(fragmented: bool) -> Result {
    let pages: u64 = if fragmented { 1 << 14 } else { 1 << 18 };
    let t = TestStore::new()?;
    let per_page = KBox::pin_init(xa::XArray::new(), GFP_KERNEL)?;
    let p = memattr_core::ATTR_PRIVATE;
    if fragmented {
        for g in (0..pages).step_by(2) {
            t.set(g, g + 1, p)?;
            per_page.store(g, 0, p, GFP)?;
        }
    } else {
        t.set(0, pages, p)?;
        for g in 0..pages {
            per_page.store(g, 0, p, GFP)?;
        }
    }
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut gfns = KVec::with_capacity(4096, GFP_KERNEL)?;
    for _ in 0..4096 {
        gfns.push(rng.below(pages), GFP_KERNEL)?;
    }
    let rounds = 64;
    let mut sum = 0u64;
    let t0 = now_ns();
    for _ in 0..rounds {
        for &g in gfns.iter() {
            sum = sum.wrapping_add(t.get().xa.load(g));
        }
    }
    let t1 = now_ns();
    for _ in 0..rounds {
        for &g in gfns.iter() {
            sum = sum.wrapping_add(per_page.load(g));
        }
    }
    let t2 = now_ns();
    core::hint::black_box(sum);
    let n = (rounds * gfns.len()) as i64;
    let case = if fragmented {
        "lookup_fragmented"
    } else {
        "lookup_uniform"
    };
    pr_info!("BENCH kvm_memattr {case} {} ns\n", (t1 - t0) / n);
    pr_info!("BENCH upstream {case} {} ns\n", (t2 - t1) / n);
    // SAFETY: this test's own array, no other user.
    let (entries, nodes) = unsafe { per_page.count() };
    let st = t.get().stats();
    pr_info!("BENCH kvm_memattr {case}_entries {} entries\n", st.entries);
    pr_info!("BENCH upstream {case}_entries {entries} entries\n");
    let _ = nodes;
    Ok(())
}

/// Huge-page mixed recompute after a 1 GiB SET: one range query per 2 MiB
/// window, as kvm_arch_post_set_memory_attributes() does, on kvm_memattr
/// (O(entries) per query) against a per-index walk of the per-page xarray
/// (the loop of upstream's kvm_range_has_memory_attributes()).
fn bench_mixed() -> Result {
    let pages: u64 = 1 << 18;
    let t = TestStore::new()?;
    let per_page = KBox::pin_init(xa::XArray::new(), GFP_KERNEL)?;
    let p = memattr_core::ATTR_PRIVATE;
    t.set(0, pages, p)?;
    for g in 0..pages {
        per_page.store(g, 0, p, GFP)?;
    }
    let t0 = now_ns();
    let mut all = true;
    for w in (0..pages).step_by(512) {
        all &= memattr_core::range_has(
            &t.get().reader(),
            GfnRange {
                start: w,
                end: w + 512,
            },
            !0,
            p,
        );
    }
    let t1 = now_ns();
    for w in (0..pages).step_by(512) {
        all &= (w..w + 512).all(|g| per_page.load(g) == p);
    }
    let t2 = now_ns();
    if !all {
        pr_err!("kunit: bench_mixed: range query disagrees with the map\n");
        return Err(EINVAL);
    }
    pr_info!(
        "BENCH kvm_memattr mixed_recompute_1G {} us\n",
        (t1 - t0) / 1000
    );
    pr_info!(
        "BENCH upstream mixed_recompute_1G {} us\n",
        (t2 - t1) / 1000
    );
    Ok(())
}

/// SET and clear of an unmapped 1 TiB range starting one page in (the
/// ioctl bench's `set_unmapped_1T_unaligned`), inside the store and without
/// the ioctl, against what the xarray needs for it: the same chunks stored
/// and erased on a bare xarray under one hold of the lock, allocating and
/// freeing the same nodes, by the store's chunk loop (each walk from where
/// the previous chunk's ended); and the kernel's `xa_store_range()` over the
/// range, which walks from the root for each entry but stores fewer: one per
/// run of slots in a node, not aligned to a power of two (entries whose order
/// `xas_get_order()` cannot tell, so not a form the store can use). The
/// aligned range (one chunk) is the baseline of all.
/// Per operation (a SET or a clear), fastest of five rounds.
fn bench_unmapped() -> Result {
    const ROUNDS: usize = 5;
    const N: i64 = 200;
    let p = memattr_core::ATTR_PRIVATE;
    for (name, start) in [("aligned", 0u64), ("unaligned", 1)] {
        let end = start + (1 << 28);
        let t = TestStore::new()?;
        let bare = KBox::pin_init(xa::XArray::new(), GFP_KERNEL)?;
        let (mut store_ns, mut bare_ns, mut kernel_ns) = (i64::MAX, i64::MAX, i64::MAX);
        for _ in 0..ROUNDS {
            let t0 = now_ns();
            for _ in 0..N {
                t.set(start, end, p)?;
                t.set(start, end, 0)?;
            }
            let t1 = now_ns();
            for _ in 0..N {
                for value in [p, 0] {
                    bare.store_chunks(
                        memattr_core::chunks(start, end),
                        value,
                        bindings::GFP_NOWAIT,
                    )
                    .map_err(|_| ENOMEM)?;
                }
            }
            let t2 = now_ns();
            for _ in 0..N {
                for value in [p, 0] {
                    bare.store_range_walks(start, end - 1, value, bindings::GFP_KERNEL)?;
                }
            }
            let t3 = now_ns();
            store_ns = store_ns.min((t1 - t0) / (2 * N));
            bare_ns = bare_ns.min((t2 - t1) / (2 * N));
            kernel_ns = kernel_ns.min((t3 - t2) / (2 * N));
        }
        let chunks = memattr_core::chunks(start, end).count();
        pr_info!("BENCH kvm_memattr store_set_unmapped_1T_{name} {store_ns} ns\n");
        pr_info!("BENCH kvm_memattr xarray_floor_1T_{name}_{chunks}_chunks {bare_ns} ns\n");
        pr_info!("BENCH kvm_memattr xa_store_range_1T_{name} {kernel_ns} ns\n");
    }
    Ok(())
}

/// The parallel bench's 2 MiB conversions inside the store, without the
/// ioctl, zap or recompute: per SET or clear (fastest of five rounds), of a
/// range with nothing else in its 1 GiB (each SET allocates its nodes, each
/// clear frees them), beside a page of the same 16 MiB leaf node (the nodes
/// stay), and beside a private 2 MiB neighbour (each SET merges with it,
/// each clear splits it again).
fn bench_convert() -> Result {
    const ROUNDS: usize = 5;
    const N: i64 = 1000;
    const BASE: u64 = 0x10_0000;
    let p = memattr_core::ATTR_PRIVATE;
    for (name, other) in [
        ("alone", None),
        ("nodes_kept", Some((BASE + 4095, BASE + 4096))),
        ("merging", Some((BASE + 512, BASE + 1024))),
    ] {
        let t = TestStore::new()?;
        if let Some((start, end)) = other {
            t.set(start, end, p)?;
        }
        let mut best = i64::MAX;
        for _ in 0..ROUNDS {
            let t0 = now_ns();
            for _ in 0..N {
                t.set(BASE, BASE + 512, p)?;
                t.set(BASE, BASE + 512, 0)?;
            }
            best = best.min((now_ns() - t0) / (2 * N));
        }
        pr_info!("BENCH kvm_memattr store_convert_2M_{name} {best} ns\n");
    }
    Ok(())
}

/// Benchmarks, run only when the guest boots with
/// `kunit.filter_glob=kvm_memattr_bench` (make bench).
#[no_mangle]
pub(crate) extern "C" fn kvm_memattr_kunit_bench() -> c_int {
    errno(
        bench_lookup(false)
            .and_then(|()| bench_lookup(true))
            .and_then(|()| bench_mixed())
            .and_then(|()| bench_unmapped())
            .and_then(|()| bench_convert()),
    )
}
